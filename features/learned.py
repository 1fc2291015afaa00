"""History-derived state: fitted on a history, saved with the model, applied unchanged later.

Every learner builds ``AsOfTable``s from events dated in the history (outcomes by adjudication
date, claims by submission date) and is looked up strictly before each claim's submission day,
so a history row sees what a request would have seen on that day, and no later outcome.

- ``DecayedRate``: a payer's denial rate in one category for claims or lines sharing a key,
  recency-weighted (half-life ``tau_days * ln 2``, counted back from the key's latest outcome)
  so a policy change shows within weeks, and shrunk towards the same key across payers, then
  the global rate, so rare payer x code pairs borrow strength instead of reading 0/1 as
  certainty.
- ``DenialCount``: earlier denials in one category for the same member, patient or provider.
- ``LastPaidService``: the latest date of service a payer paid for the member.
- ``RepeatRate``: a payer's denial rate for lines repeating services it already paid for the
  member (frequency limits), per how often it paid them this year.
- ``FilingLimit``: per payer, the shortest lag that drew a timely-filing denial and the longest
  lag that was paid.
- ``SubmissionLog``: what earlier submissions sharing a key showed (no outcome needed):
  ``PriorSubmissions`` of the same patient, service date and code; ``MemberIds``, the member
  id a patient was last billed under at a payer.
- ``Vocabulary``: the frequent values of a text fact (payer, code, code pair) as integer
  levels, so trees can split on who and what a claim is (categorical features).

Each fitted learner also ``merge``s fits of disjoint partitions of a history (a cluster fits
every partition, then merges): the result equals the fit of the whole history (decayed sums up
to rounding).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, Literal

import numpy as np

from features.asof import FEW, Accumulate, AsOfTable, combine_hashes, day_numbers
from features.batch import Table, table_length
from features.categories import Category
from features.facts import Facts

BASE_RATE = 0.01  # prior for the global rate before any outcome is known
EXCESS_FLOOR = 1e-6  # a repeat rate's excess below this is rounding, not evidence


@dataclass(frozen=True)
class Outcomes:
    """First-pass outcomes aligned with a batch's claims (``adj_day`` -1 when unlabeled)."""

    adj_day: np.ndarray
    denied: np.ndarray
    category: np.ndarray  # object array of category names or None

    def denied_in(self, category: str | tuple[str, ...]) -> np.ndarray:
        categories = (category,) if isinstance(category, str) else category
        return self.denied & np.logical_or.reduce([self.category == c for c in categories])


def _level(facts: Facts, level: str) -> Table:
    return facts.lines if level == "line" else facts.claims


def _claim_of(facts: Facts, level: str) -> np.ndarray:
    if level == "line":
        return facts.lines["claim_pos"]
    return np.arange(facts.n_claims)


@dataclass(frozen=True)
class DecayedRate:
    """Recency-weighted rate of ``category`` denials among rows sharing ``key``.

    ``key`` names fact columns; its first column is dropped for the shrinkage parent (so the
    parent of payer x code is code across payers). ``where`` restricts the rows it is learned
    from and applied to.
    """

    category: Category | tuple[Category, ...]
    key: tuple[str, ...]
    level: Literal["line", "claim"] = "line"
    where: str | None = None
    tau_days: float = 60.0
    prior_weight: float = 5.0

    def _rows(self, facts: Facts) -> np.ndarray:
        frame = _level(facts, self.level)
        if self.where is None:
            return np.ones(table_length(frame), dtype=bool)
        return zero_nan(np.asarray(frame[self.where], dtype=float)) > 0

    def _keys(self, facts: Facts) -> list[np.ndarray]:
        n = table_length(_level(facts, self.level))
        return [
            facts.key(self.level, self.key),
            facts.key(self.level, self.key[1:]),
            np.zeros(n, np.uint64),
        ]

    def fit(self, facts: Facts, outcomes: Outcomes) -> FittedRate:
        claim = _claim_of(facts, self.level)
        rows = self._rows(facts) & (outcomes.adj_day[claim] >= 0)
        days = outcomes.adj_day[claim][rows]
        ref_day = int(days.min()) if len(days) else 0
        weight = np.exp((days - ref_day) / self.tau_days)
        denied = outcomes.denied_in(self.category)[claim][rows]
        values = {"n": weight, "d": weight * denied}
        tables = tuple(
            AsOfTable.build(keys[rows], days, values, {"n": "sum", "d": "sum"})
            for keys in self._keys(facts)
        )
        return FittedRate(self, tables, ref_day)


