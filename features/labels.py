"""The label of a first-pass outcome: denied or not, and the denial category.

Contract section 3: a claim is denied when CLP02 is 4, or when any adjustment in group CO, OA
or PI carries a CARC of the denial set (the CARCs the rules declare). Its category is that of
its first denial CARC; an unlisted CARC on a CLP02=4 claim makes it a denial in category
``other``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.categories import Category
from features.rules import CARC_CATEGORY

DENIAL_GROUPS = frozenset({"CO", "OA", "PI"})
DENIED_STATUS = "4"
# Contractual/payment adjustments and patient responsibility: routine, never denials, and not
# worth reporting as "unlisted" when training meets them.
ROUTINE_CARCS = frozenset({"1", "2", "3", "23", "24", "42", "45", "59", "94", "253", "A2"})


@dataclass(frozen=True)
class Label:
    """The first-pass label of one claim's outcome."""

    denied: bool
    category: Category | None
    carc: str | None


def label_outcome(status_code: str, adjustments: list[str]) -> Label:
    """Label one outcome row exactly as contract section 3 says."""
    for adjustment in adjustments:
        group, _, carc = adjustment.partition("-")
        if group in DENIAL_GROUPS and carc in CARC_CATEGORY:
            return Label(True, CARC_CATEGORY[carc], carc)
    if status_code == DENIED_STATUS:
        return Label(True, "other", None)
    return Label(False, None, None)


@dataclass(frozen=True)
class LabelSummary:
    """Labels for an outcomes table plus the CARCs met that the category table does not list."""

    labels: pd.DataFrame  # claim_id, denied, denial_category, denial_carc
    unlisted_carcs: Counter[str]


def label_outcomes(outcomes: pd.DataFrame) -> LabelSummary:
    """Labels for every outcome row (``adjustments`` holds lists of ``GROUP-CARC``)."""
    results = [
        label_outcome(status, adjustments)
        for status, adjustments in zip(
            outcomes["claim_status_code"], outcomes["adjustments"], strict=True
        )
    ]
    labels = pd.DataFrame(
        {
            "claim_id": outcomes["claim_id"].to_numpy(),
            "denied": np.fromiter((r.denied for r in results), bool, len(results)),
            "denial_category": pd.array([r.category for r in results], dtype="string"),
            "denial_carc": pd.array([r.carc for r in results], dtype="string"),
        }
    )
    unlisted: Counter[str] = Counter(
        carc
        for adjustments in outcomes["adjustments"]
        for carc in (a.partition("-")[2] for a in adjustments)
        if carc not in CARC_CATEGORY and carc not in ROUTINE_CARCS
    )
    return LabelSummary(labels, unlisted)
