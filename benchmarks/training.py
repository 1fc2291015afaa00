"""Training time and peak memory at a given history size (default 1M claims).

Run: python -m benchmarks.training [--claims 1000000]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from itertools import pairwise
from pathlib import Path

import pandas as pd

from features.history import load_history
from simulator import simulate
from training.train import train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--claims", type=int, default=1_000_000)
    claims = parser.parse_args().claims
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        simulate(folder, claims, seed=5, requests=100)
        truth = pd.read_parquet(folder / "ground_truth.parquet")
        started = time.perf_counter()
        history = load_history(folder / "history")
        loaded = time.perf_counter()
        steps: list[tuple[str, float]] = []
        result = train(
            history, truth=truth, progress=lambda s, *_: steps.append((s, time.perf_counter()))
        )
        done = time.perf_counter()
    print(
        f"{claims:,} claims: load {loaded - started:.0f} s, train (features, fit, "
        f"calibrate, evaluate, refit) {done - loaded:.0f} s, total {done - started:.0f} s"
    )
    marks = [*steps, ("end", done)]
    for (name, at), (_, until) in pairwise(marks):
        print(f"  {until - at:6.1f} s  {name}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(
        f"peak memory {peak:.1f} GB; rounds {result.metrics['rounds']:.0f}; "
        f"test AUC {result.metrics['lgbm_roc_auc']:.4f} "
        f"(oracle {result.metrics['oracle_roc_auc']:.4f})"
    )


if __name__ == "__main__":
    main()