@dataclass(frozen=True)
class FittedRate:
    """The decayed counts of a ``DecayedRate``.

    A key's outcomes are weighted by their age at the key's own latest outcome, not at the
    looked-up day: newer outcomes outweigh older ones, but evidence nothing newer replaced
    keeps its strength against the parent. A seasonal code (a flu shot billed each autumn)
    or a request scored months after the history still reads last season's denials, instead
    of watching the rate fade towards its parent while no newer outcome came."""

    spec: DecayedRate
    tables: tuple[AsOfTable, ...]  # full key, parent key, global; columns n, d
    ref_day: int

    @staticmethod
    def merge(parts: Sequence[FittedRate]) -> FittedRate:
        """One rate from fits of disjoint partitions: each partition's decayed weights are
        rescaled to the earliest reference day, then the tables merged."""
        learned = [p for p in parts if len(p.tables[-1].composite)] or list(parts[:1])
        ref_day = min(p.ref_day for p in learned)
        tau = learned[0].spec.tau_days
        tables = tuple(
            AsOfTable.merge(
                [
                    replace(p.tables[level], values=p.tables[level].values
                            * np.exp((p.ref_day - ref_day) / tau))
                    for p in learned
                ]
            )
            for level in range(len(learned[0].tables))
        )  # fmt: skip
        return FittedRate(learned[0].spec, tables, ref_day)

    def lookup(self, facts: Facts) -> np.ndarray:
        """The shrunk rate per row of the spec's level; NaN for rows outside ``where``."""
        spec = self.spec
        days = facts.claims["sub_day"][_claim_of(facts, spec.level)]
        keys = spec._keys(facts)
        rate = self._after_history(keys, days) if len(days) <= FEW else None
        if rate is None:
            rate = np.full(len(days), BASE_RATE)
            for table, level_keys in zip(reversed(self.tables), reversed(keys), strict=True):
                counts, last = table.lookup_dated(level_keys, days)
                n, d = zero_nan(counts).T
                rate = _shrunk(n, d, rate, self._decay(last), spec.prior_weight)
        return np.where(spec._rows(facts), rate, np.nan)

    def root(self, facts: Facts) -> np.ndarray:
        """Per row of the spec's level: the rate over all keys (the shrinkage's root)."""
        days = facts.claims["sub_day"][_claim_of(facts, self.spec.level)]
        counts, last = self.tables[-1].lookup_dated(np.zeros(len(days), np.uint64), days)
        n, d = zero_nan(counts).T
        return _shrunk(n, d, BASE_RATE, self._decay(last), self.spec.prior_weight)

    def _decay(self, last: Any) -> Any:
        """The factor that gives a key's latest outcome (on day ``last``; -1 for a key without
        outcomes) weight 1."""
        return np.exp(-(np.maximum(last, self.ref_day) - self.ref_day) / self.spec.tau_days)

    def _after_history(self, keys: list[np.ndarray], days: np.ndarray) -> np.ndarray | None:
        """The same rates in plain floats for a few rows dated after the history (requests:
        numpy's per-call cost would dominate); None when a row needs the as-of search."""
        day_list = day_numbers(days).tolist()
        if min(day_list, default=0) < 0:
            return None
        levels = []
        for table, level_keys in zip(self.tables, keys, strict=True):
            level = table.latest_dated(level_keys.tolist(), day_list)
            if level is None:
                return None
            levels.append(level)
        rates = []
        for row in range(len(day_list)):
            rate = BASE_RATE
            for level in reversed(levels):
                last, (n, d) = level[row] or (self.ref_day, (0.0, 0.0))
                rate = _shrunk(n, d, rate, float(self._decay(last)), self.spec.prior_weight)
            rates.append(rate)
        return np.array(rates, dtype=float)


