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
from features.pipeline import FeatureState
from scoring.artifact import ClaimRiskModel, Estimator
from scoring.calibration import RiskBands
from scoring.category_map import CategoryMap
from scoring.reasons import top_reason
from training.dataset import Dataset, TimeSplit, build_dataset, time_split, with_context_dropout
from training.metrics import category_recall, classification_metrics
from training.model import (
    Candidate,
    best,
    categorical_features,
    choose_calibration,
    fit_candidates,
)

MODEL_NAME = "claimrisk"
SHAP_SAMPLE = 5000
CONTEXT_DROPOUT = 0.05  # share of training claims seen without each kind of context
Progress = Callable[[str, int, int], None]  # (what now, steps done, steps in all)


@dataclass(frozen=True)
class Window:
    """Claims of one window of the time split, in the history's order: what calibration,
    the category map and evaluation read (on a cluster, gathered from the workers)."""

    claim_ids: np.ndarray
    features: np.ndarray
    label: np.ndarray
    category: np.ndarray  # denial category or None
    payers: np.ndarray

    @staticmethod
    def of(dataset: Dataset, rows: np.ndarray) -> Window:
        """The claims of ``rows`` (a mask or positions) of a dataset."""
        return Window(
            claim_ids=dataset.features.index.to_numpy()[rows],
            features=dataset.features.to_numpy(float)[rows],
            label=dataset.label[rows],
            category=dataset.category[rows],
            payers=np.asarray(dataset.payers)[rows],
        )


@dataclass
class TrainResult:
    model: ClaimRiskModel  # the model to register (refit on all history unless no_refit)
    metrics: dict[str, float]  # flat: lgbm_*, logistic_*, prior_*, recall_*, oracle_*
    split: TimeSplit  # on a cluster only its starts (the rows stay on the workers)
    dataset: Dataset | None  # None when trained on a cluster
    test: Window
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


def training_window(submission_days: np.ndarray) -> dict[str, str]:
    """First and last submission date of a history's claims."""
    days = np.asarray(submission_days, dtype=np.int64)
    return {
        "from": str(np.datetime64(int(days.min()), "D")),
        "to": str(np.datetime64(int(days.max()), "D")),
    }


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

    progress(f"fitting model shapes on {len(y_train):,} claims (chosen on validation)", 1, steps)
    candidates = fit_candidates(x_train, y_train, x_valid, y_valid, names, params)
    chosen = best(candidates)
    evaluation = evaluate(
        chosen,
        candidates,
        dataset.state,
        Window.of(dataset, split.masks["validation"]),
        denied_sample(dataset, split.masks["train"]),
        Window.of(dataset, split.masks["test"]),
        (x_train, y_train),
        float(y_train.mean()),
        truth,
        lambda message, done: progress(message, done, steps),
    )
    model = evaluation.model
    if refit:
        progress(f"refitting on all {int(dataset.labeled.sum()):,} labelled claims", 4, steps)
        later = dataset.labeled & ~split.masks["train"]
        x_all, y_all = with_context_dropout(dataset, later, CONTEXT_DROPOUT, seed=1).rows(
            dataset.labeled
        )
        model = evaluation.refitted(
            chosen.refit(x_all, y_all, names), denied_sample(dataset, dataset.labeled)
        )
    return finish(
        model,
        evaluation,
        split,
        training_window(dataset.submission_day),
        refit,
        chosen.params | {"rounds": chosen.rounds, "estimator": chosen.name},
        dataset,
    )


@dataclass
class Evaluation:
    """The evaluation model (fit on the training window, calibrated on validation, its
    category map from the training window's denials) and its figures on the test window."""

    model: ClaimRiskModel
    test: Window
    metrics: dict[str, float]
    probability: np.ndarray
    explained: np.ndarray
    contributions: np.ndarray
    top: np.ndarray
    by_category: np.ndarray
    calibration_brier: dict[str, float]

    def refitted(self, estimator: Estimator, denied: Window) -> ClaimRiskModel:
        """The model refit on more claims: the same calibration and bands, its category map
        from ``denied`` (denied claims of what it was refit on)."""
        evaluated = self.model
        model = ClaimRiskModel(estimator, evaluated.state, evaluated.calibrator, evaluated.bands)
        model.category_map = fit_category_map(model, denied)
        return model


