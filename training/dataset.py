"""From a validated history to a labelled feature matrix with a time split.

The split is by submission date, never random: train, then validation, then test. A training
row must have been adjudicated before the validation window starts (and a validation row
before the test window), as it would have been when a model was trained on that day.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from features.asof import day_numbers
from features.batch import ClaimBatch, batch_from_history
from features.contract import CONTEXTS
from features.facts import build_facts
from features.history import History
from features.pipeline import FeatureState, compute_features, fit_state, outcomes_for

SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class Dataset:
    """Features and labels of every claim of a history, aligned by position."""

    features: pd.DataFrame
    label: np.ndarray  # 1.0 denied, 0.0 paid, NaN pending
    category: np.ndarray  # denial category or None
    submission_day: np.ndarray
    adjudication_day: np.ndarray  # -1 pending
    charge: np.ndarray
    state: FeatureState
    batch: ClaimBatch

    @property
    def payers(self) -> np.ndarray:
        return self.batch.claims["payer_id"]

    @property
    def labeled(self) -> np.ndarray:
        return ~np.isnan(self.label)

    def rows(self, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.features.to_numpy(float)[mask], self.label[mask]


def build_dataset(history: History) -> Dataset:
    """Fit the feature state on the history and compute every claim's features."""
    batch = batch_from_history(history)
    facts = build_facts(batch)
    outcomes = outcomes_for(history, history.claims["claim_id"])
    state = fit_state(facts, outcomes)
    labeled = outcomes.adj_day >= 0
    return Dataset(
        features=compute_features(facts, state),
        label=np.where(labeled, outcomes.denied.astype(float), np.nan),
        category=outcomes.category,
        submission_day=day_numbers(history.claims["submission_date"]),
        adjudication_day=outcomes.adj_day,
        charge=history.claims["total_charge"].to_numpy(float),
        state=state,
        batch=batch,
    )


def with_context_dropout(
    dataset: Dataset, rows: np.ndarray, share: float, seed: int = 0
) -> Dataset:
    """The dataset with some of ``rows`` recomputed as requests without context would be, so
    the model learns what such a request means: ``share`` of them with no context at all (an
    837P alone, an upload: eligibility unknown), and ``share`` more, each kind independently,
    without their authorizations or their enrollment. A request that sends other context and
    no eligibility says no check is on file (``features.batch``), as the history's claims
    without a check already show, so eligibility is never dropped alone. Only training rows
    should get it: evaluation must see claims as they are."""
    rng = np.random.default_rng(seed)
    batch = dataset.batch
    alone = rows & (rng.random(len(batch)) < share)
    dropped = {
        context: alone | (rows & (rng.random(len(batch)) < share) & (context != "eligibility"))
        for context in CONTEXTS
        if batch.known[context].any()
    }
    chosen = np.flatnonzero(np.logical_or.reduce(list(dropped.values()), initial=False))
    if len(chosen) == 0:
        return dataset
    masked = batch.take(chosen)
    for context, mask in dropped.items():
        masked = masked.without_context(context, mask[chosen])
    features = dataset.features.copy()
    features.iloc[chosen] = compute_features(build_facts(masked), dataset.state).to_numpy()
    return replace(dataset, features=features)


@dataclass(frozen=True)
class TimeSplit:
    """Masks of the three windows and their first submission days."""

    masks: dict[str, np.ndarray]
    starts: dict[str, int]

    def describe(self) -> dict[str, str]:
        return {name: str(np.datetime64(int(day), "D")) for name, day in self.starts.items()}


class TooFewClaims(ValueError):
    """The history holds too few adjudicated claims for a time split."""


def window_starts(labeled_days: np.ndarray, validation: float, test: float) -> dict[str, int]:
    """First submission day of each window, from the submission days of labelled claims."""
    if not len(labeled_days):
        raise TooFewClaims("no adjudicated claims: nothing to train on")
    return {
        "train": int(labeled_days.min()),
        "validation": int(np.quantile(labeled_days, 1 - validation - test)),
        "test": int(np.quantile(labeled_days, 1 - test)),
    }


def window_masks(
    label: np.ndarray, sub: np.ndarray, adj: np.ndarray, starts: dict[str, int]
) -> dict[str, np.ndarray]:
    """Which claims fall in each window: a training claim was adjudicated before validation
    starts, a validation claim before the test window starts."""
    labeled = ~np.isnan(label)
    validation_start, test_start = starts["validation"], starts["test"]
    return {
        "train": labeled & (sub < validation_start) & (adj < validation_start),
        "validation": labeled & (sub >= validation_start) & (sub < test_start) & (adj < test_start),
        "test": labeled & (sub >= test_start),
    }


def check_windows(counts: dict[str, tuple[int, float]]) -> None:
    """Refuse windows with too few claims or denials (``counts``: claims, denials)."""
    for name, (claims, denials) in counts.items():
        if claims < 50 or denials < 5:
            raise TooFewClaims(
                f"the {name} window has {claims} labelled claims and "
                f"{int(denials)} denials: too few to train on"
            )


def time_split(dataset: Dataset, validation: float = 0.15, test: float = 0.15) -> TimeSplit:
    """Split labelled claims by submission date into train / validation / test windows."""
    starts = window_starts(dataset.submission_day[dataset.labeled], validation, test)
    masks = window_masks(dataset.label, dataset.submission_day, dataset.adjudication_day, starts)
    check_windows(
        {name: (int(m.sum()), float(np.nansum(dataset.label[m]))) for name, m in masks.items()}
    )
    return TimeSplit(masks, starts)
