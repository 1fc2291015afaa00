"""Dialects: ways a world differs from the default one in its mechanisms, not only its seed.

A ``Dialect`` holds the knobs; every default is today's world, and a default dialect draws no
random number, so the same seed gives the same bytes as before dialects existed. Each knob
that is not at its default draws from its own stream (``dialect_rng``), so one knob does not
reshuffle what another produced. The named worlds built from these knobs are in
``simulator.zoo``.

The knobs, by where they act:

- the world: ``practices`` (how many), ``claims`` (a fixed history size), ``plan_mix`` (the
  share of patients per plan type);
- the payers: ``carc`` (which CARC a payer reports for a cause; the ground truth's category
  then follows the contract's CARC table, because the payer's own code decides),
  ``rules`` (rule changes the practice is not told about), ``policy_change`` (False: a world
  without the default mid-history policy change, to measure a monitor's false alarms);
- the practice's context exports (what the PM system hands over; the payer adjudicates on
  the truth unless said otherwise): ``reversed_auth_dates`` (the auth was keyed with its
  dates swapped, at the payer too, so it covers nothing), ``auth_number_typos`` (the claim
  carries a mistyped authorization number the payer cannot match), ``missing_context``
  (authorizations without units, checks without coverage dates), ``stale_checks`` (a check
  exported as the cached earlier 'active' answer), ``reversed_coverage`` (a check's coverage
  dates swapped in the export);
- submission: ``duplicate_rate`` and ``quick_duplicates`` (a resubmission a few days after
  the first copy, which is then often another recent request), ``credential_lapses`` (a
  provider's enrollment with a payer lapses for weeks and is renewed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

RuleKind = Literal[
    "prior_authorization_required", "units_limit", "modifier_25_required", "frequency_limit"
]
_STREAMS = (
    "plan_mix", "reversed_auth_dates", "auth_number_typos", "missing_context", "stale_checks",
    "reversed_coverage", "credential_lapses", "missing_auth_units",
)  # fmt: skip


@dataclass(frozen=True)
class RuleChange:
    """A payer rule that starts during the history without the practice being told.

    ``prior_authorization_required``: the payer wants an authorization for the code; the
    practice's auth log never covers it (it obtains none). ``units_limit``: the payer pays at
    most ``limit`` units of the code per line (CARC 151). ``modifier_25_required``: the payer
    denies every E/M of the code billed with a minor procedure without modifier 25 (CARC 97).
    ``frequency_limit``: the payer covers at most ``limit`` services of the code per patient
    per calendar year; later ones are not covered (the payer's not-covered CARC). Services
    are counted from the patient's encounters of the year, paid or not (the simulator
    adjudicates claims all at once).
    """

    payer_id: str
    procedure_code: str
    kind: RuleKind
    at: float = 0.6  # share of the history elapsed on the day it starts
    limit: int = 0  # units_limit and frequency_limit only

    def effective(self, start: int, end: int) -> int:
        """The day (days since 1970-01-01) the rule starts."""
        return start + round((end - start) * self.at)

    def document(self, start: int, end: int) -> dict[str, object]:
        day = dt.date(1970, 1, 1) + dt.timedelta(days=self.effective(start, end))
        doc: dict[str, object] = {
            "payer_id": self.payer_id,
            "procedure_code": self.procedure_code,
            "kind": self.kind,
            "effective": day.isoformat(),
        }
        if self.kind in ("units_limit", "frequency_limit"):
            doc["limit"] = self.limit
        return doc


@dataclass(frozen=True)
class Dialect:
    """The knobs of a world; the defaults are the default world."""

    name: str = "default"
    description: str = ""
    practices: int | None = None  # None: one per 40,000 history claims, at least 3
    claims: int | None = None  # a fixed history size (overrides the one asked for)
    plan_mix: Mapping[str, float] | None = None  # plan type -> share of patients
    carc: Mapping[tuple[str, str], str] = field(default_factory=dict)  # (payer, cause) -> CARC
    rules: tuple[RuleChange, ...] = ()
    policy_change: bool = True  # the default world's mid-history policy change
    reversed_auth_dates: float = 0.0
    auth_number_typos: float = 0.0
    missing_context: float = 0.0
    stale_checks: float = 0.0
    reversed_coverage: float = 0.0
    duplicate_rate: float = 0.006
    quick_duplicates: bool = False
    credential_lapses: float = 0.0  # share of (provider, payer) enrollments that lapse

    @property
    def is_default(self) -> bool:
        return self == Dialect(name=self.name, description=self.description)

    def rules_of(self, kind: RuleKind) -> tuple[RuleChange, ...]:
        return tuple(r for r in self.rules if r.kind == kind)

    def document(self, start: int, end: int) -> dict[str, object]:
        """The dialect as plain JSON-able data (for world.json)."""
        return {
            "name": self.name,
            "description": self.description,
            "practices": self.practices,
            "claims": self.claims,
            "plan_mix": dict(self.plan_mix) if self.plan_mix else None,
            "carc": [
                {"payer_id": payer, "cause": cause, "carc": carc}
                for (payer, cause), carc in sorted(self.carc.items())
            ],
            "rule_changes": [r.document(start, end) for r in self.rules],
            "policy_change": self.policy_change,
            "reversed_auth_dates": self.reversed_auth_dates,
            "auth_number_typos": self.auth_number_typos,
            "missing_context": self.missing_context,
            "stale_checks": self.stale_checks,
            "reversed_coverage": self.reversed_coverage,
            "duplicate_rate": self.duplicate_rate,
            "quick_duplicates": self.quick_duplicates,
            "credential_lapses": self.credential_lapses,
        }


DEFAULT = Dialect()


def dialect_rng(seed: int, knob: str) -> np.random.Generator:
    """The random stream of one knob of one world."""
    return np.random.default_rng([seed, 0xD1A1, _STREAMS.index(knob)])