def evaluate(
    chosen: Candidate,
    candidates: list[Candidate],
    state: FeatureState,
    validation: Window,
    denied: Window,
    test: Window,
    baseline_rows: tuple[np.ndarray, np.ndarray],
    prior_rate: float,
    truth: pd.DataFrame | None,
    progress: Callable[[str, int], None],
) -> Evaluation:
    """Calibrate the chosen model and set its bands on the validation window, learn its
    category map from ``denied`` (denied training claims), then evaluate it on the test window
    against the logistic baseline (fit on ``baseline_rows``) and the prior rate. Single
    process and cluster share this, so their artifacts and figures mean the same."""
    progress(f"calibrating the {chosen.name} model and setting risk bands", 2)
    raw_valid = chosen.raw(validation.features)
    y_valid = validation.label
    calibration = choose_calibration(raw_valid, y_valid, chosen.raw(test.features), test.label)
    bands = RiskBands.fit(calibration.calibrator(raw_valid), y_valid)
    evaluated = ClaimRiskModel(chosen.estimator, state, calibration.calibrator, bands)
    progress("learning the category payers give the denials each feature predicts", 2)
    evaluated.category_map = fit_category_map(evaluated, denied)

    progress("evaluating on the test window against baselines", 3)
    x_test, y_test = test.features, test.label
    p_test = evaluated.probability(x_test)
    # Exact TreeSHAP for the denied claims (reason recall) and a sample (plots): all of a
    # large test window would cost more than the training itself.
    explained = (y_test == 1) | (
        np.random.default_rng(0).random(len(y_test)) < SHAP_SAMPLE / len(y_test)
    )
    contributions = evaluated.contributions(x_test[explained])
    metrics = _prefixed("lgbm", classification_metrics(y_test, p_test))
    logistic = logistic_baseline(*baseline_rows)
    metrics |= _prefixed(
        "logistic", classification_metrics(y_test, logistic.predict_proba(x_test)[:, 1])
    )
    metrics |= _prefixed("prior", classification_metrics(y_test, np.full(len(y_test), prior_rate)))
    top = np.full(len(y_test), None, dtype=object)
    by_category = evaluated.category_contributions(
        contributions, x_test[explained], test.payers[explained]
    )
    top[explained] = top_reason(by_category)
    denied_test = y_test == 1
    metrics |= _prefixed("recall", category_recall(test.category[denied_test], top[denied_test]))
    metrics["rounds"] = float(chosen.rounds)
    metrics |= {f"validation_auc_{c.name}": c.validation_auc for c in candidates}
    if truth is not None:
        metrics |= _oracle(truth, test, p_test, top)
    return Evaluation(
        evaluated,
        test,
        metrics,
        p_test,
        explained,
        contributions,
        top,
        by_category,
        calibration.brier,
    )


def finish(
    model: ClaimRiskModel,
    evaluation: Evaluation,
    split: TimeSplit,
    window: dict[str, str],
    refit: bool,
    params: dict[str, Any],
    dataset: Dataset | None,
) -> TrainResult:
    """The result: the model to register, with its metadata, and the evaluation."""
    model.meta = {
        "name": MODEL_NAME,
        "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "training_window": window,
        "split": split.describe(),
        "refit": refit,
        "metrics": evaluation.metrics,
        "metrics_of": "the evaluation model on the test window of the time split",
    }
    return TrainResult(
        model=model,
        metrics=evaluation.metrics,
        split=split,
        dataset=dataset,
        test=evaluation.test,
        test_probability=evaluation.probability,
        test_explained=evaluation.explained,
        test_contributions=evaluation.contributions,
        test_top_category=evaluation.top,
        test_by_category=evaluation.by_category,
        calibration_brier=evaluation.calibration_brier,
        params=params,
    )


def denied_sample(dataset: Dataset, rows: np.ndarray) -> Window:
    """The denied claims among ``rows``, a seeded sample of at most ``SHAP_SAMPLE`` (exact
    TreeSHAP of every denial of a large history costs more than the fit)."""
    denied = np.flatnonzero(rows & (dataset.label == 1))
    if len(denied) > SHAP_SAMPLE:
        denied = np.sort(np.random.default_rng(0).choice(denied, SHAP_SAMPLE, replace=False))
    return Window.of(dataset, denied)


def fit_category_map(model: ClaimRiskModel, denied: Window) -> CategoryMap:
    """The category map from denied claims: their SHAP, payers and denial categories."""
    return CategoryMap.fit(
        model.contributions(denied.features),
        denied.payers,
        denied.category,
        model.state.categories,
        denied.features,
        frozenset(categorical_features()),
    )


def _prefixed(prefix: str, values: dict[str, float]) -> dict[str, float]:
    return {f"{prefix}_{name}": value for name, value in values.items()}


def _oracle(
    truth: pd.DataFrame, test: Window, p_test: np.ndarray, top: np.ndarray
) -> dict[str, float]:
    """Oracle AUC from the simulator's true probabilities on the same test claims, and the
    top-reason hit rate on denied claims with exactly one true cause."""
    known = truth.set_index("claim_id").reindex(test.claim_ids)
    y = test.label
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
