"""The denial model: a LightGBM classifier (for a small history, blended with a linear model)
and the choice of its probability calibration (the calibrator and the risk bands themselves
are ``scoring.calibration``).

The model's shape is chosen on the user's own validation window, from a bounded set: exact
TreeSHAP (LightGBM ``pred_contrib``) costs about leaves x rounds, so every shape's rounds are
capped to keep one claim's reasons near a millisecond, and early stopping on the validation
window picks the rounds below that cap.

Below ``SMALL_DATA_ROWS`` training claims the model is the best shape's trees and a regularized
linear model averaged in log-odds (``scoring.blend``). On 12 small worlds (six independent
small practices, seeds 1-6, and the zoo's two tiny practices, seeds 21-23; about 2k labelled
claims each, 480-1,500 requests), the requests' mean AUC as a share of the oracle's was: trees
alone 0.845, linear alone 0.831, the better of the two on validation 0.850, the blend 0.863;
the blend beat both on 10 of the 12. A validation window of a few hundred claims cannot tell
the two apart reliably; their average does not need to.

For the same reason a small history's tree shape and rounds are chosen by 5-fold
cross-validated log loss on the whole training window instead of early stopping on the
validation window, and the refit's rounds grow with its claims. On the same 12 worlds the
mean AUC / oracle went from 0.8823 to 0.8858 (10 better or equal, none worse by more than
0.002); the mean ECE from 0.0395 to 0.0414, each world's moving by up to 0.018 either way
(any change of the model moves these few hundred requests' ECE that much; no calibrator
fitted on the history, Platt, isotonic or beta, on one window or out of fold, lowered it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, cast

import lightgbm as lgb
import numpy as np
from sklearn.metrics import roc_auc_score

from features.rules import REGISTRY
from scoring.artifact import Estimator, estimator_margin
from scoring.blend import Blend
from scoring.calibration import Calibrator
from scoring.linear import LinearModel

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
# Shapes tried on the validation window; each keeps exact TreeSHAP inside the serving budget.
SHAPES: dict[str, dict[str, Any]] = {
    "default": {"num_leaves": 15, "max_depth": 6},
    "shallow": {"num_leaves": 7, "max_depth": 3},
    "wide": {"num_leaves": 31, "max_depth": 8},
}
TREESHAP_BUDGET = 6000  # leaves x rounds: exact TreeSHAP for one claim under 1 ms via pred_contrib
SMALL_DATA_ROWS = 5000  # below this many training claims a linear model competes
CV_FOLDS = 5  # a small history's shape and rounds are chosen by this many folds


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
    max_rounds: int = MAX_ROUNDS,
) -> lgb.Booster:
    """Fit with early stopping on validation, or for a fixed number of ``rounds``."""
    train = _dataset(x_train, y_train, feature_names)
    if rounds is not None:
        return lgb.train(params, train, num_boost_round=rounds)
    valid = lgb.Dataset(x_valid, y_valid, reference=train)
    return lgb.train(
        params,
        train,
        num_boost_round=max_rounds,
        valid_sets=[valid],
        callbacks=[lgb.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)],
    )


def _dataset(x: np.ndarray, y: np.ndarray, feature_names: list[str]) -> lgb.Dataset:
    return lgb.Dataset(
        x,
        y,
        feature_name=feature_names,
        categorical_feature=[n for n in feature_names if n in categorical_features()],
        free_raw_data=False,
    )


def rounds_cap(params: dict[str, Any]) -> int:
    """The most rounds a shape may have inside the TreeSHAP budget."""
    return max(EARLY_STOPPING_ROUNDS, TREESHAP_BUDGET // int(params["num_leaves"]))


def cross_validated(
    x: np.ndarray, y: np.ndarray, feature_names: list[str], params: dict[str, Any]
) -> tuple[float, int]:
    """A shape's ``CV_FOLDS``-fold cross-validated log loss (stratified, seeded) and the rounds
    that reach it, early-stopped within the shape's cap."""
    folds = lgb.cv(
        {**params, "metric": "binary_logloss"},
        _dataset(x, y, feature_names),
        num_boost_round=rounds_cap(params),
        nfold=CV_FOLDS,
        stratified=True,
        seed=0,
        callbacks=[lgb.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)],
    )
    losses = cast(list[float], folds["valid binary_logloss-mean"])  # up to the best round
    return float(losses[-1]), len(losses)


@dataclass(frozen=True)
class Candidate:
    """One model fitted on the training window and scored on the validation window."""

    name: str  # a shape of ``SHAPES``, or "linear"
    estimator: Estimator
    params: dict[str, Any]
    rounds: int  # 0 for the linear model
    validation_auc: float
    cv_loss: float | None = None  # cross-validated log loss (a small history's shapes)
    cv_rows: int = 0  # claims whose cross-validation chose ``rounds``; 0: early-stopped

    def raw(self, x: np.ndarray) -> np.ndarray:
        """Uncalibrated probability."""
        return _raw(self.estimator, x)

    @property
    def refit_rounds(self) -> int:
        """Rounds of the refit on all labelled claims: 10% more for 15-30% more data."""
        return round(self.rounds * 1.1)

    def rounds_for(self, n_rows: int) -> int:
        """Rounds of a refit on ``n_rows`` claims: cross-validated rounds in proportion to the
        claims (within the TreeSHAP budget), early-stopped ones ``refit_rounds``."""
        if not self.cv_rows:
            return self.refit_rounds
        return min(rounds_cap(self.params), round(self.rounds * n_rows / self.cv_rows))

    def refit(self, x: np.ndarray, y: np.ndarray, names: list[str]) -> Estimator:
        """The same model on more claims."""
        if isinstance(self.estimator, LinearModel):
            return _linear(x, y, names)
        rounds = self.rounds_for(len(y))
        trees = fit_booster(x, y, None, None, names, self.params, rounds=rounds)
        if isinstance(self.estimator, Blend):
            return Blend(trees, _linear(x, y, names), self.estimator.weight)
        return trees


