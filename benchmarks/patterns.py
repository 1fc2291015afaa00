"""Emerging-pattern monitor on a simulated history: detection delay and false alarms.

A weekly online scan (each scan sees only outcomes adjudicated by its date) over a simulated
history; the injected policy change of world.json is the change to find, the ground truth's
per-claim probabilities say whether any other alerted cell's true rate really rose.
Run: python -m benchmarks.patterns [--claims 200000] [--seeds 0 1 2] [--every 7]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

from analytics.detection import PolicyChange, evaluate_detection
from analytics.patterns import PatternSettings, count_cells, sequential
from features.history import load_history
from simulator import simulate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--claims", type=int, default=200_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--every", type=int, default=7, help="days between scans")
    parser.add_argument("--window", type=int, default=28, help="recent window, days")
    args = parser.parse_args()
    settings = PatternSettings(window_days=args.window)
    print(
        f"{'seed':>4} {'change':>24} {'effective':>10} {'first alert':>11} {'delay d':>7} "
        f"{'false':>5} {'episodes':>8} {'real':>5} {'new cell':>8} {'scans':>5} {'scan s':>6}"
    )
    for seed in args.seeds:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            simulate(folder, args.claims, seed=seed, requests=0)
            history = load_history(folder / "history")
            truth = pd.read_parquet(folder / "ground_truth.parquet")
            change = PolicyChange.from_world(folder / "world.json")
        began = time.perf_counter()
        counts = count_cells(history, settings.kinds)
        scanned = sequential(counts=counts, settings=settings, every_days=args.every)
        elapsed = time.perf_counter() - began
        result = evaluate_detection(scanned, counts, truth, change, settings)
        s = result.summary()
        first = s["first_alert"] or "never"
        delay = "-" if s["detection_delay_days"] is None else str(s["detection_delay_days"])
        print(
            f"{seed:4} {change.payer_id + ' x ' + change.procedure_code:>24} "
            f"{change.effective.date()!s:>10} {first:>11} {delay:>7} {s['false_alarms']:5} "
            f"{s['episodes']:8} {s['episodes_real_rise']:5} "
            f"{s['episodes_new_cell_above_peers']:8} {s['scans']:5} {elapsed:6.2f}"
        )
        false = result.episodes[result.episodes["verdict"] == "false alarm"]
        for row in false.itertuples():
            print(
                f"     false alarm {row.as_of.date()} {row.label}: {row.recent_denied}/"
                f"{row.recent_claims} denied, true rate {row.true_baseline_rate:.3f} -> "
                f"{row.true_recent_rate:.3f}"
            )


if __name__ == "__main__":
    main()
