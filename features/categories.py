"""The denial categories of the contract (section 3). What each one is (title, action, CARCs,
features, evidence, fix) is declared by its rule module, ``features.rules``."""

from __future__ import annotations

from typing import Literal, get_args

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
