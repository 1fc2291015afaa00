"""Emerging denial patterns: cells whose recent denial rate jumped above their own past.

For every cell (``cells``: payer x code, payer x category, provider x payer), the claims
adjudicated in the recent window (``window_days`` up to ``as_of``) are compared with the
claims adjudicated in the ``baseline_days`` before it. Windows go by adjudication date: that
is when a denial becomes visible, so the test never waits for, or guesses, pending outcomes.

The test is robust to small counts. The baseline rate is a Beta posterior shrunk toward the
cell's parent (the payer's overall rate, or the category's rate over all payers) with
``prior_strength`` pseudo-claims; the recent denials are compared with the beta-binomial
predictive distribution of that posterior (so an uncertain baseline demands more evidence),
one-sided, mid-p. Benjamini-Hochberg controls the false discovery rate over all cells tested
on the same date. An alert also needs a minimum effect: ``min_lift`` absolute and
``min_ratio`` relative rise, and ``min_denied`` recent denials.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import stats

from analytics.cells import (
    KEY_COLUMNS,
    TESTED_KINDS,
    CellIndex,
    build_cells,
    category_matrix,
    members,
)
from analytics.tables import claim_codes, claim_outcomes
from features.history import History

DAY = np.timedelta64(1, "D")


@dataclass(frozen=True)
class PatternSettings:
    window_days: int = 28
    baseline_days: int = 364
    min_claims: int = 8  # recent claims a cell needs to be tested
    min_denied: int = 3  # recent denials an alert needs
    min_lift: float = 0.03  # absolute rise of the denial rate
    min_ratio: float = 1.5  # relative rise of the denial rate
    fdr: float = 0.01  # Benjamini-Hochberg false discovery rate per scan date
    prior_strength: float = 20.0  # pseudo-claims of the parent rate in the baseline
    lookback_weeks: int = 12  # how far back to look for the week an alert first fired
    kinds: tuple[str, ...] = TESTED_KINDS


@dataclass(frozen=True)
class CellCounts:
    """Everything a scan needs: the cells and their cumulative daily counts."""

    index: CellIndex
    claims: pd.DataFrame  # adjudicated claims (``tables.claim_outcomes`` rows)
    day: np.ndarray  # per claim: adjudication day, 0 = first day
    first_day: np.datetime64
    n_cum: np.ndarray  # cells x (days + 1)
    k_cum: np.ndarray
    charge_cum: np.ndarray  # denied charge

    @property
    def last_day(self) -> np.datetime64:
        return self.first_day + (self.n_cum.shape[1] - 2) * DAY

    def window(self, cum: np.ndarray, after: np.datetime64, until: np.datetime64) -> np.ndarray:
        """Per cell: the sum over days in (after, until]."""
        width = cum.shape[1] - 1
        hi = int(np.clip((until - self.first_day) // DAY + 1, 0, width))
        lo = int(np.clip((after - self.first_day) // DAY + 1, 0, width))
        return cum[:, hi] - cum[:, lo]


def count_cells(history: History, kinds: tuple[str, ...] = TESTED_KINDS) -> CellCounts:
    """Index the history's adjudicated claims into cells and count them per day."""
    claims = claim_outcomes(history)
    claims = claims[claims["adjudicated"]].reset_index(drop=True)
    codes = claim_codes(history)
    index = build_cells(claims, codes, kinds)
    dates = claims["adjudication_date"].to_numpy("datetime64[D]")
    first = dates.min() if len(dates) else np.datetime64("1970-01-01")
    day = ((dates - first) // DAY).astype(np.int64)
    n_days = int(day.max()) + 1 if len(day) else 1
    denied = claims["denied"].to_numpy(float)
    by_category = category_matrix(claims["denial_category"])
    charge = claims["total_charge"].to_numpy(float)
    ones = np.ones(len(claims))
    return CellCounts(
        index=index,
        claims=claims,
        day=day,
        first_day=first,
        n_cum=index.sums(day, n_days, ones, np.ones((len(claims), by_category.shape[1]))),
        k_cum=index.sums(day, n_days, denied, by_category),
        charge_cum=index.sums(day, n_days, denied * charge, by_category * charge[:, None]),
    )


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values)."""
    m = len(p)
    if m == 0:
        return p.copy()
    order = np.argsort(p, kind="stable")
    ranked = p[order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1].clip(max=1.0)
    out = np.empty(m)
    out[order] = q
    return out


def jump_p_value(
    recent_denied: np.ndarray, recent: np.ndarray, alpha: np.ndarray, beta: np.ndarray
) -> np.ndarray:
    """One-sided mid-p of seeing at least ``recent_denied`` denials out of ``recent`` under
    the beta-binomial predictive of a Beta(alpha, beta) baseline rate."""
    k = recent_denied.astype(float)
    n = recent.astype(float)
    above = stats.betabinom.sf(k, n, alpha, beta)
    at = stats.betabinom.pmf(k, n, alpha, beta)
    return np.asarray(np.clip(above + 0.5 * at, 0.0, 1.0), dtype=float)


def scan(counts: CellCounts, as_of: np.datetime64, settings: PatternSettings) -> pd.DataFrame:
    """Test every cell at ``as_of``: one row per cell with counts, rates, p, q and ``alert``."""
    window = settings.window_days * DAY
    start = as_of - window
    n1 = counts.window(counts.n_cum, start, as_of)
    k1 = counts.window(counts.k_cum, start, as_of)
    charge1 = counts.window(counts.charge_cum, start, as_of)
    n0 = counts.window(counts.n_cum, start - settings.baseline_days * DAY, start)
    k0 = counts.window(counts.k_cum, start - settings.baseline_days * DAY, start)
    parent = counts.index.parent
    has_parent = parent >= 0
    own_rate = (k0 + 0.5) / (n0 + 1.0)
    prior = np.where(has_parent, own_rate[np.maximum(parent, 0)], own_rate)
    alpha = k0 + settings.prior_strength * prior
    beta = (n0 - k0) + settings.prior_strength * (1.0 - prior)
    baseline = alpha / (alpha + beta)
    tested = counts.index.tested & (n1 >= settings.min_claims)
    p = np.ones(len(n1))
    p[tested] = jump_p_value(k1[tested], n1[tested], alpha[tested], beta[tested])
    q = np.ones(len(n1))
    q[tested] = benjamini_hochberg(p[tested])
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(n1 > 0, k1 / n1, np.nan)
        low = stats.beta.ppf(0.05, k1 + 0.5, n1 - k1 + 0.5)  # Jeffreys 90% lower bound
    lift = rate - baseline
    alert = (
        tested
        & (q <= settings.fdr)
        & (k1 >= settings.min_denied)
        & (lift >= settings.min_lift)
        & (rate >= settings.min_ratio * baseline)
    )
    frame = counts.index.cells.assign(
        recent_claims=n1.round().astype(np.int64),
        recent_denied=k1.round().astype(np.int64),
        recent_rate=rate,
        recent_denied_charge=charge1,
        baseline_claims=n0.round().astype(np.int64),
        baseline_denied=k0.round().astype(np.int64),
        baseline_rate=baseline,
        lift=lift,
        lift_low=low - baseline,
        p_value=p,
        q_value=q,
        tested=tested,
        alert=alert,
    )
    frame.index.name = "cell"
    return frame


def as_of_default(counts: CellCounts, as_of: dt.date | pd.Timestamp | None) -> np.datetime64:
    if as_of is None:
        return counts.last_day
    return np.datetime64(pd.Timestamp(as_of).date(), "D")


def _first_significant(
    counts: CellCounts, alerts: pd.Index, as_of: np.datetime64, settings: PatternSettings
) -> pd.Series:
    """Per alerted cell: the earliest weekly scan date of its unbroken run of alerts."""
    first = pd.Series(as_of, index=alerts, dtype="datetime64[s]")
    running = pd.Series(True, index=alerts)
    for week in range(1, settings.lookback_weeks + 1):
        date = as_of - 7 * week * DAY
        if date < counts.first_day or not running.any():
            break
        still = scan(counts, date, settings)["alert"].reindex(alerts).to_numpy() & running
        first[still] = pd.Timestamp(date)
        running = pd.Series(still, index=alerts)
    return first


def _dominant(counts: CellCounts, cell: int, as_of: np.datetime64, window: int) -> tuple[str, str]:
    """The most common denial category and CARC among the cell's recent denials."""
    claims = counts.claims
    recent = (counts.day > (as_of - counts.first_day) // DAY - window) & (
        counts.day <= (as_of - counts.first_day) // DAY
    )
    mask = members(counts.index, cell, len(claims)) & recent & claims["denied"].to_numpy()
    kind = counts.index.cells.at[cell, "kind"]
    if kind == "payer_category":
        category = counts.index.cells.at[cell, "category"]
        mask &= (claims["denial_category"] == category).to_numpy(bool, na_value=False)
    denied = claims[mask]
    if denied.empty:
        return "", ""
    category = str(denied["denial_category"].mode().iloc[0])
    carc = denied["denial_carc"].dropna().astype(str)
    return category, str(carc.mode().iloc[0]) if len(carc) else ""