def _shrunk(n: Any, denied: Any, parent: Any, decay: Any, prior_weight: float) -> Any:
    """Decayed denials over decayed claims, shrunk towards the parent rate (floats or arrays)."""
    return (denied * decay + prior_weight * parent) / (n * decay + prior_weight)


@dataclass(frozen=True)
class DenialCount:
    """Earlier ``category`` denials (adjudicated before submission) of claims sharing ``key``."""

    category: Category
    key: str
    table: AsOfTable | None = None

    def fit(self, facts: Facts, outcomes: Outcomes) -> DenialCount:
        rows = outcomes.denied_in(self.category) & (outcomes.adj_day >= 0)
        keys = facts.claims[self.key][rows]
        ones = np.ones(int(rows.sum()))
        table = AsOfTable.build(keys, outcomes.adj_day[rows], {"n": ones}, {"n": "sum"})
        return replace(self, table=table)

    @staticmethod
    def merge(parts: Sequence[DenialCount]) -> DenialCount:
        return replace(parts[0], table=AsOfTable.merge([_fitted(p.table) for p in parts]))

    def lookup(self, facts: Facts) -> np.ndarray:
        keys, days = facts.claims[self.key], facts.claims["sub_day"]
        return zero_nan(_fitted(self.table).lookup(keys, days)[:, 0])


@dataclass(frozen=True)
class LastPaidService:
    """Per member at a payer: the latest date of service the payer paid, as of each claim
    (a payment is known from its adjudication day): coverage was active then. ``last_day`` is
    the history's last adjudication: a request scored later is measured from it, as the
    training rows were (no payment after it is known, though many come)."""

    table: AsOfTable | None = None
    last_day: int = -1

    def fit(self, facts: Facts, outcomes: Outcomes) -> LastPaidService:
        paid = (outcomes.adj_day >= 0) & ~outcomes.denied
        values = {"service_day": facts.claims["svc_day"][paid]}
        table = AsOfTable.build(
            facts.claims["member_key"][paid], outcomes.adj_day[paid], values, {"service_day": "max"}
        )
        return replace(self, table=table, last_day=int(outcomes.adj_day.max(initial=-1)))

    @staticmethod
    def merge(parts: Sequence[LastPaidService]) -> LastPaidService:
        return replace(
            parts[0],
            table=AsOfTable.merge([_fitted(p.table) for p in parts]),
            last_day=max(p.last_day for p in parts),
        )

    def lookup(self, facts: Facts) -> np.ndarray:
        """Per claim: the day of service last paid, NaN where none yet."""
        keys, days = facts.claims["member_key"], facts.claims["sub_day"]
        return _fitted(self.table).lookup(keys, days)[:, 0]

    def days_since(self, facts: Facts) -> np.ndarray:
        """Per claim: days from the service last paid to this one's date of service, or to
        the history's last adjudication when that is earlier."""
        return np.minimum(facts.claims["svc_day"], self.last_day) - self.lookup(facts)


