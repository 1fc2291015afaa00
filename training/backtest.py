"""Rolling backtest: retrain every period on what was known then, score the next period.

Features are computed once: every feature is as-of its claim's submission date, so a claim
scored in month M sees the outcomes adjudicated before it (the feature state refreshes daily,
as the service's would as remittances arrive) while the booster is the one retrained at the
start of M on claims adjudicated before M. This shows both how AUC holds month to month and how
fast a payer's policy change is learned from its first denials.

The folds, their training counts, fits and scores go through ``Claims``: the history in this
process (``InMemory``) or its member groups on a Dask cluster
(``training.distributed_backtest``); the folds and figures are the same code either way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from features.history import History
from training.dataset import Dataset, build_dataset
from training.model import fit_booster, params_for

MIN_TRAIN_CLAIMS = 2000
ROUNDS = 250  # fixed rounds of every period's booster


@dataclass(frozen=True)
class Segment:
    """Claims a policy change affects: a payer, a code, lines without an authorization."""

    payer_id: str
    procedure_code: str
    since: pd.Timestamp


@dataclass
class BacktestResult:
    periods: pd.DataFrame  # period start, claims, denials, AUC
    segment_weeks: pd.DataFrame | None  # week, claims, denied share, mean predicted
    recovery_weeks: float | None


def period_frequency(every: str) -> str:
    """The pandas frequency of a period such as 1M or 2W; ``ValueError`` if it is none."""
    frequency = f"{every}S" if every.endswith("M") else every  # months start on the 1st
    try:
        offset = pd.tseries.frequencies.to_offset(frequency)
        whole_days = offset.n > 0 and (
            not isinstance(offset, pd.offsets.Tick) or pd.Timedelta(offset) >= pd.Timedelta("1D")
        )
    except ValueError:
        whole_days = False
    if not whole_days:
        raise ValueError(f"{every!r} is not a period of a day or more, such as 1M, 2W or 10D")
    return frequency


def _period_starts(first: int, last: int, every: str, warmup: float) -> list[pd.Timestamp]:
    dates = pd.to_datetime(np.array([first, last]).astype("datetime64[D]"))
    begin = dates[0] + (dates[1] - dates[0]) * warmup
    return list(pd.date_range(begin.normalize(), dates[1], freq=period_frequency(every)))


def _day(date: pd.Timestamp) -> int:
    return int(date.to_datetime64().astype("datetime64[D]").astype(np.int64))


@dataclass(frozen=True)
class Fold:
    """One period: a booster trained on the claims adjudicated before ``start_day`` scores
    the claims submitted from ``start_day`` until ``end_day`` (excluded)."""

    start: pd.Timestamp
    start_day: int
    end_day: int


def training_rows(label: np.ndarray, submission_day: np.ndarray, adjudication_day: np.ndarray,
                  fold: Fold) -> np.ndarray:  # fmt: skip
    """The claims a fold trains on: labelled, submitted and adjudicated before it starts."""
    return (
        ~np.isnan(label) & (submission_day < fold.start_day) & (adjudication_day < fold.start_day)
    )


def fold_counts(label: np.ndarray, submission_day: np.ndarray, adjudication_day: np.ndarray,
                folds: list[Fold]) -> np.ndarray:  # fmt: skip
    """Per fold, the claims it trains on and the claims it scores (labelled or not)."""
    return np.array(
        [
            (
                int(training_rows(label, submission_day, adjudication_day, fold).sum()),
                int(((submission_day >= fold.start_day) & (submission_day < fold.end_day)).sum()),
            )
            for fold in folds
        ],
        dtype=np.int64,
    ).reshape(len(folds), 2)


def scored_claims(features: pd.DataFrame, label: np.ndarray, submission_day: np.ndarray,
                  claims: pd.DataFrame, claim_lines: pd.DataFrame,
                  fits: list[tuple[Fold, lgb.Booster]],
                  segment: Segment | None) -> pd.DataFrame:  # fmt: skip
    """The labelled claims each fold scores (``features``, ``claims`` aligned by position):
    fold, label, predicted probability, submission day and whether the claim is in the
    segment. What the figures are computed from; the same code for a whole history in one
    process and for every member group on a cluster."""
    x = features.to_numpy(float)
    in_segment = (
        np.zeros(len(label), dtype=bool)
        if segment is None
        else _in_segment(features, claims, claim_lines, segment)
    )
    parts = [
        pd.DataFrame(
            {
                "fold": index,
                "label": label[rows],
                "predicted": booster.predict(x[rows]),
                "day": submission_day[rows],
                "in_segment": in_segment[rows],
            }
        )
        for index, (fold, booster) in enumerate(fits)
        for rows in [
            np.flatnonzero(
                ~np.isnan(label)
                & (submission_day >= fold.start_day)
                & (submission_day < fold.end_day)
            )
        ]
    ]
    return pd.concat(parts, ignore_index=True) if parts else _NO_CLAIMS.copy()


_NO_CLAIMS = pd.DataFrame(
    {
        "fold": pd.Series(dtype=np.int64),
        "label": pd.Series(dtype=float),
        "predicted": pd.Series(dtype=float),
        "day": pd.Series(dtype=np.int64),
        "in_segment": pd.Series(dtype=bool),
    }
)


class Claims(Protocol):
    """Where a backtest's claims and their features are: in this process (``InMemory``) or
    on a cluster's workers (``training.distributed_backtest.OnCluster``)."""

    def submission_range(self) -> tuple[int, int]:
        """The first and last submission day."""
        ...

    def counts(self, folds: list[Fold]) -> np.ndarray:
        """``fold_counts`` over every claim."""
        ...

    def fit(self, fold: Fold, params: dict[str, Any], rounds: int) -> lgb.Booster:
        """A fixed-round booster on the fold's ``training_rows``."""
        ...

    def scored(self, fits: list[tuple[Fold, lgb.Booster]], segment: Segment | None) -> pd.DataFrame:
        """``scored_claims`` over every claim."""
        ...