ALERT_COLUMNS = (
    "kind",
    "label",
    *KEY_COLUMNS,
    "recent_claims",
    "recent_denied",
    "recent_rate",
    "baseline_claims",
    "baseline_rate",
    "lift",
    "lift_low",
    "recent_denied_charge",
    "p_value",
    "q_value",
    "first_significant",
    "top_category",
    "top_carc",
)


def find_patterns(
    history: History,
    as_of: dt.date | pd.Timestamp | None = None,
    window_days: int = 28,
    settings: PatternSettings | None = None,
    counts: CellCounts | None = None,
) -> pd.DataFrame:
    """Emerging patterns at ``as_of`` (default: the last adjudication date), strongest first.

    Ranked by ``lift_low``, the lower bound of the rise (a large jump on few claims ranks
    below a sure one). ``first_significant`` is the first weekly scan date of the cell's
    current run of alerts, looking back ``settings.lookback_weeks`` weeks.
    """
    settings = replace(settings or PatternSettings(), window_days=window_days)
    counts = counts or count_cells(history, settings.kinds)
    date = as_of_default(counts, as_of)
    scanned = scan(counts, date, settings)
    alerts = scanned[scanned["alert"]].copy()
    alerts["first_significant"] = _first_significant(counts, alerts.index, date, settings)
    dominant = [_dominant(counts, int(c), date, settings.window_days) for c in alerts.index]
    alerts["top_category"] = [d[0] for d in dominant]
    alerts["top_carc"] = [d[1] for d in dominant]
    alerts = alerts.sort_values(["lift_low", "q_value"], ascending=[False, True])
    alerts = alerts.loc[:, list(ALERT_COLUMNS)].reset_index()
    alerts.attrs["as_of"] = str(pd.Timestamp(date).date())
    alerts.attrs["window_days"] = settings.window_days
    alerts.attrs["tested_cells"] = int(scanned["tested"].sum())
    return alerts


