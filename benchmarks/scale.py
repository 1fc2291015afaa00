"""Scale: time per stage and peak memory of one process against ``--cluster``.

Run one size and one path per call (each in a fresh process, so peak memory is its own):

    python -m benchmarks.scale --claims 1000000 --path single
    python -m benchmarks.scale --claims 1000000 --path cluster [--cluster local|tcp://HOST:8786]

The world (``--world``, default a folder under the system temp dir) is simulated once per size
in a child process, as single files and as month-partitioned datasets. Stages: load and
validate, features (the feature state and every claim's features), fit (the evaluation fit),
the rest of training (calibration, evaluation, refit), and scoring ``--requests`` claim
requests with reasons for every claim (``--score-rounds R`` scores them R times over, as R
times as many files on a cluster, for a steady-state rate). Prints one JSON document: seconds
and claims/s per stage (scoring also per core), the peak memory of this process and (cluster)
of every worker, and the test AUC.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow.json as pj
import pyarrow.parquet as pq

GB = 1024**2  # ru_maxrss is in KiB on Linux


def _simulate(folder: Path, claims: int, requests: int, fmt: str) -> None:
    from simulator import simulate

    simulate(folder, claims, seed=5, requests=requests, fmt=fmt)  # type: ignore[arg-type]


def world(root: Path, claims: int, requests: int, partitioned: bool) -> Path:
    """The simulated world of this size (simulated in a child process the first time)."""
    folder = root / f"{claims}-{'partitioned' if partitioned else 'files'}"
    if not (folder / "world.json").exists():
        fmt = "partitioned" if partitioned else "parquet"
        child = multiprocessing.get_context("spawn").Process(
            target=_simulate, args=(folder, claims, requests, fmt)
        )
        child.start()
        child.join()
        if child.exitcode != 0:
            raise SystemExit(f"simulating {claims:,} claims failed (exit {child.exitcode})")
        table = pj.read_json(folder / "requests.jsonl")
        (folder / "requests").mkdir(exist_ok=True)
        per_file = -(-table.num_rows // 4)
        for i in range(4):
            pq.write_table(table.slice(i * per_file, per_file), folder / f"requests/{i}.parquet")
    return folder


class Stages:
    """Seconds between the progress messages of training, grouped into stages."""

    def __init__(self) -> None:
        self.marks: list[tuple[str, float]] = []

    def __call__(self, message: str, done: int = 0, total: int = 0) -> None:
        self.marks.append((message, time.perf_counter()))
        # As it happens, on stderr: a run stopped early still tells where its time went
        print(f"{self.marks[-1][1] - self.marks[0][1]:8.1f} s  {message}", file=sys.stderr)

    def _at(self, *starts: str) -> int | None:
        return next((i for i, (m, _) in enumerate(self.marks) if m.startswith(starts)), None)

    def seconds(self, end: float) -> dict[str, float]:
        """features: the state and every claim's features; choose (cluster): the shapes and
        rounds on an in-process sample; fit: choosing among the shapes on the whole training
        window (one process) or the distributed fit of the chosen one (cluster); the rest:
        calibration, category map, evaluation and refit."""
        stamps = [t for _, t in self.marks] + [end]
        choose = self._at("choosing the model shape")
        fit = self._at("fitting model shapes", "fitting LightGBM")
        rest = self._at("calibrating")
        if fit is None or rest is None:
            raise ValueError(f"unexpected progress messages: {[m for m, _ in self.marks]}")
        first_fit = fit if choose is None else choose
        seconds = {"features": stamps[first_fit] - stamps[0]}
        if choose is not None:
            seconds["choose"] = stamps[fit] - stamps[choose]
        seconds["fit"] = stamps[rest] - stamps[fit]
        seconds["calibrate_evaluate_refit"] = end - stamps[rest]
        return seconds


def _rates(seconds: dict[str, float], claims: int, requests: int) -> dict[str, float]:
    counts = {"load": claims, "features": claims, "fit": claims, "score": requests}
    return {stage: round(counts[stage] / seconds[stage]) for stage in counts if stage in seconds}


def single(folder: Path, rounds: int) -> dict[str, Any]:
    from features.history import load_history
    from features.uploads import parse_upload
    from scoring.scorer import Scorer, score_in_place
    from training.train import train

    started = time.perf_counter()
    history = load_history(folder / "history")
    seconds = {"load": time.perf_counter() - started}
    stages = Stages()
    result = train(history, progress=stages)
    seconds |= stages.seconds(time.perf_counter())
    lines = (folder / "requests.jsonl").read_text().splitlines()
    chunks = [  # an upload holds at most MAX_BATCH claims
        parse_upload("\n".join(lines[start : start + 5000]), "jsonl")
        for start in range(0, len(lines), 5000)
    ]
    scorer = Scorer(result.model, version="bench", source="bench")
    chunks *= rounds
    started = time.perf_counter()
    for chunk in chunks:
        score_in_place(scorer, chunk, "all")
    seconds["score"] = time.perf_counter() - started
    scored = sum(len(chunk) for chunk in chunks)
    return {"seconds": seconds, "auc": result.metrics["lgbm_roc_auc"], "scored": scored}


def _peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / GB


def _repeated(files: Path, rounds: int, into: Path) -> Path:
    """A folder holding every request file ``rounds`` times (as links)."""
    into.mkdir(parents=True)
    for r in range(rounds):
        for file in sorted(files.glob("*.parquet")):
            (into / f"{r}-{file.name}").symlink_to(file.resolve())
    return into


def cluster(folder: Path, address: str, out: Path, rounds: int) -> dict[str, Any]:
    from features.cluster import connect
    from features.partitioned import load_partitioned
    from scoring.distributed import score_on_cluster
    from scoring.scorer import Scorer
    from training.distributed import train_distributed

    with connect(address) as client:
        workers = client.scheduler_info()["workers"]
        started = time.perf_counter()
        history = load_partitioned(client, str(folder / "history"))
        seconds = {"load": time.perf_counter() - started}
        stages = Stages()
        result = train_distributed(history, progress=stages)
        seconds |= stages.seconds(time.perf_counter())
        scorer = Scorer(result.model, version="bench", source="bench")
        started = time.perf_counter()
        requests = _repeated(folder / "requests", rounds, out / "requests")
        files = score_on_cluster(client, scorer, str(requests), str(out / "scores"), "all")
        seconds["score"] = time.perf_counter() - started
        peaks = client.run(_peak_gb)
        return {
            "seconds": seconds,
            "auc": result.metrics["lgbm_roc_auc"],
            "scored": sum(f.scored for f in files),
            "groups": len(history.groups),
            "workers": {
                a: {"threads": w["nthreads"], "memory_limit_gb": w["memory_limit"] / 1024**3}
                for a, w in workers.items()
            },
            "worker_peak_gb": {a: round(p, 2) for a, p in peaks.items()},
        }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--claims", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--path", choices=("single", "cluster"), required=True)
    parser.add_argument("--cluster", default="local")
    parser.add_argument("--score-rounds", type=int, default=1)
    parser.add_argument(
        "--world", type=Path, default=Path(tempfile.gettempdir()) / "claimrisk-scale"
    )
    args = parser.parse_args()
    # Stdout carries the figures alone: the chatter of workers and of LightGBM's network
    # set-up (printed by the worker processes, which inherit this process's stdout) goes to
    # stderr.
    figures_out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    folder = world(args.world, args.claims, args.requests, partitioned=args.path == "cluster")
    if args.path == "single":
        figures = single(folder, args.score_rounds)
        cores = os.cpu_count() or 1  # a batch's TreeSHAP runs on every core
    else:
        with tempfile.TemporaryDirectory() as scratch:
            figures = cluster(folder, args.cluster, Path(scratch), args.score_rounds)
        cores = sum(w["threads"] for w in figures["workers"].values())
    figures["claims"] = args.claims
    figures["path"] = args.path
    figures["claims_per_second"] = _rates(figures["seconds"], args.claims, figures["scored"])
    figures["scoring_claims_per_second_per_core"] = round(
        figures["claims_per_second"]["score"] / cores
    )
    figures["seconds"] = {k: round(v, 1) for k, v in figures["seconds"].items()}
    figures["seconds"]["total"] = round(sum(figures["seconds"].values()), 1)
    figures["client_peak_gb"] = round(_peak_gb(), 2)
    print(json.dumps(figures, indent=2), file=figures_out, flush=True)


if __name__ == "__main__":
    main()