@dataclass
class InMemory:
    """A history's claims and features in this process."""

    history: History
    dataset: Dataset

    @cached_property
    def x(self) -> np.ndarray:
        return self.dataset.features.to_numpy(float)

    def submission_range(self) -> tuple[int, int]:
        days = self.dataset.submission_day
        return int(days.min()), int(days.max())

    def counts(self, folds: list[Fold]) -> np.ndarray:
        data = self.dataset
        return fold_counts(data.label, data.submission_day, data.adjudication_day, folds)

    def fit(self, fold: Fold, params: dict[str, Any], rounds: int) -> lgb.Booster:
        data = self.dataset
        rows = training_rows(data.label, data.submission_day, data.adjudication_day, fold)
        names = data.features.columns.tolist()
        return fit_booster(self.x[rows], data.label[rows], None, None, names, params, rounds=rounds)

    def scored(self, fits: list[tuple[Fold, lgb.Booster]], segment: Segment | None) -> pd.DataFrame:
        data, history = self.dataset, self.history
        return scored_claims(
            data.features, data.label, data.submission_day, history.claims,
            history.claim_lines, fits, segment,
        )  # fmt: skip


def backtest(
    history: History,
    every: str = "1M",
    warmup: float = 0.25,
    segment: Segment | None = None,
    progress: Callable[[str, int, int], None] = lambda *_: None,
) -> BacktestResult:
    """Retrain each period (``every``: pandas frequency such as 1M, 2W) after a warm-up share;
    ``progress`` hears each step as it starts (message, steps done, steps in all)."""
    progress("computing features once (as-of every claim's submission)", 0, 1)
    return run_backtest(InMemory(history, build_dataset(history)), every, warmup, segment, progress)


def run_backtest(
    claims: Claims,
    every: str,
    warmup: float,
    segment: Segment | None,
    progress: Callable[[str, int, int], None],
) -> BacktestResult:
    """The backtest of ``claims``, wherever they are: folds, fits, scores and figures."""
    first, last = claims.submission_range()
    starts = _period_starts(first, last, every, warmup)
    folds = [
        Fold(start, _day(start), _day(end) if end is not None else last + 1)
        for start, end in zip(starts, [*starts[1:], None], strict=True)
    ]
    counts = claims.counts(folds)
    kept = [
        (fold, int(n_train))
        for fold, (n_train, n_scored) in zip(folds, counts, strict=True)
        if n_train >= MIN_TRAIN_CLAIMS and n_scored > 0
    ]
    steps = len(kept) + 2  # features, every fit, scoring
    fits = []
    for done, (fold, n_train) in enumerate(kept, 1):
        progress(f"period {fold.start.date()}: training on {n_train:,} claims", done, steps)
        fits.append((fold, claims.fit(fold, params_for(n_train), ROUNDS)))
    progress("scoring every period's claims", steps - 1, steps)
    scored = claims.scored(fits, segment)
    fold_of = scored["fold"].to_numpy()
    periods = pd.DataFrame(
        [_period_row(fold, scored[fold_of == i]) for i, (fold, _) in enumerate(fits)]
    )
    if segment is None:
        return BacktestResult(periods, None, None)
    weeks, recovery = _segment_recovery(scored[scored["in_segment"]], segment)
    return BacktestResult(periods, weeks, recovery)


def _period_row(fold: Fold, scored: pd.DataFrame) -> dict[str, Any]:
    y = scored["label"].to_numpy(float)
    auc = roc_auc_score(y, scored["predicted"]) if 0 < y.sum() < len(y) else np.nan
    return {
        "period": fold.start.date(),
        "claims": len(y),
        "denial_rate": float(y.mean()) if len(y) else np.nan,
        "roc_auc": auc,
    }


def _in_segment(features: pd.DataFrame, claims: pd.DataFrame, claim_lines: pd.DataFrame,
                segment: Segment) -> np.ndarray:  # fmt: skip
    """The claims of the segment: its payer, a line with its code, a line needing an
    authorization without one."""
    with_code = claim_lines.loc[claim_lines["procedure_code"] == segment.procedure_code, "claim_id"]
    return (
        (claims["payer_id"] == segment.payer_id) & claims["claim_id"].isin(with_code)
    ).to_numpy() & (features["auth_lines_without_auth"].to_numpy() > 0)


def _segment_recovery(scored: pd.DataFrame, segment: Segment) -> tuple[pd.DataFrame, float | None]:
    """Weekly, for the segment's scored claims: denied share and mean predicted probability;
    the recovery is the first week after the change whose denied claims average >= 0.5."""
    days = scored["day"].to_numpy(np.int64).astype("datetime64[D]")
    frame = pd.DataFrame(
        {
            "week": pd.Series(pd.to_datetime(days)).dt.to_period("W").dt.start_time,
            "denied": scored["label"].to_numpy(float),
            "predicted": scored["predicted"].to_numpy(float),
        }
    )
    weeks = frame.groupby("week").agg(
        claims=("denied", "size"),
        denied_share=("denied", "mean"),
        mean_predicted=("predicted", "mean"),
    )
    denied_mean = frame[frame["denied"] == 1].groupby("week")["predicted"].mean()
    weeks["mean_predicted_denied"] = denied_mean
    first_week = segment.since.to_period("W").start_time
    after = weeks[weeks.index >= first_week]
    learned = after[after["mean_predicted_denied"] >= 0.5]
    recovery = None
    if len(learned):
        recovery = float((learned.index[0] - first_week).days / 7)
    return weeks.reset_index(), recovery
