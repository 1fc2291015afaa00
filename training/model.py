"""The denial model: a LightGBM classifier and the choice of its probability calibration
(the calibrator and the risk bands themselves are ``scoring.calibration``).

The model's shape is part of the serving design: exact TreeSHAP (LightGBM ``pred_contrib``)
cost grows with leaves and depth, so trees are kept small (15 leaves, depth 6) and the number
of rounds is chosen by early stopping on the validation window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import lightgbm as lgb
import numpy as np
from sklearn.metrics import brier_score_loss

from scoring.calibration import Calibrator

DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.08,
    "num_leaves": 15,
    "max_depth": 6,
    "min_data_in_leaf": 20,
    # Rare, nearly deterministic causes (a sex-specific code, a charge mismatch) sit in small
    # leaves whose rows are mostly denied: a low hessian floor lets trees isolate them.
    "min_sum_hessian_in_leaf": 0.05,
    "lambda_l2": 1.0,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "num_threads": 2,
    "deterministic": True,
    "force_row_wise": True,
    "seed": 0,
    "verbosity": -1,
}
MAX_ROUNDS = 1500
EARLY_STOPPING_ROUNDS = 50


def params_for(n_rows: int, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Defaults scaled for small practices: fewer rows get smaller leaves and a slower rate
    (measured: min 5 rows per leaf beat both larger leaves and stronger L2 below 20k claims)."""
    params = dict(DEFAULT_PARAMS)
    if n_rows < 20_000:
        params.update(min_data_in_leaf=5, learning_rate=0.05)
    params.update(overrides or {})
    return params


def fit_booster(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_valid: np.ndarray | None,
    y_valid: np.ndarray | None,
    feature_names: list[str],
    params: dict[str, Any],
    rounds: int | None = None,
) -> lgb.Booster:
    """Fit with early stopping on validation, or for a fixed number of ``rounds``."""
    train = lgb.Dataset(x_train, y_train, feature_name=feature_names, free_raw_data=False)
    if rounds is not None:
        return lgb.train(params, train, num_boost_round=rounds)
    valid = lgb.Dataset(x_valid, y_valid, reference=train)
    return lgb.train(
        params,
        train,
        num_boost_round=MAX_ROUNDS,
        valid_sets=[valid],
        callbacks=[lgb.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)],
    )


@dataclass(frozen=True)
class CalibrationChoice:
    calibrator: Calibrator
    brier: dict[str, float] = field(default_factory=dict)  # cross-fitted, per method


def choose_calibration(raw: np.ndarray, y: np.ndarray) -> CalibrationChoice:
    """Pick isotonic or Platt by cross-fitted Brier on the validation window (two time-ordered
    halves, each calibrated on the other), then fit the winner on the whole window."""
    half = len(raw) // 2
    folds = [(slice(0, half), slice(half, None)), (slice(half, None), slice(0, half))]
    brier: dict[str, float] = {"none": float(brier_score_loss(y, raw))}
    methods: tuple[Literal["isotonic", "platt"], ...] = ("isotonic", "platt")
    for method in methods:
        predicted = np.empty_like(raw)
        for fit_part, score_part in folds:
            calibrator = Calibrator.fit(raw[fit_part], y[fit_part], method)
            predicted[score_part] = calibrator(raw[score_part])
        brier[method] = float(brier_score_loss(y, predicted))
    best = min(methods, key=lambda m: brier[m])
    return CalibrationChoice(Calibrator.fit(raw, y, best), brier)