@dataclass(frozen=True)
class RepeatRate:
    """A payer's ``category`` denial rate for lines that repeat a service it paid for the same
    member: frequency limits (a preventive visit once a calendar year, a wellness visit once in
    twelve months, a lab four times a year, a cap on therapy visits) deny the repeat, not the
    first service.

    A line's repeat level says how many services of its code the payer paid for the member in
    the line's calendar year, as known before submission (levels 2, 3, 4, 5, ... for 1, 2,
    3-4, 5-8, ... paid), or 1 when none this year but one within the 365 days before; 0 is no
    repeat (and a paid service of the same day, a duplicate's business). The rate is learned
    per payer x code x level from the history's repeats (``DecayedRate``, shrunk towards the
    code x level across payers: frequency limits are often national), so a limit shows at the
    level where the payer's denials begin."""

    category: Category
    paid_in_year: AsOfTable | None = None  # per member x code x calendar year: services paid
    last_paid: AsOfTable | None = None  # per member x code: latest service day paid
    rate: FittedRate | None = None

    def fit(self, facts: Facts, outcomes: Outcomes) -> RepeatRate:
        claim = facts.lines["claim_pos"]
        paid = ((outcomes.adj_day >= 0) & ~outcomes.denied)[claim]
        days = outcomes.adj_day[claim][paid]
        lines = facts.lines
        in_year = AsOfTable.build(
            lines["member_code_year_key"][paid], days, {"n": np.ones(len(days))}, {"n": "sum"}
        )
        last = AsOfTable.build(
            lines["member_code_key"][paid], days, {"day": lines["line_day"][paid]}, {"day": "max"}
        )
        learned = replace(self, paid_in_year=in_year, last_paid=last)
        rate = self._spec().fit(learned._with_levels(facts), outcomes)
        return replace(learned, rate=rate)

    def _spec(self) -> DecayedRate:
        return DecayedRate(
            self.category, ("payer_id", "procedure_code", "repeat_level"), where="repeat_level"
        )

    @staticmethod
    def merge(parts: Sequence[RepeatRate]) -> RepeatRate:
        """Partitions hold whole members, so each part's levels were already exact."""
        return replace(
            parts[0],
            paid_in_year=AsOfTable.merge([_fitted(p.paid_in_year) for p in parts]),
            last_paid=AsOfTable.merge([_fitted(p.last_paid) for p in parts]),
            rate=FittedRate.merge([p.rate for p in parts if p.rate is not None]),
        )

    def paid_before(self, facts: Facts) -> tuple[np.ndarray, np.ndarray]:
        """Per line, as known before submission: services of its code the payer paid for the
        member in the line's calendar year, and the latest such service day (NaN: none)."""
        lines = facts.lines
        days = facts.claims["sub_day"][lines["claim_pos"]]
        in_year = _fitted(self.paid_in_year).lookup(lines["member_code_year_key"], days)[:, 0]
        last = _fitted(self.last_paid).lookup(lines["member_code_key"], days)[:, 0]
        return zero_nan(in_year), last

    def levels(self, facts: Facts) -> np.ndarray:
        """Per line: its repeat level (see the class)."""
        in_year, last = self.paid_before(facts)
        since = facts.lines["line_day"] - last
        by_count = 2.0 + np.ceil(np.log2(np.maximum(in_year, 1.0)))
        level = np.where(in_year >= 1, by_count, np.where((since >= 1) & (since <= 365), 1.0, 0.0))
        return np.where(since == 0, 0.0, level)

    def _with_levels(self, facts: Facts) -> Facts:
        return facts.with_lines(repeat_level=self.levels(facts))

    def lookup(self, facts: Facts) -> np.ndarray:
        """Per line: the rate at its repeat level; NaN for lines that repeat nothing."""
        return self._fitted_rate().lookup(self._with_levels(facts))

    def excess(self, facts: Facts) -> np.ndarray:
        """Per line: how much the rate at its repeat level exceeds the rate of all repeats
        (0 when it does not; NaN for lines that repeat nothing). Zero for a repeat nothing
        more is known of, as for a line that repeats nothing: the excess tells a service a
        payer limits from one it does not, not a returning patient from a new one. Below
        ``EXCESS_FLOOR`` it is 0: the rounding of a rate shrunk all the way to the root is not
        a value trees should split on."""
        excess = self.lookup(facts) - self._fitted_rate().root(facts)
        return np.where(excess < EXCESS_FLOOR, 0.0, excess)

    def _fitted_rate(self) -> FittedRate:
        if self.rate is None:
            raise ValueError("repeat rate looked up before it was fitted")
        return self.rate


