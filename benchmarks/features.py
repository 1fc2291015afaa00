"""Feature-pipeline throughput at 100k and 1M claims (load, facts, fit state, features).

Run: python -m benchmarks.features [--sizes 100000 1000000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from features.batch import batch_from_history
from features.facts import build_facts
from features.history import load_history
from features.pipeline import compute_features, fit_state, outcomes_for
from simulator import simulate


def measure(claims: int, folder: Path) -> dict[str, float]:
    simulate(folder, claims, seed=11, requests=100)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    history = load_history(folder / "history")
    timings["load+validate"] = time.perf_counter() - started
    step = time.perf_counter()
    facts = build_facts(batch_from_history(history))
    timings["facts"] = time.perf_counter() - step
    step = time.perf_counter()
    state = fit_state(facts, outcomes_for(history, history.claims["claim_id"]))
    timings["fit state"] = time.perf_counter() - step
    step = time.perf_counter()
    matrix = compute_features(facts, state)
    timings["features"] = time.perf_counter() - step
    timings["pipeline (facts+fit+features)"] = (
        timings["facts"] + timings["fit state"] + timings["features"]
    )
    assert len(matrix) == claims
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    sizes = parser.parse_args().sizes
    for claims in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            timings = measure(claims, Path(tmp))
        print(f"\n{claims:,} claims")
        for name, seconds in timings.items():
            print(f"  {name:32s} {seconds:7.1f} s  {claims / seconds:12,.0f} claims/s")


if __name__ == "__main__":
    main()
