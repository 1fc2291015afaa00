"""The feature pipeline: fit the history-derived state once, then compute features anywhere.

``fit_state`` learns the as-of tables of every registered learner from a labelled batch;
``compute_features`` turns any batch (a history, a partition of one, or claim requests) into the
ordered feature matrix with that state, unchanged. Training and serving call the same two
functions; the state travels inside the model artifact. ``merge_states`` combines states fitted
on disjoint partitions of a history (a Dask cluster's member groups) into the whole's state.
"""

from __future__ import annotations

import hashlib
import inspect
import pickle
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import features.asof
import features.batch
import features.codes
import features.facts
import features.learned
from features.asof import day_numbers
from features.batch import ClaimBatch
from features.categories import Category
from features.facts import Facts, build_facts
from features.history import History
from features.learned import Outcomes, SubmissionLog, merge_fitted
from features.rules import REGISTRY

FEATURE_SET_VERSION = "1"
_FEATURE_PASS_MODULES = (
    features.asof,
    features.batch,
    features.codes,
    features.facts,
    features.learned,
)


@cache
def feature_set_id() -> str:
    """Version plus a digest of the feature code: every feature's name, category and function,
    every learner (class and parameters), and the modules the feature pass runs. Changing any
    of them changes the id, so a model never loads silently against other feature code."""
    parts = [f"{f.name}|{f.category}|{inspect.getsource(f.compute)}" for f in REGISTRY]
    parts += [
        f"{name}|{learner!r}|{inspect.getsource(type(learner))}"
        for name, learner in REGISTRY.learners.items()
    ]
    parts += [inspect.getsource(module) for module in _FEATURE_PASS_MODULES]
    digest = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:10]
    return f"{FEATURE_SET_VERSION}-{digest}"


@dataclass(frozen=True)
class FeatureState:
    """Everything fitted on a history that the features need, and what it was fitted on."""

    feature_set: str
    feature_names: tuple[str, ...]
    categories: dict[str, Category]
    fitted: dict[str, Any]
    last_event_day: int

    def save(self, path: Path) -> None:
        path.write_bytes(pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL))

    @staticmethod
    def load(path: Path) -> FeatureState:
        state = pickle.loads(path.read_bytes())
        if not isinstance(state, FeatureState):
            raise TypeError(f"{path}: not a feature state")
        if state.feature_set != feature_set_id():
            raise ValueError(
                f"{path}: feature set {state.feature_set} does not match this code's "
                f"{feature_set_id()}; retrain the model"
            )
        return state


def outcomes_for(history: History, claim_ids: pd.Series) -> Outcomes:
    """The first-pass outcome of each claim, aligned with ``claim_ids`` (-1 day: pending)."""
    labels = history.labels.labels.set_index("claim_id").reindex(claim_ids)
    adjudicated = history.outcomes.set_index("claim_id")["adjudication_date"].reindex(claim_ids)
    labeled = labels["denied"].notna().to_numpy()
    category: np.ndarray = labels["denial_category"].to_numpy(dtype=object, na_value=None)
    return Outcomes(
        adj_day=np.where(labeled, day_numbers(adjudicated), -1),
        denied=labels["denied"].fillna(False).to_numpy(bool),
        category=category,
    )


def fit_state(facts: Facts, outcomes: Outcomes) -> FeatureState:
    """Fit every learner on the facts of a labelled batch."""
    fitted = {name: learner.fit(facts, outcomes) for name, learner in REGISTRY.learners.items()}
    labeled = outcomes.adj_day[outcomes.adj_day >= 0]
    return FeatureState(
        feature_set=feature_set_id(),
        feature_names=tuple(REGISTRY.names()),
        categories={f.name: f.category for f in REGISTRY},
        fitted=fitted,
        last_event_day=int(labeled.max()) if len(labeled) else -1,
    )


def remember_submissions(state: FeatureState, facts: Facts) -> FeatureState:
    """The state with the submissions of ``facts`` counted, for learners that learn from a
    submission alone (no outcome): scoring a batch or file, each claim sees the earlier-dated
    claims sent with it, as a history claim saw every earlier submission in training."""
    fitted = {
        name: learner.remember(facts) if isinstance(learner, SubmissionLog) else learner
        for name, learner in state.fitted.items()
    }
    return replace(state, fitted=fitted)


def merge_states(parts: list[FeatureState]) -> FeatureState:
    """The state of a history from the states fitted on disjoint partitions of its claims
    (every learner's fits merged: equal to the state fitted on the whole history)."""
    first = parts[0]
    return FeatureState(
        feature_set=first.feature_set,
        feature_names=first.feature_names,
        categories=first.categories,
        fitted={name: merge_fitted([p.fitted[name] for p in parts]) for name in first.fitted},
        last_event_day=max(p.last_event_day for p in parts),
    )


def feature_matrix(facts: Facts, state: FeatureState) -> np.ndarray:
    """The feature matrix of a batch (claims x features, in the state's order)."""
    matrix = np.empty((facts.n_claims, len(state.feature_names)))
    with np.errstate(all="ignore"):  # NaN and inf propagate as "unknown"; no warning per claim
        for column, name in enumerate(state.feature_names):
            matrix[:, column] = REGISTRY.features[name].compute(facts, state.fitted)
    return matrix


def compute_features(facts: Facts, state: FeatureState) -> pd.DataFrame:
    """The feature matrix as a frame indexed by claim id."""
    return pd.DataFrame(
        feature_matrix(facts, state),
        columns=list(state.feature_names),
        index=pd.Index(facts.claims["claim_id"], name="claim_id"),
    )


def transform(batch: ClaimBatch, state: FeatureState) -> pd.DataFrame:
    """Features of any batch with a fitted state."""
    return compute_features(build_facts(batch), state)
