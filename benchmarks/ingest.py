"""X12 throughput: write a simulated history as 837P + 835 files, then time the ingest.

Goal: 100k claims ingested in under 60 s.
Run: python -m benchmarks.ingest [--claims 100000] [--files 10]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from features.history import History, load_history
from features.x12 import ingest
from simulator import simulate
from simulator.x12_835 import write_835
from simulator.x12_837 import write_837p


def write_files(history: History, out: Path, files: int) -> tuple[list[Path], list[Path]]:
    """The history as ``files`` 837P files (by submission date) and as many 835 files."""
    claims = history.claims.sort_values(["submission_date", "claim_id"], kind="stable")
    claim_files, remit_files = [], []
    for number, part in enumerate(np.array_split(np.arange(len(claims)), files), start=1):
        chunk = claims.iloc[part]
        ids = chunk["claim_id"]
        lines = history.claim_lines[history.claim_lines["claim_id"].isin(ids)]
        outcomes = history.outcomes[history.outcomes["claim_id"].isin(ids)]
        claim_file, remit_file = out / f"claims-{number:03d}.837", out / f"remits-{number:03d}.835"
        claim_file.write_text(write_837p(chunk, lines, control=number))
        remit_file.write_text(write_835(outcomes, chunk, control=number))
        claim_files.append(claim_file)
        remit_files.append(remit_file)
    return claim_files, remit_files


def measure(claims: int, files: int, folder: Path) -> dict[str, float]:
    timings: dict[str, float] = {}
    started = time.perf_counter()
    simulate(folder / "world", claims, seed=11, requests=0)
    timings["simulate"] = time.perf_counter() - started
    step = time.perf_counter()
    history = load_history(folder / "world" / "history")
    timings["load simulated history"] = time.perf_counter() - step
    x12 = folder / "x12"
    x12.mkdir()
    step = time.perf_counter()
    claim_files, remit_files = write_files(history, x12, files)
    timings["write 837P + 835"] = time.perf_counter() - step
    megabytes = sum(p.stat().st_size for p in claim_files + remit_files) / 1e6
    step = time.perf_counter()
    report = ingest(claim_files, remit_files, folder / "history")
    timings["ingest"] = time.perf_counter() - step
    assert report.claims_added == claims, report
    step = time.perf_counter()
    again = ingest(claim_files, remit_files, folder / "history", append=True)
    timings["re-ingest (all already ingested)"] = time.perf_counter() - step
    assert again.claims_added == 0 and again.files_already_ingested == 2 * files
    step = time.perf_counter()
    load_history(folder / "history")
    timings["load_history of the result"] = time.perf_counter() - step
    print(f"{megabytes:,.1f} MB of X12 in {2 * files} files; {report.outcomes_added:,} outcomes")
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--files", type=int, default=10, help="837P files (and as many 835s)")
    arguments = parser.parse_args()
    claims = arguments.claims
    with tempfile.TemporaryDirectory() as tmp:
        timings = measure(claims, arguments.files, Path(tmp))
    print(f"\n{claims:,} claims")
    for name, seconds in timings.items():
        print(f"  {name:34s} {seconds:7.1f} s  {claims / seconds:12,.0f} claims/s")
    verdict = "met" if timings["ingest"] < 60 else "MISSED"
    print(f"  goal: ingest under 60 s: {verdict}")


if __name__ == "__main__":
    main()
