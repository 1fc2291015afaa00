"""Fit, calibrate and evaluate a denial model on a time split, then refit on all history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from features.history import History, known_at
from scoring.artifact import ClaimRiskModel
from scoring.calibration import RiskBands
from scoring.category_map import CategoryMap
from scoring.reasons import top_reason
from training.dataset import Dataset, TimeSplit, build_dataset, time_split, with_context_dropout
from training.metrics import category_recall, classification_metrics
from training.model import best, categorical_features, choose_calibration, fit_candidates

MODEL_NAME = "claimrisk"
SHAP_SAMPLE = 5000
CONTEXT_DROPOUT = 0.05  # share of training claims seen without each kind of context
Progress = Callable[[str, int, int], None]  # (what now, steps done, steps in all)


@dataclass
class TrainResult:
    model: ClaimRiskModel  # the model to register (refit on all history unless no_refit)
    metrics: dict[str, float]  # flat: lgbm_*, logistic_*, prior_*, recall_*, oracle_*
    split: TimeSplit
    dataset: Dataset
    test_probability: np.ndarray
    test_explained: np.ndarray  # test claims with exact SHAP: every denied one and a sample
    test_contributions: np.ndarray  # for the explained test claims
    test_top_category: np.ndarray  # None where not explained
    test_by_category: np.ndarray  # the explained test claims' SHAP summed per category
    calibration_brier: dict[str, float] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)


def logistic_baseline(x_train: np.ndarray, y_train: np.ndarray) -> Any:
    """Logistic regression on the same features (median-imputed with missing flags, scaled)."""
    model = make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
        StandardScaler(),
        LogisticRegression(C=1.0, max_iter=1000),
    )
    return model.fit(x_train, y_train)


def _window(history: History) -> dict[str, str]:
    dates = history.claims["submission_date"]
    return {"from": str(dates.min().date()), "to": str(dates.max().date())}


def train(
    history: History,
    *,
    until: dt.date | None = None,
    refit: bool = True,
    params: dict[str, Any] | None = None,
    truth: pd.DataFrame | None = None,
    progress: Progress = lambda *_: None,
) -> TrainResult:
    """Train and evaluate; ``truth`` (simulated histories) adds the oracle AUC; ``progress``
    hears each step as it starts (message, steps done, steps in all)."""
    steps = 5 if refit else 4
    if until is not None:
        history = known_at(history, pd.Timestamp(until))
    progress("computing features", 0, steps)
    dataset = build_dataset(history)
    split = time_split(dataset)
    dataset = with_context_dropout(dataset, split.masks["train"], CONTEXT_DROPOUT)
    names = dataset.features.columns.tolist()
    x_train, y_train = dataset.rows(split.masks["train"])
    x_valid, y_valid = dataset.rows(split.masks["validation"])
    x_test, y_test = dataset.rows(split.masks["test"])

    progress(f"fitting model shapes on {len(y_train):,} claims (chosen on validation)", 1, steps)
    candidates = fit_candidates(x_train, y_train, x_valid, y_valid, names, params)
    chosen = best(candidates)
    progress(f"calibrating the {chosen.name} model and setting risk bands", 2, steps)
    raw_valid = chosen.raw(x_valid)
    calibration = choose_calibration(raw_valid, y_valid, chosen.raw(x_test), y_test)
    bands = RiskBands.fit(calibration.calibrator(raw_valid), y_valid)
    evaluated = ClaimRiskModel(chosen.estimator, dataset.state, calibration.calibrator, bands)
    progress("learning the category payers give the denials each feature predicts", 2, steps)
    evaluated.category_map = fit_category_map(evaluated, dataset, split.masks["train"])

    progress("evaluating on the test window against baselines", 3, steps)
    p_test = evaluated.probability(x_test)
    # Exact TreeSHAP for the denied claims (reason recall) and a sample (plots): all of a
    # large test window would cost more than the training itself.
    explained = (y_test == 1) | (
        np.random.default_rng(0).random(len(y_test)) < SHAP_SAMPLE / len(y_test)
    )
    contributions = evaluated.contributions(x_test[explained])
    metrics = _prefixed("lgbm", classification_metrics(y_test, p_test))
    logistic = logistic_baseline(x_train, y_train)
    metrics |= _prefixed(
        "logistic", classification_metrics(y_test, logistic.predict_proba(x_test)[:, 1])
    )
    metrics |= _prefixed(
        "prior", classification_metrics(y_test, np.full(len(y_test), y_train.mean()))
    )
    top = np.full(len(y_test), None, dtype=object)
    payers = dataset.payers[split.masks["test"]][explained]
    by_category = evaluated.category_contributions(contributions, x_test[explained], payers)
    top[explained] = top_reason(by_category)
    denied = y_test == 1
    true_category = dataset.category[split.masks["test"]]
    metrics |= _prefixed("recall", category_recall(true_category[denied], top[denied]))
    metrics["rounds"] = float(chosen.rounds)
    metrics |= {f"validation_auc_{c.name}": c.validation_auc for c in candidates}
    if truth is not None:
        metrics |= _oracle(truth, dataset, split, p_test, top)

    model = evaluated
    if refit:
        progress(f"refitting on all {int(dataset.labeled.sum()):,} labelled claims", 4, steps)
        later = dataset.labeled & ~split.masks["train"]
        x_all, y_all = with_context_dropout(dataset, later, CONTEXT_DROPOUT, seed=1).rows(
            dataset.labeled
        )
        model = ClaimRiskModel(
            chosen.refit(x_all, y_all, names), dataset.state, calibration.calibrator, bands
        )
        model.category_map = fit_category_map(model, dataset, dataset.labeled)
    model.meta = {
        "name": MODEL_NAME,
        "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "training_window": _window(history),
        "split": split.describe(),
        "refit": refit,
        "metrics": metrics,
        "metrics_of": "the evaluation model on the test window of the time split",
    }
    return TrainResult(
        model=model,
        metrics=metrics,
        split=split,
        dataset=dataset,
        test_probability=p_test,
        test_explained=explained,
        test_contributions=contributions,
        test_top_category=top,
        test_by_category=by_category,
        calibration_brier=calibration.brier,
        params=chosen.params | {"rounds": chosen.rounds, "estimator": chosen.name},
    )


def fit_category_map(model: ClaimRiskModel, dataset: Dataset, rows: np.ndarray) -> CategoryMap:
    """The category map from the denied claims among ``rows`` (a seeded sample of at most
    ``SHAP_SAMPLE``: exact TreeSHAP of every denial of a large history costs more than the
    fit)."""
    denied = np.flatnonzero(rows & (dataset.label == 1))
    if len(denied) > SHAP_SAMPLE:
        denied = np.sort(np.random.default_rng(0).choice(denied, SHAP_SAMPLE, replace=False))
    x = dataset.features.to_numpy(float)[denied]
    return CategoryMap.fit(
        model.contributions(x),
        dataset.payers[denied],
        dataset.category[denied],
        model.state.categories,
        x,
        frozenset(categorical_features()),
    )


def _prefixed(prefix: str, values: dict[str, float]) -> dict[str, float]:
    return {f"{prefix}_{name}": value for name, value in values.items()}


def _oracle(
    truth: pd.DataFrame, dataset: Dataset, split: TimeSplit, p_test: np.ndarray, top: np.ndarray
) -> dict[str, float]:
    """Oracle AUC from the simulator's true probabilities on the same test claims, and the
    top-reason hit rate on denied claims with exactly one true cause."""
    ids = dataset.features.index.to_numpy()[split.masks["test"]]
    known = truth.set_index("claim_id").reindex(ids)
    y = dataset.label[split.masks["test"]]
    oracle_auc = float(roc_auc_score(y, known["true_probability"].to_numpy(float)))
    model_auc = float(roc_auc_score(y, p_test))
    single = (y == 1) & (known["n_fired"].to_numpy() == 1)
    hits = top[single] == known["true_category"].to_numpy(dtype=object)[single]
    return {
        "oracle_roc_auc": oracle_auc,
        "auc_ratio_to_oracle": model_auc / oracle_auc,
        "single_cause_top_reason_hit": float(hits.mean()) if single.any() else float("nan"),
        "single_cause_denials": float(single.sum()),
    }