@dataclass(frozen=True)
class FilingLimit:
    """Per payer: shortest lag denied for timely filing, longest lag paid (as of each claim)."""

    table: AsOfTable | None = None

    def fit(self, facts: Facts, outcomes: Outcomes) -> FilingLimit:
        labeled = outcomes.adj_day >= 0
        lag = facts.claims["lag_days"]
        late = outcomes.denied_in("timely_filing")
        values = {
            "denied_min_lag": np.where(late, lag, np.inf)[labeled],
            "paid_max_lag": np.where(~outcomes.denied, lag, -np.inf)[labeled],
        }
        keys = facts.key("claim", ("payer_id",))[labeled]
        how: dict[str, Accumulate] = {"denied_min_lag": "min", "paid_max_lag": "max"}
        table = AsOfTable.build(keys, outcomes.adj_day[labeled], values, how)
        return replace(self, table=table)

    @staticmethod
    def merge(parts: Sequence[FilingLimit]) -> FilingLimit:
        return replace(parts[0], table=AsOfTable.merge([_fitted(p.table) for p in parts]))

    def lookup(self, facts: Facts) -> np.ndarray:
        """Per claim: [shortest lag denied as late, longest lag paid], NaN where none yet."""
        payers, days = facts.key("claim", ("payer_id",)), facts.claims["sub_day"]
        found = _fitted(self.table).lookup(payers, days)
        return np.where(np.isfinite(found), found, np.nan)


@dataclass(frozen=True)
class SubmissionLog:
    """What earlier submissions sharing a key showed: how many, the day of the latest, and a
    value of the latest (``events`` says which: the member id a patient was billed under).

    A submission needs no outcome, so claims submitted after the history (the other claims of
    a batch or file being scored) count too once ``remember``ed: a resubmission whose first
    copy is in the same file is a duplicate as surely as one whose first copy is in the
    history, and training saw every earlier submission of the history the same way.
    """

    table: AsOfTable | None = None
    through: int = -1  # the history's last submission day
    recent: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # keys, days, latest

    def events(self, facts: Facts) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per row of the learner's level: its key, submission day and value."""
        raise NotImplementedError

    def fit(self, facts: Facts, outcomes: Outcomes) -> SubmissionLog:
        keys, days, latest = self.events(facts)
        return replace(
            self, table=_submissions(keys, days, latest), through=int(days.max(initial=-1))
        )

    def remember(self, facts: Facts) -> SubmissionLog:
        """This state and the submissions of ``facts`` dated after the history."""
        return self.remember_events(*self.events(facts))

    def remember_events(
        self, keys: np.ndarray, days: np.ndarray, latest: np.ndarray
    ) -> SubmissionLog:
        """This state and the given submissions (as ``events`` gives them) dated after the
        history: those of claims scored earlier, found by key elsewhere (the prediction
        store), count as the claims of the same file do."""
        after = days > self.through
        if not after.any():
            return self
        keys, days, latest = keys[after], days[after], latest[after]
        if self.recent is not None:
            known_keys, known_days, known_latest = self.recent
            keys = np.concatenate([known_keys, keys])
            days = np.concatenate([known_days, days])
            latest = np.concatenate([known_latest, latest])
        return replace(self, recent=(keys, days, latest))

    @cached_property
    def _recent_table(self) -> AsOfTable | None:
        return None if self.recent is None else _submissions(*self.recent)

    @staticmethod
    def merge(parts: Sequence[SubmissionLog]) -> SubmissionLog:
        """One log from fits of disjoint partitions of a history."""
        return replace(
            parts[0],
            table=AsOfTable.merge([_fitted(p.table) for p in parts]),
            through=max(p.through for p in parts),
        )

    def lookup(self, facts: Facts) -> np.ndarray:
        """Per row: [earlier submissions, day of the latest, its value], NaN where none."""
        keys, days, _ = self.events(facts)
        found = _fitted(self.table).lookup(keys, days)
        recent = self._recent_table
        if recent is None:
            return found
        more = recent.lookup(keys, days)
        seen = ~np.isnan(more[:, 0])
        count = np.where(np.isnan(found[:, 0]) & ~seen, np.nan, 0.0)
        count += zero_nan(found[:, 0]) + zero_nan(more[:, 0])
        latest = np.where(seen, more[:, 2], found[:, 2])
        return np.column_stack([count, np.fmax(found[:, 1], more[:, 1]), latest])


