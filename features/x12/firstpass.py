"""Which 835 claim payment is a claim's *first-pass* outcome.

Rules, applied to remittances in the order they were produced (file order, then CLP order):

- A reversal (CLP02 = 22) is never an outcome; it marks its claim, and the next adjudication
  of that claim (the re-adjudication of the pair) is ignored too. Both are counted.
- Otherwise the payment goes to the first version of the claim that has no outcome yet:
  ``CLM01`` itself, then the possible duplicates ``CLM01#2``, ``CLM01#3``... in submission order
  (a payer usually denies a duplicate submission with CARC 18, which is worth learning).
- A claim whose row was replaced by a corrected claim (frequency 7) does not take a payment
  whose CLP09 says it adjudicated the original (frequency 1); that payment is counted.
- A payment for a claim that already has its outcome is a later adjudication: counted, ignored.
- A payment for an unknown claim is unmatched (the ingest parks it until its claim arrives).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from features.x12.codes import REVERSAL_STATUS

Decision = Literal[
    "assigned", "reversal", "readjudication", "later", "replaced_original", "unmatched"
]


@dataclass
class OutcomeMatcher:
    """Assigns payments to claim versions; its state is the claims known so far."""

    versions: dict[str, list[str]] = field(default_factory=dict)  # CLM01 -> claim ids
    frequency: dict[str, str] = field(default_factory=dict)  # claim id -> CLM05-3
    has_outcome: set[str] = field(default_factory=set)
    pending_reversal: set[str] = field(default_factory=set)  # CLM01s
    counts: Counter[str] = field(default_factory=Counter)

    def add_claim(self, base: str, claim_id: str, frequency: str) -> None:
        versions = self.versions.setdefault(base, [])
        if claim_id not in versions:
            versions.append(claim_id)
        self.frequency[claim_id] = frequency

    def offer(
        self, claim_id: str, status: str, claim_frequency: str | None = None
    ) -> tuple[Decision, str | None]:
        """Decide what one CLP is; returns the decision and the claim id it was assigned to."""
        decision, target = self._decide(claim_id, status, claim_frequency)
        self.counts[decision] += 1
        return decision, target

    def _decide(
        self, base: str, status: str, claim_frequency: str | None
    ) -> tuple[Decision, str | None]:
        versions = self.versions.get(base)
        if not versions:
            return "unmatched", None
        if status == REVERSAL_STATUS:
            self.pending_reversal.add(base)
            return "reversal", None
        if base in self.pending_reversal:
            self.pending_reversal.discard(base)
            return "readjudication", None
        for version in versions:
            if version in self.has_outcome:
                continue
            if self.frequency.get(version) == "7" and claim_frequency == "1":
                return "replaced_original", None
            self.has_outcome.add(version)
            return "assigned", version
        return "later", None


@dataclass(frozen=True)
class FirstPass:
    outcomes: pd.DataFrame  # the chosen rows, claim_id rewritten to the version they went to
    counts: Counter[str]


def first_pass(rows: pd.DataFrame) -> FirstPass:
    """First-pass outcomes of 835 rows alone (each CLP01 taken as one submitted claim).

    ``rows`` are ``Remits835.outcome_rows()`` frames, concatenated in production order.
    """
    matcher = OutcomeMatcher()
    for claim_id in rows["claim_id"]:
        matcher.add_claim(claim_id, claim_id, "")
    keep: list[int] = []
    for position, (claim_id, status) in enumerate(
        zip(rows["claim_id"], rows["claim_status_code"], strict=True)
    ):
        decision, _ = matcher.offer(claim_id, status)
        if decision == "assigned":
            keep.append(position)
    return FirstPass(rows.iloc[keep].reset_index(drop=True), matcher.counts)
