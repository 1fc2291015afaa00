"""Learning curve for small practices: test AUC at 2k, 5k, 20k and 100k training claims.

Each size is its own simulated world (same seed, same rules), trained with the defaults.
Run: python -m benchmarks.learning_curve [--sizes 2000 5000 20000 100000]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import pandas as pd

from features.history import load_history
from simulator import simulate
from training.train import train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 5000, 20000, 100000])
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    print(f"{'claims':>8} {'train':>7} {'AUC':>7} {'oracle':>7} {'ratio':>6} {'logistic':>8}")
    for claims in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            simulate(folder, claims, seed=args.seed, requests=100)
            truth = pd.read_parquet(folder / "ground_truth.parquet")
            result = train(load_history(folder / "history"), truth=truth, refit=False)
        m = result.metrics
        n_train = int(result.split.masks["train"].sum())
        print(
            f"{claims:8,} {n_train:7,} {m['lgbm_roc_auc']:7.4f} {m['oracle_roc_auc']:7.4f} "
            f"{m['auc_ratio_to_oracle']:6.3f} {m['logistic_roc_auc']:8.4f}"
        )


if __name__ == "__main__":
    main()