def _submissions(keys: np.ndarray, days: np.ndarray, latest: np.ndarray) -> AsOfTable:
    """The events as a table; of one key's events on one day, the largest value is the
    latest (not the last in input order, which a partitioned history does not keep)."""
    order = np.argsort(latest, kind="stable")
    keys, days, latest = keys[order], days[order], latest[order]
    values = {"n": np.ones(len(days)), "last_day": days, "latest": latest}
    return AsOfTable.build(keys, days, values, {"n": "sum", "last_day": "max", "latest": "last"})


@dataclass(frozen=True)
class PriorSubmissions(SubmissionLog):
    """Earlier submissions of the same patient, service date and procedure code."""

    def events(self, facts: Facts) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        lines = facts.lines
        days = facts.claims["sub_day"][lines["claim_pos"]]
        return lines["dup_key"], days, days


@dataclass(frozen=True)
class MemberIds(SubmissionLog):
    """The member id each patient was last billed under at each payer (a 53-bit digest)."""

    def events(self, facts: Facts) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        keys = combine_hashes([facts.claims["patient_key"], facts.key("claim", ("payer_id",))])
        return keys, facts.claims["sub_day"], member_digest(facts)


def member_digest(facts: Facts) -> np.ndarray:
    """Each claim's member id at its payer as a float that equal ids, and only they, share
    (53 bits of the hash)."""
    return (facts.claims["member_key"] >> np.uint64(11)).astype(float)


@dataclass(frozen=True)
class Vocabulary:
    """Integer levels of a text fact: its ``max_levels`` most frequent values seen at least
    ``min_count`` times among the history's claims get 0, 1, ...; any other value the next
    level (rare or new), an unknown value NaN. The levels carry no outcome: only which values
    are frequent enough to tell apart."""

    column: str
    level: Literal["line", "claim"] = "claim"
    min_count: int = 20
    max_levels: int = 200
    levels: dict[str, int] | None = None
    counts: dict[str, int] | None = None  # every value's count (what fits merge by)

    def fit(self, facts: Facts, outcomes: Outcomes) -> Vocabulary:
        values = [v for v in _level(facts, self.level)[self.column] if v is not None]
        return self._with_counts(Counter(values))

    def _with_counts(self, counts: Counter[str]) -> Vocabulary:
        """The levels of the ``max_levels`` most frequent values (ties by value, so the order
        the claims came in does not matter) counted at least ``min_count`` times."""
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        frequent = sorted(v for v, n in ranked[: self.max_levels] if n >= self.min_count)
        levels = {value: i for i, value in enumerate(frequent)}
        return replace(self, levels=levels, counts=dict(counts))

    @staticmethod
    def merge(parts: Sequence[Vocabulary]) -> Vocabulary:
        total: Counter[str] = Counter()
        for part in parts:
            total.update(part.counts or {})
        return parts[0]._with_counts(total)

    def lookup(self, facts: Facts) -> np.ndarray:
        levels = self.levels
        if levels is None:
            raise RuntimeError("learner used before it was fitted")
        rare = float(len(levels))
        values = _level(facts, self.level)[self.column]
        return np.fromiter(
            (np.nan if v is None else levels.get(v, rare) for v in values), float, len(values)
        )


def merge_fitted(parts: Sequence[Any]) -> Any:
    """The merge of fits of one learner on disjoint partitions of a history."""
    merged: Any = type(parts[0]).merge(parts)
    return merged


def zero_nan(values: np.ndarray) -> np.ndarray:
    """NaN as 0 (cheaper than np.nan_to_num on the one-claim path)."""
    return np.where(np.isnan(values), 0.0, values)


def _fitted(table: AsOfTable | None) -> AsOfTable:
    if table is None:
        raise RuntimeError("learner used before it was fitted")
    return table
