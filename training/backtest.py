"""Rolling backtest: retrain every period on what was known then, score the next period.

Features are computed once: every feature is as-of its claim's submission date, so a claim
scored in month M sees the outcomes adjudicated before it (the feature state refreshes daily,
as the service's would as remittances arrive) while the booster is the one retrained at the
start of M on claims adjudicated before M. This shows both how AUC holds month to month and how
fast a payer's policy change is learned from its first denials.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from features.history import History
from training.dataset import Dataset, build_dataset
from training.model import fit_booster, params_for

MIN_TRAIN_CLAIMS = 2000


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


def _period_starts(days: np.ndarray, every: str, warmup: float) -> list[pd.Timestamp]:
    dates = pd.to_datetime(days.astype("datetime64[D]"))
    first = dates.min() + (dates.max() - dates.min()) * warmup
    return list(pd.date_range(first.normalize(), dates.max(), freq=period_frequency(every)))


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
    dataset = build_dataset(history)
    x_all = dataset.features.to_numpy(float)
    names = dataset.features.columns.tolist()
    starts = _period_starts(dataset.submission_day, every, warmup)
    steps = len(starts) + 1
    day = dataset.submission_day
    predicted = np.full(len(day), np.nan)
    rows = []
    for done, (start, end) in enumerate(zip(starts, [*starts[1:], None], strict=True), 1):
        start_day = int(start.to_datetime64().astype("datetime64[D]").astype(np.int64))
        end_day = (
            int(end.to_datetime64().astype("datetime64[D]").astype(np.int64))
            if end
            else day.max() + 1
        )
        train = dataset.labeled & (day < start_day) & (dataset.adjudication_day < start_day)
        scored = (day >= start_day) & (day < end_day)
        if train.sum() < MIN_TRAIN_CLAIMS or not scored.any():
            continue
        progress(f"period {start.date()}: training on {int(train.sum()):,} claims", done, steps)
        booster = fit_booster(
            x_all[train],
            dataset.label[train],
            None,
            None,
            names,
            params_for(int(train.sum())),
            rounds=250,
        )
        predicted[scored] = booster.predict(x_all[scored])
        labeled = scored & dataset.labeled
        y = dataset.label[labeled]
        auc = roc_auc_score(y, predicted[labeled]) if 0 < y.sum() < len(y) else np.nan
        rows.append(
            {
                "period": start.date(),
                "claims": int(labeled.sum()),
                "denial_rate": float(y.mean()) if len(y) else np.nan,
                "roc_auc": auc,
            }
        )
    periods = pd.DataFrame(rows)
    if segment is None:
        return BacktestResult(periods, None, None)
    weeks, recovery = _segment_recovery(history, dataset, predicted, segment)
    return BacktestResult(periods, weeks, recovery)


def _segment_recovery(
    history: History, dataset: Dataset, predicted: np.ndarray, segment: Segment
) -> tuple[pd.DataFrame, float | None]:
    """Weekly, for the segment's claims: denied share and mean predicted probability; the
    recovery is the first week after the change whose denied claims average >= 0.5."""
    lines = history.claim_lines
    with_code = lines.loc[lines["procedure_code"] == segment.procedure_code, "claim_id"]
    claims = history.claims
    in_segment = (
        (
            (claims["payer_id"] == segment.payer_id)
            & claims["claim_id"].isin(with_code)
            & (dataset.features["auth_lines_without_auth"].to_numpy() > 0)
        ).to_numpy()
        & ~np.isnan(predicted)
        & dataset.labeled
    )
    frame = pd.DataFrame(
        {
            "week": claims["submission_date"][in_segment].dt.to_period("W").dt.start_time,
            "denied": dataset.label[in_segment],
            "predicted": predicted[in_segment],
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
