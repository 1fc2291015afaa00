"""Evaluation plots of a training run, written as PNG files."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import shap
from sklearn.calibration import calibration_curve
from sklearn.metrics import precision_recall_curve

from features.categories import CATEGORIES


def calibration_plot(y: np.ndarray, p: np.ndarray, path: Path) -> Path:
    observed, predicted = calibration_curve(y, p, n_bins=15, strategy="quantile")
    figure, axis = plt.subplots(figsize=(5, 5))
    axis.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect")
    axis.plot(predicted, observed, marker="o", label="model")
    axis.set(
        xlabel="predicted denial probability",
        ylabel="observed denial rate",
        title="Calibration (test window)",
    )
    axis.legend()
    return _save(figure, path)


def pr_plot(y: np.ndarray, curves: dict[str, np.ndarray], path: Path) -> Path:
    figure, axis = plt.subplots(figsize=(6, 5))
    for name, p in curves.items():
        precision, recall, _ = precision_recall_curve(y, p)
        axis.plot(recall, precision, label=name)
    axis.axhline(y.mean(), linestyle="--", color="grey", label="denial rate")
    axis.set(xlabel="recall", ylabel="precision", title="Precision-recall (test window)")
    axis.legend()
    return _save(figure, path)


def shap_summary_by_category(category_contributions: np.ndarray, path: Path) -> Path:
    """SHAP summary (mean |log-odds| per category) drawn by the shap package."""
    shap.summary_plot(
        category_contributions,
        feature_names=list(CATEGORIES),
        plot_type="bar",
        show=False,
        max_display=len(CATEGORIES),
    )
    figure = plt.gcf()
    figure.suptitle("Reasons by category: mean |SHAP| (log-odds), test window")
    return _save(figure, path)


def shap_beeswarm(contributions: np.ndarray, x: np.ndarray, names: list[str], path: Path) -> Path:
    shap.summary_plot(contributions[:, :-1], x, feature_names=names, show=False, max_display=20)
    return _save(plt.gcf(), path)


def _save(figure: plt.Figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
