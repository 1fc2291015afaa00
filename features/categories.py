"""Denial categories, the CARC denial set, and the label derived from first-pass outcomes.

Contract section 3: a claim is denied when CLP02 is 4, or when any adjustment in group CO, OA
or PI carries a CARC of the denial set. Its category is that of its first denial CARC; an
unlisted CARC on a CLP02=4 claim makes it a denial in category ``other``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import pandas as pd

Category = Literal[
    "eligibility",
    "authorization",
    "coding",
    "documentation",
    "timely_filing",
    "credentialing",
    "duplicate",
    "medical_necessity",
    "coordination_of_benefits",
    "non_covered",
    "other",
]
CATEGORIES: tuple[Category, ...] = get_args(Category)


def _carcs(codes: str) -> tuple[str, ...]:
    return tuple(codes.split())


@dataclass(frozen=True)
class CategoryInfo:
    """What a category means to the staff who fix it."""

    name: Category
    title: str
    action: str
    carcs: tuple[str, ...]


CATEGORY_TABLE: dict[Category, CategoryInfo] = {
    info.name: info
    for info in (
        CategoryInfo(
            "eligibility",
            "Coverage may not be active for this service",
            "Verify coverage for the date of service (270/271), correct the member id, "
            "or bill the right payer.",
            _carcs("26 27 31 32 33 140 177 200"),
        ),
        CategoryInfo(
            "authorization",
            "Authorization does not cover this service",
            "Obtain or correct the prior authorization: code, dates, units and provider "
            "must match the claim.",
            _carcs("15 39 62 197 198 243"),
        ),
        CategoryInfo(
            "coding",
            "Coding edit likely to fail",
            "Review modifiers, code pairs, units, place of service and age/sex edits.",
            _carcs("4 5 6 7 8 9 10 11 58 97 146 151 181 182 189 236"),
        ),
        CategoryInfo(
            "documentation",
            "Claim data or documentation is missing",
            "Complete the missing fields and attach the records the payer asks for (PWK).",
            _carcs("16 163 164 226 227 252"),
        ),
        CategoryInfo(
            "timely_filing",
            "Claim is at or past the payer's filing limit",
            "Submit today; if already late, gather proof of timely filing for an appeal.",
            _carcs("29"),
        ),
        CategoryInfo(
            "credentialing",
            "Provider may not be enrolled with this payer",
            "Confirm the rendering provider's enrollment and network status with the payer "
            "for the date of service.",
            _carcs("170 185 242 B7"),
        ),
        CategoryInfo(
            "duplicate",
            "Looks like a duplicate of a claim already submitted",
            "Do not resubmit what is in process; send a corrected claim (frequency 7) "
            "if this one changes it.",
            _carcs("18"),
        ),
        CategoryInfo(
            "medical_necessity",
            "Diagnosis may not support the service",
            "Check that the diagnosis codes and pointers support each procedure under the "
            "payer's LCD/NCD policy.",
            _carcs("50 55 56 167"),
        ),
        CategoryInfo(
            "coordination_of_benefits",
            "Another payer may be primary",
            "Confirm the patient's other coverage and bill the primary payer first.",
            _carcs("19 20 21 22 109"),
        ),
        CategoryInfo(
            "non_covered",
            "Service may not be covered by this plan",
            "Check the plan's benefits; obtain a signed advance notice (ABN) or bill the "
            "patient where allowed.",
            _carcs("35 49 96 119 149 204"),
        ),
        CategoryInfo(
            "other",
            "Other payer edits",
            "Review the claim against the payer's remittance history.",
            _carcs("13 40 188"),
        ),
    )
}

CARC_CATEGORY: dict[str, Category] = {
    carc: info.name for info in CATEGORY_TABLE.values() for carc in info.carcs
}
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
