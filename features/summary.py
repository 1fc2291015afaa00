"""A per-feature summary of a feature matrix: coverage, spread and how denials differ."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.rules import REGISTRY


def feature_summary(matrix: pd.DataFrame, denied: np.ndarray | None = None) -> pd.DataFrame:
    """One row per feature: category, share known, median, 95th percentile, share non-zero,
    and (given labels, NaN where unlabeled) the denial rate among claims where it is non-zero
    against where it is zero."""
    rows = []
    for name in matrix.columns:
        values = matrix[name].to_numpy(float)
        known = ~np.isnan(values)
        nonzero = known & (values != 0)
        row = {
            "feature": name,
            "category": REGISTRY.features[name].category,
            "known": known.mean(),
            "p50": np.nanmedian(values) if known.any() else np.nan,
            "p95": np.nanpercentile(values, 95) if known.any() else np.nan,
            "nonzero": nonzero.mean(),
        }
        if denied is not None:
            labeled = ~np.isnan(denied)
            row["denied_if_nonzero"] = _mean(denied[nonzero & labeled])
            row["denied_if_zero"] = _mean(denied[known & ~nonzero & labeled])
        rows.append(row)
    return pd.DataFrame(rows)


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if len(values) else float("nan")
