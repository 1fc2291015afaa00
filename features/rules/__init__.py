"""One module per denial category: what the category is, its features and learners, the
evidence sentences, the fix what-if applies, its title, action and CARCs (see ``base``).

Importing this package registers every rule's features and learners in ``REGISTRY`` in the
contract's category order (which fixes the feature order of the model), and checks that every
category of the contract is covered by exactly one rule.

To add a rule: add a feature (and, if it needs history, a learner) to its category's module,
and a sentence to that module's ``evidence`` (and ``fix`` if staff can correct it on the claim).
"""

from __future__ import annotations

from features.categories import CATEGORIES, Category
from features.rules import (
    authorization,
    coding,
    coordination_of_benefits,
    credentialing,
    documentation,
    duplicate,
    eligibility,
    medical_necessity,
    non_covered,
    other,
    timely_filing,
)
from features.rules.base import REGISTRY, ClaimView, Fix, Rule, ScoredBatch

_MODULES = (
    eligibility,
    authorization,
    coding,
    documentation,
    timely_filing,
    credentialing,
    duplicate,
    medical_necessity,
    coordination_of_benefits,
    non_covered,
    other,
)


def _rules() -> dict[Category, Rule]:
    rules = [module.RULE for module in _MODULES]
    declared = [rule.category for rule in rules]
    if sorted(declared) != sorted(CATEGORIES) or len(set(declared)) != len(declared):
        raise ImportError(f"rules must cover each contract category once; got {declared}")
    return {category: next(r for r in rules if r.category == category) for category in CATEGORIES}


RULES: dict[Category, Rule] = _rules()
# Per claim request field: the category that cannot be checked without it.
NOT_CHECKED: dict[str, Category] = {r.context: r.category for r in RULES.values() if r.context}
CARC_CATEGORY: dict[str, Category] = {c: r.category for r in RULES.values() for c in r.carcs}

__all__ = [
    "CARC_CATEGORY",
    "NOT_CHECKED",
    "REGISTRY",
    "RULES",
    "ClaimView",
    "Fix",
    "Rule",
    "ScoredBatch",
]
