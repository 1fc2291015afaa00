"""The feature registry: named, documented features, each speaking for one denial category.

A reason is the sum of SHAP over the features of one category, so every feature belongs to
exactly one. History-derived state comes from named learners (``features.learned``); a feature
declares which learner it reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from features.categories import CATEGORIES, Category
from features.facts import Facts

Fitted = Mapping[str, Any]
Compute = Callable[[Facts, Fitted], np.ndarray]


class Learner(Protocol):
    def fit(self, facts: Facts, outcomes: Any) -> Any: ...


@dataclass(frozen=True)
class Feature:
    """One model input: a pure function of a batch's facts and the fitted learners."""

    name: str
    category: Category
    description: str
    compute: Compute
    kind: str = "float"  # "float", "count", "flag" (0/1), "days", "rate", "code"


@dataclass
class Registry:
    features: dict[str, Feature] = field(default_factory=dict)
    learners: dict[str, Learner] = field(default_factory=dict)

    def feature(
        self, name: str, category: Category, description: str, kind: str = "float"
    ) -> Callable[[Compute], Compute]:
        if category not in CATEGORIES:
            raise ValueError(f"{name}: unknown category {category!r}")

        def register(compute: Compute) -> Compute:
            if name in self.features:
                raise ValueError(f"feature {name!r} registered twice")
            self.features[name] = Feature(name, category, description, compute, kind)
            return compute

        return register

    def learner(self, name: str, learner: Learner) -> str:
        if name in self.learners:
            raise ValueError(f"learner {name!r} registered twice")
        self.learners[name] = learner
        return name

    def __iter__(self) -> Iterator[Feature]:
        """In the contract's category order, then in the order of registration (the model's
        feature order, whatever order the rule modules were imported in)."""
        return iter(sorted(self.features.values(), key=lambda f: CATEGORIES.index(f.category)))

    def names(self) -> list[str]:
        return [feature.name for feature in self]

    def by_category(self) -> dict[Category, list[str]]:
        groups: dict[Category, list[str]] = {c: [] for c in CATEGORIES}
        for feature in self:
            groups[feature.category].append(feature.name)
        return groups
