"""What every rule module uses: the registry its features and learners join, the ``Rule`` it
declares, and the view of one scored claim that its evidence and fix read.

A rule module (one per denial category) holds side by side everything its category *is*: the
learners and features, the evidence sentences, the fix that what-if applies, the title, the
action staff take and the CARCs payers use for it. Evidence and fixes read the same facts and
feature values the model read, so a sentence can never disagree with its feature.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from features.categories import Category
from features.contract import ClaimIn
from features.facts import Facts
from features.learned import zero_nan
from features.registry import Fitted, Registry

REGISTRY = Registry()
feature, learner = REGISTRY.feature, REGISTRY.learner

RATE_WORTH_SAYING = 0.1  # a learned denial rate below this is not evidence
_EPOCH = dt.date(1970, 1, 1)

Fix = tuple[str, ClaimIn]  # what was done, and the claim with it done


@dataclass(frozen=True)
class ScoredBatch:
    """The facts of a scored batch, and what its claims' views compute once and share."""

    facts: Facts
    fitted: Fitted
    _lookups: dict[str, Any] = field(default_factory=dict, repr=False)

    @cached_property
    def line_positions(self) -> list[np.ndarray]:
        """Per claim: the positions of its lines in ``facts.lines``."""
        claim_of_line = self.facts.lines["claim_pos"]
        order = np.argsort(claim_of_line, kind="stable")
        bounds = np.searchsorted(claim_of_line[order], np.arange(1, self.facts.n_claims))
        return np.split(order, bounds)

    def lookup(self, learner_name: str) -> np.ndarray:
        """A fitted learner's values for the batch's lines or claims, looked up once."""
        return self.once(
            learner_name, lambda: np.asarray(self.fitted[learner_name].lookup(self.facts))
        )

    def once(self, name: str, compute: Callable[[], Any]) -> Any:
        """What ``compute`` returns for the batch, computed once (evidence of many claims)."""
        if name not in self._lookups:
            self._lookups[name] = compute()
        return self._lookups[name]


@dataclass(frozen=True)
class ClaimView:
    """One claim of a scored batch: the request, its facts and its feature values."""

    claim: ClaimIn
    batch: ScoredBatch
    row: int
    values: dict[str, float]

    @property
    def facts(self) -> Facts:
        return self.batch.facts

    def lines(self) -> np.ndarray:
        """Positions of this claim's lines in ``facts.lines`` (in the claim's line order)."""
        return self.batch.line_positions[self.row]

    def line_fact(self, name: str) -> np.ndarray:
        """A line fact for this claim's lines."""
        return np.asarray(self.facts.lines[name][self.lines()])


Evidence = Callable[[ClaimView], list[str]]
FixFor = Callable[[ClaimView], Fix | None]


@dataclass(frozen=True)
class Rule:
    """Everything one denial category is, declared once.

    ``context``: the request field (``eligibility``, ``authorizations``,
    ``provider_enrollment``) without which this category cannot be checked, if any.
    ``fix``: the claim as staff would correct it, re-scored for what-if; None when the cause
    cannot be fixed on the claim (a late filing, a non-covered benefit).
    """

    category: Category
    title: str
    action: str
    carcs: tuple[str, ...]
    evidence: Evidence
    fix: FixFor | None = None
    context: str | None = None

    def describe(self) -> dict[str, Any]:
        return {"title": self.title, "action": self.action, "carcs": list(self.carcs)}


def carcs(codes: str) -> tuple[str, ...]:
    return tuple(codes.split())


# --- helpers shared by the features of several rules ---------------------------------------


def flag(condition: np.ndarray, source: np.ndarray) -> np.ndarray:
    """1/0 where ``source`` is known, NaN where it is not."""
    return np.where(np.isnan(source), np.nan, condition.astype(float))


def unknown_unless(facts: Facts, context: str, values: np.ndarray) -> np.ndarray:
    return np.where(facts.known[context], values, np.nan)


def members(values: np.ndarray, choices: frozenset[str] | dict[str, int]) -> np.ndarray:
    return np.fromiter((v in choices for v in values), bool, len(values))


def line_rate_max(f: Facts, fitted: Fitted, name: str) -> np.ndarray:
    """Highest learned rate among the lines the rate applies to; 0 when none applies."""
    return f.per_claim(fitted[name].lookup(f), "max", empty=0.0)


def claim_rate(f: Facts, fitted: Fitted, name: str) -> np.ndarray:
    return zero_nan(fitted[name].lookup(f))


# --- helpers for evidence sentences --------------------------------------------------------


def date(day: float) -> str:
    return (_EPOCH + dt.timedelta(days=int(day))).isoformat()


def pct(rate: float) -> str:
    return f"{rate:.0%}"


def known(value: float) -> bool:
    return not np.isnan(value)