def watch_list(
    counts: CellCounts,
    as_of: dt.date | pd.Timestamp | None = None,
    settings: PatternSettings | None = None,
    top: int = 5,
) -> pd.DataFrame:
    """The tested cells closest to an alert without one: rising, smallest p first."""
    settings = settings or PatternSettings()
    scanned = scan(counts, as_of_default(counts, as_of), settings)
    rising = scanned[scanned["tested"] & ~scanned["alert"] & (scanned["lift"] > 0)]
    return rising.sort_values("p_value").head(top).reset_index()


@dataclass
class SequentialScan:
    """Weekly scans over a history: every alert raised, by scan date."""

    alerts: pd.DataFrame  # as_of, cell, label, kind, keys, rates, q_value, new (run start)
    dates: list[pd.Timestamp] = field(default_factory=list)
    tested: list[int] = field(default_factory=list)  # tested cells per scan date


def sequential(
    history: History | None = None,
    *,
    start: dt.date | pd.Timestamp | None = None,
    end: dt.date | pd.Timestamp | None = None,
    every_days: int = 7,
    settings: PatternSettings | None = None,
    counts: CellCounts | None = None,
) -> SequentialScan:
    """Scan every ``every_days`` from ``start`` (default: one window plus 90 days of baseline
    after the first adjudication) to ``end`` (default: the last adjudication), as an online
    monitor would have, each scan seeing only outcomes adjudicated by its date."""
    settings = settings or PatternSettings()
    if counts is None:
        if history is None:
            raise ValueError("give a history or its counts")
        counts = count_cells(history, settings.kinds)
    first = counts.first_day + (settings.window_days + 90) * DAY
    date = np.datetime64(pd.Timestamp(start).date(), "D") if start is not None else first
    last = as_of_default(counts, end)
    frames, dates, tested = [], [], []
    previous = np.zeros(len(counts.index), dtype=bool)
    while date <= last:
        scanned = scan(counts, date, settings)
        alert = scanned["alert"].to_numpy()
        rows = scanned[alert].assign(as_of=pd.Timestamp(date), new=~previous[alert])
        frames.append(rows.reset_index())
        dates.append(pd.Timestamp(date))
        tested.append(int(scanned["tested"].sum()))
        previous = alert
        date = date + every_days * DAY
    alerts = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return SequentialScan(alerts=alerts, dates=dates, tested=tested)
