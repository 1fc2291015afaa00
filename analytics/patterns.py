"""Emerging denial patterns: cells whose recent denial rate jumped above their own past.

For every cell (``cells``: payer x code, payer x category, provider x payer), the claims
adjudicated in each recent window (a week, doubling up to ``window_days`` before ``as_of``:
7, 14 and 28 days by default) are compared with the claims adjudicated in the
``baseline_days`` before that window. Windows go by adjudication date: that is when a denial
becomes visible, so the test never waits for, or guesses, pending outcomes. Testing every
window is a window-limited generalized likelihood ratio scan over the change's start: a rule
that began ten days ago is tested on the days since, not diluted by three weeks from before.

The test is robust to small counts. The baseline rate is a Beta posterior shrunk toward the
cell's parent (the payer's overall rate, or the category's rate over all payers) with
``prior_strength`` pseudo-claims, by default estimated per kind of cell from how far such
cells' baselines spread around their parents' (``estimated_strength``: a code's rate at a payer
owes little to the payer's, a provider's much); the recent denials are compared with the
beta-binomial predictive distribution of that posterior (so an uncertain baseline demands more
evidence), one-sided, mid-p. A cell's p-value is its smallest over the windows, times the
number of windows (Bonferroni); ``q_value`` is Benjamini-Hochberg's over every cell tested on
the date. A cell alerts when ``q_value <= false_alarms_per_year / 52``: where no cell changes,
a weekly run then alerts falsely with at most that probability, so a year of weekly runs raises
at most ``false_alarms_per_year`` false alerts over all cells together on average; where some
cells do change, the expected share of false alerts among a run's alerts stays within it. An
alert also needs a minimum effect in its window: ``min_lift`` absolute and ``min_ratio``
relative rise, and ``min_denied`` recent denials.
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


SCANS_PER_YEAR = 52  # the monitor's budget is spent over a year of weekly runs


@dataclass(frozen=True)
class PatternSettings:
    window_days: int = 28  # the longest recent window; 7, 14, 28, ... days up to it are tested
    baseline_days: int = 364
    min_claims: int = 8  # recent claims a cell needs to be tested
    min_denied: int = 3  # recent denials an alert needs
    min_lift: float = 0.03  # absolute rise of the denial rate
    min_ratio: float = 1.5  # relative rise of the denial rate
    false_alarms_per_year: float = 2.0  # false alerts a year of weekly runs (half the target 4)
    prior_strength: float | None = None  # pseudo-claims of the parent rate; None: estimated
    lookback_weeks: int = 12  # how far back to look for the week an alert first fired
    kinds: tuple[str, ...] = TESTED_KINDS

    @property
    def windows(self) -> tuple[int, ...]:
        """The recent windows tested, in days: a week, doubling up to ``window_days``."""
        days = [7]
        while days[-1] * 2 < self.window_days:
            days.append(days[-1] * 2)
        return (*[d for d in days if d < self.window_days], self.window_days)

    @property
    def alpha(self) -> float:
        """The family-wise false-alert rate one scan may spend."""
        return self.false_alarms_per_year / SCANS_PER_YEAR


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
    return count_claims(claims[claims["adjudicated"]], claim_codes(history), kinds)


def count_claims(
    claims: pd.DataFrame, codes: pd.DataFrame, kinds: tuple[str, ...] = TESTED_KINDS
) -> CellCounts:
    """Cells and daily counts of adjudicated ``claims`` (``tables.claim_outcomes`` rows:
    claim_id, payer_id, provider_npi, adjudication_date, denied, denial_category,
    total_charge) and their ``codes`` (claim_id, procedure_code)."""
    claims = claims.reset_index(drop=True)
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


EB_MIN_CLAIMS = 20  # baseline claims a cell needs to inform its kind's prior strength
EB_STRENGTH = (1.0, 1000.0)  # the range an estimated prior strength is kept in


def estimated_strength(
    n0: np.ndarray, k0: np.ndarray, prior: np.ndarray, kind: np.ndarray
) -> np.ndarray:
    """Per cell: how many pseudo-claims its parent's rate is worth, estimated per kind from
    how far the kind's cells' baseline rates spread around their parents' (empirical Bayes,
    method of moments): a Beta(s m, s (1 - m)) prior has variance m (1 - m) / (s + 1), so the
    spread beyond binomial noise, pooled over the cells with ``EB_MIN_CLAIMS`` baseline
    claims, gives 1 / (s + 1). Cells of a kind that differ a lot from their parent (codes at
    one payer) get a weak prior; cells that follow it closely a strong one."""
    strength = np.full(len(n0), EB_STRENGTH[1])
    informative = n0 >= EB_MIN_CLAIMS
    for value in np.unique(kind):
        cells = informative & (kind == value)
        if not cells.any():
            continue
        n, m = n0[cells], prior[cells]
        spread = m * (1.0 - m)
        excess = np.sum((k0[cells] / n - m) ** 2 - spread / n)
        share = excess / max(np.sum(spread * (1.0 - 1.0 / n)), 1e-12)  # 1 / (s + 1)
        s = 1.0 / share - 1.0 if share > 0 else EB_STRENGTH[1]
        strength[kind == value] = np.clip(s, *EB_STRENGTH)
    return strength


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


def _window_test(
    counts: CellCounts, as_of: np.datetime64, days: int, settings: PatternSettings
) -> dict[str, np.ndarray]:
    """Every cell's counts, baseline and one-sided p over the ``days`` to ``as_of`` (p is 1
    where the window lacks the claims or the effect an alert needs)."""
    start = as_of - days * DAY
    before = start - settings.baseline_days * DAY
    n1 = counts.window(counts.n_cum, start, as_of)
    k1 = counts.window(counts.k_cum, start, as_of)
    n0 = counts.window(counts.n_cum, before, start)
    k0 = counts.window(counts.k_cum, before, start)
    parent = counts.index.parent
    own_rate = (k0 + 0.5) / (n0 + 1.0)
    prior = np.where(parent >= 0, own_rate[np.maximum(parent, 0)], own_rate)
    if settings.prior_strength is None:
        strength = estimated_strength(n0, k0, prior, counts.index.kind_codes)
    else:
        strength = np.full(len(n0), settings.prior_strength)
    alpha = k0 + strength * prior
    beta = (n0 - k0) + strength * (1.0 - prior)
    baseline = alpha / (alpha + beta)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(n1 > 0, k1 / n1, np.nan)
    effect = (
        counts.index.tested
        & (n1 >= settings.min_claims)
        & (k1 >= settings.min_denied)
        & (rate - baseline >= settings.min_lift)
        & (rate >= settings.min_ratio * baseline)
    )
    p = np.ones(len(n1))
    p[effect] = jump_p_value(k1[effect], n1[effect], alpha[effect], beta[effect])
    return {
        "days": np.full(len(n1), days),
        "n1": n1,
        "k1": k1,
        "charge1": counts.window(counts.charge_cum, start, as_of),
        "n0": n0,
        "k0": k0,
        "baseline": baseline,
        "rate": rate,
        "p": p,
    }


def scan(counts: CellCounts, as_of: np.datetime64, settings: PatternSettings) -> pd.DataFrame:
    """Test every cell at ``as_of``: one row per cell with the counts and rates of its most
    significant recent window (``recent_days``), p, q and ``alert``."""
    tests = [_window_test(counts, as_of, days, settings) for days in settings.windows]
    p_by_window = np.stack([t["p"] for t in tests])
    # the window shown: the most significant one, else (nothing rose enough) the longest
    best = np.where(p_by_window.min(axis=0) < 1, p_by_window.argmin(axis=0), len(tests) - 1)
    pick = {name: np.choose(best, [t[name] for t in tests]) for name in tests[0]}
    longest = tests[-1]
    tested = counts.index.tested & (longest["n1"] >= settings.min_claims)
    p = np.where(tested, np.minimum(pick["p"] * len(tests), 1.0), 1.0)  # Bonferroni: windows
    q = np.ones(len(p))
    q[tested] = benjamini_hochberg(p[tested])
    n1, k1, baseline = pick["n1"], pick["k1"], pick["baseline"]
    with np.errstate(divide="ignore", invalid="ignore"):
        low = stats.beta.ppf(0.05, k1 + 0.5, n1 - k1 + 0.5)  # Jeffreys 90% lower bound
    frame = counts.index.cells.assign(
        recent_days=pick["days"].astype(np.int64),
        recent_claims=n1.round().astype(np.int64),
        recent_denied=k1.round().astype(np.int64),
        recent_rate=pick["rate"],
        recent_denied_charge=pick["charge1"],
        baseline_claims=pick["n0"].round().astype(np.int64),
        baseline_denied=pick["k0"].round().astype(np.int64),
        baseline_rate=baseline,
        lift=pick["rate"] - baseline,
        lift_low=low - baseline,
        p_value=p,
        q_value=q,
        tested=tested,
        alert=tested & (q <= settings.alpha),
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
    "recent_days",
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
    dominant = [
        _dominant(counts, int(c), date, int(days)) for c, days in alerts["recent_days"].items()
    ]
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