def categorical_features() -> set[str]:
    """Features whose values are levels of a vocabulary, not quantities."""
    return {feature.name for feature in REGISTRY if feature.kind == "code"}


def _linear(x: np.ndarray, y: np.ndarray, names: list[str]) -> LinearModel:
    codes = categorical_features()
    return LinearModel.fit(x, y, names, [i for i, n in enumerate(names) if n in codes])


def _raw(estimator: Estimator, x: np.ndarray) -> np.ndarray:
    """Uncalibrated probability (a booster early-stopped on validation predicts with its best
    iteration, which is its ``rounds``)."""
    return 1.0 / (1.0 + np.exp(-estimator_margin(estimator, x)))


def fit_candidates(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_valid: np.ndarray,
    y_valid: np.ndarray,
    names: list[str],
    overrides: dict[str, Any] | None = None,
) -> list[Candidate]:
    """Every shape, scored on validation; on a small history also the linear model and the
    blend of the best shape with it. Explicit ``overrides`` of the shape's parameters fix the
    shape: only it is fitted.

    A shape's rounds are early-stopped on validation; on a small history (below
    ``SMALL_DATA_ROWS``) they are cross-validated on the training window instead, and the
    shape of the lowest cross-validated log loss goes into the blend: a few thousand claims'
    folds judge more claims than a validation window of a few hundred."""
    shapes = SHAPES if not overrides else {"given": {}}
    small = len(y_train) < SMALL_DATA_ROWS and not overrides
    candidates = []
    for name, shape in shapes.items():
        params = params_for(len(y_train), {**shape, **(overrides or {})})
        if small:
            loss, rounds = cross_validated(x_train, y_train, names, params)
            booster = fit_booster(x_train, y_train, None, None, names, params, rounds=rounds)
            auc = float(roc_auc_score(y_valid, _raw(booster, x_valid)))
            candidates.append(Candidate(name, booster, params, rounds, auc, loss, len(y_train)))
            continue
        cap = rounds_cap(params)
        booster = fit_booster(x_train, y_train, x_valid, y_valid, names, params, max_rounds=cap)
        rounds = booster.best_iteration or booster.current_iteration()
        auc = float(roc_auc_score(y_valid, _raw(booster, x_valid)))
        candidates.append(Candidate(name, booster, params, rounds, auc))
    if small:
        linear = _linear(x_train, y_train, names)
        auc = float(roc_auc_score(y_valid, _raw(linear, x_valid)))
        candidates.append(Candidate("linear", linear, {}, 0, auc))
        trees = min(candidates[:-1], key=lambda c: cast(float, c.cv_loss))
        blend = Blend(cast(lgb.Booster, trees.estimator), linear)  # a shape's: a booster
        auc = float(roc_auc_score(y_valid, _raw(blend, x_valid)))
        candidates.append(
            Candidate("blend", blend, trees.params, trees.rounds, auc, trees.cv_loss, trees.cv_rows)
        )
    return candidates


def best(candidates: list[Candidate]) -> Candidate:
    """The blend where there is one (a small history); otherwise the highest validation AUC,
    on a tie the earlier (the default shape first)."""
    blend = [c for c in candidates if c.name == "blend"]
    return blend[0] if blend else _highest(candidates)


def _highest(candidates: list[Candidate]) -> Candidate:
    return max(candidates, key=lambda c: (c.validation_auc, -candidates.index(c)))


CALIBRATION_Z = 2.0  # how many standard errors a calibrator must lower the later Brier by


@dataclass(frozen=True)
class CalibrationChoice:
    calibrator: Calibrator
    brier: dict[str, float] = field(default_factory=dict)  # on the later window, per method
    z: dict[str, float] = field(default_factory=dict)  # paired change against "none", in SEs


def choose_calibration(
    raw: np.ndarray, y: np.ndarray, later_raw: np.ndarray, later_y: np.ndarray
) -> CalibrationChoice:
    """Isotonic, Platt or none: each fitted on the validation window (``raw``, ``y``) and
    judged forward in time, on the window after it (``later_*``), as a model is used.

    LightGBM trained on log-loss is close to calibrated; a calibrator fitted on a few
    thousand claims also fits their noise, and isotonic steps fitted to one window made a
    later window's Brier worse on most simulated worlds even where cross-fitting inside the
    window favoured them. So a calibrator is kept only when it lowers the later window's
    Brier by more than ``CALIBRATION_Z`` standard errors of the paired per-claim change; of
    those, the lowest Brier wins."""
    methods: tuple[Literal["isotonic", "platt"], ...] = ("isotonic", "platt")
    fitted = {method: Calibrator.fit(raw, y, method) for method in methods}
    base = (later_raw - later_y) ** 2
    brier: dict[str, float] = {"none": float(base.mean())}
    z: dict[str, float] = {}
    for method, calibrator in fitted.items():
        change = (calibrator(later_raw) - later_y) ** 2 - base
        brier[method] = float(base.mean() + change.mean())
        spread = change.std(ddof=1) / np.sqrt(len(change)) if len(change) > 1 else 0.0
        z[method] = float(change.mean() / spread) if spread > 0 else 0.0
    kept = [m for m in methods if z[m] < -CALIBRATION_Z]
    if not kept:
        return CalibrationChoice(Calibrator("none"), brier, z)
    return CalibrationChoice(fitted[min(kept, key=lambda m: brier[m])], brier, z)
