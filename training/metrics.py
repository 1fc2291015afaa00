"""Evaluation figures of a denial model on one window."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    precision_recall_curve,
    roc_auc_score,
)

from features.categories import CATEGORIES


def recall_at_precision(y: np.ndarray, p: np.ndarray, target: float) -> float:
    """The highest recall at which precision is at least ``target`` (0 if never reached)."""
    precision, recall, _ = precision_recall_curve(y, p)
    reaching = precision >= target
    return float(recall[reaching].max()) if reaching.any() else 0.0


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 15) -> float:
    """Weighted mean |observed - predicted| over equal-count probability bins."""
    order = np.argsort(p, kind="stable")
    error = 0.0
    for chunk in np.array_split(order, bins):
        if len(chunk):
            error += len(chunk) * abs(y[chunk].mean() - p[chunk].mean())
    return float(error / len(p))


def classification_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    return {
        "roc_auc": float(roc_auc_score(y, p)),
        "pr_auc": float(average_precision_score(y, p)),
        "recall_at_90_precision": recall_at_precision(y, p, 0.90),
        "recall_at_95_precision": recall_at_precision(y, p, 0.95),
        "brier": float(brier_score_loss(y, p)),
        "ece": expected_calibration_error(y, p),
        "denial_rate": float(y.mean()),
        "n": float(len(y)),
    }


def category_recall(true_category: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """Per denial category: the share of its denied claims whose top reason names it (the
    reason billers see, ``scoring.reasons.top_reason``: None when no category reaches the
    floor, which counts as a miss)."""
    recall: dict[str, float] = {}
    for category in CATEGORIES:
        mine = true_category == category
        if mine.sum():
            recall[category] = float((predicted[mine] == category).mean())
    hits = [predicted[true_category == c] == c for c in recall]
    recall["all"] = float(np.concatenate(hits).mean()) if hits else float("nan")
    return recall
