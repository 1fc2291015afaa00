"""Which denial category a feature speaks for: what the payer says, learned from its denials.

Every feature is declared in one rule module (``features.rules``), and that is where its
evidence and fix live. But payers file the same problem under different CARCs: one denies a
diagnosis that does not support the procedure with CO-50 (medical necessity), another with
CO-11 (coding). A reason should carry the payer's word for it, so the category a feature's
SHAP is summed into is learned: among the history's denied claims on which the feature pushed
toward denial most (by at least the reason floor), the category of their denial CARCs: per
payer where the payer has enough such denials, over all payers otherwise, the rule's own
category when the history shows nothing. A learned category must hold a majority of those
denials, counting ``PRIOR_DENIALS`` for the fallback. A payer's word is also learned for a
rule's features together (their denials pooled), so a payer that files a diagnosis mismatch
as CO-11 moves every diagnosis feature to coding, though each saw only a few of its denials.

An identity feature (a level of the payer, the plan, a code or a code pair) predicts different
denials at each level, so its weight goes where the denials it drove at that level went (levels
with ``MIN_LEVEL_DENIALS`` or more); at other levels it strengthens the categories the claim's
own facts point to, in proportion (it says "claims like this one are risky", they say why), and
where they point nowhere, the category the feature's denials went to by payer or overall.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from features.categories import CATEGORIES, Category
from scoring.reasons import REASON_FLOOR

PRIOR_DENIALS = 5.0
_ONE_HOT = np.eye(len(CATEGORIES))
MIN_LEVEL_DENIALS = 10


def _choose(counts: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Per feature (rows of ``counts``: denials per category): the category holding a majority
    of its denials, ``PRIOR_DENIALS`` counted for the fallback; the fallback otherwise."""
    scores = counts.copy()
    scores[np.arange(len(fallback)), fallback] += PRIOR_DENIALS
    winner = np.argmax(scores, axis=1)
    majority = scores.max(axis=1) > scores.sum(axis=1) / 2
    return np.where(majority, winner, fallback)


def _payer_words(counts: np.ndarray, own: np.ndarray, overall: np.ndarray) -> np.ndarray:
    """Per feature, what a payer's own choice falls back to: the category the payer's denials
    went to that the features of the feature's rule drove together (a payer that files a
    diagnosis mismatch as CO-11 does so whichever feature saw it), where that category is not
    the rule's own; the category over all payers otherwise. The catch-all rule ``other``
    (payer and identity features, which drive denials of every kind) is not pooled."""
    rules = np.unique(own)
    together = np.array([counts[own == rule].sum(axis=0) for rule in rules])
    word = dict(zip(rules.tolist(), _choose(together, rules).tolist(), strict=True))
    word[CATEGORIES.index("other")] = CATEGORIES.index("other")
    said = np.array([word[rule] for rule in own.tolist()])
    return np.where(said != own, said, overall)


def _level_key(value: float) -> str:
    return "" if np.isnan(value) else str(int(value))


@dataclass(frozen=True)
class CategoryMap:
    feature_names: list[str]
    default: list[Category]  # per feature, over all payers
    by_payer: dict[str, dict[str, Category]] = field(default_factory=dict)  # where it differs
    identity: list[str] = field(default_factory=list)  # features whose values are levels
    by_level: dict[str, dict[str, Category]] = field(default_factory=dict)  # feature -> level
    _matrices: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)
    _identity: dict[str, list[int]] = field(default_factory=dict, repr=False, compare=False)
    _features_in: dict[tuple[str, Category], list[int]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def category(self, feature: str, payer: str | None) -> Category:
        mapped = self.by_payer.get(payer or "", {})
        return mapped.get(feature, self.default[self.feature_names.index(feature)])

    def matrix(self, payer: str | None) -> np.ndarray:
        """(features x categories) one-hot for claims of ``payer`` (built once per payer)."""
        key = payer if payer and payer in self.by_payer else ""
        if key not in self._matrices:
            matrix = np.zeros((len(self.feature_names), len(CATEGORIES)))
            for row, name in enumerate(self.feature_names):
                matrix[row, CATEGORIES.index(self.category(name, key))] = 1.0
            self._matrices[key] = matrix
        return self._matrices[key]

    def features_in(self, category: Category, payer: str | None) -> list[int]:
        """Positions of the features whose SHAP is summed into ``category`` for claims of
        ``payer`` (this is asked for every reason of every scored claim: cached)."""
        key = (payer if payer and payer in self.by_payer else "", category)
        if key not in self._features_in:
            column = self.matrix(key[0])[:, CATEGORIES.index(category)]
            self._features_in[key] = np.flatnonzero(column).tolist()
        return self._features_in[key]

    def by_category(
        self, contributions: np.ndarray, x: np.ndarray, payers: np.ndarray
    ) -> np.ndarray:
        """SHAP (one column per feature, then the base value) summed per category, each claim
        by its payer's map, identity features by their level (``x``: the feature values);
        columns in ``CATEGORIES`` order."""
        identity = [self.feature_names.index(name) for name in self.identity]
        facts_only = contributions[:, :-1].copy()
        facts_only[:, identity] = 0.0
        result = np.empty((len(contributions), len(CATEGORIES)))
        payer_list = np.asarray(payers, dtype=object).tolist()
        distinct = list(dict.fromkeys(payer_list))
        if len(distinct) == 1:
            result[:] = facts_only @ self.matrix(distinct[0])
        else:
            payer_of_row = np.array(payer_list, dtype=object)
            for payer in distinct:
                rows = payer_of_row == payer
                result[rows] = facts_only[rows] @ self.matrix(payer)
        pointed = np.maximum(result, 0.0)
        total = pointed.sum(axis=1, keepdims=True)
        share = np.divide(pointed, total, out=np.zeros_like(pointed), where=total > 0)
        # Each identity feature in turn adds its weight: to its level's category; where the
        # level has none, spread in proportion to ``share`` if the facts point somewhere,
        # else to the category the feature's denials went to for the payer.
        level_of = self._level_category(x[:, identity], payer_list)
        spread = (level_of >= len(CATEGORIES)) & (total > 0)
        one = _ONE_HOT[level_of % len(CATEGORIES)]
        added = np.where(spread[..., None], share[:, None, :], one)
        added *= contributions[:, identity][..., None]
        for part in added.transpose(1, 0, 2):  # one identity feature after another
            result += part
        return result

    def _level_category(self, values: np.ndarray, payers: list[str | None]) -> np.ndarray:
        """Per claim and identity feature (``values``: their levels): the position of the
        category the level's denials went to; where the level has none, the number of
        categories plus the position of the category of the feature for the payer."""
        levels = [self.by_level.get(name, {}) for name in self.identity]
        known: list[dict[float, int]] = [{} for _ in self.identity]  # NaN: looked up each time
        fallback = {payer: self._identity_categories(payer) for payer in dict.fromkeys(payers)}
        codes = []
        for payer, row in zip(payers, values.tolist(), strict=True):
            for i, value in enumerate(row):
                found = known[i].get(value)
                if found is None:
                    target = levels[i].get(_level_key(value))
                    found = known[i][value] = -1 if target is None else CATEGORIES.index(target)
                codes.append(found if found >= 0 else len(CATEGORIES) + fallback[payer][i])
        return np.array(codes, dtype=np.int64).reshape(values.shape)

    def _identity_categories(self, payer: str | None) -> list[int]:
        """Positions of the categories the identity features go to for ``payer`` (by the map
        of the payer, or over all payers), built once per payer like ``matrix``."""
        key = payer if payer and payer in self.by_payer else ""
        if key not in self._identity:
            self._identity[key] = [CATEGORIES.index(self.category(n, key)) for n in self.identity]
        return self._identity[key]

    @staticmethod
    def declared(categories: dict[str, Category]) -> CategoryMap:
        """Every feature in the category its rule declares (nothing learned)."""
        return CategoryMap(list(categories), list(categories.values()))

    @staticmethod
    def fit(
        contributions: np.ndarray,
        payers: np.ndarray,
        denial_category: np.ndarray,
        declared: dict[str, Category],
        x: np.ndarray | None = None,
        levelled: frozenset[str] = frozenset(),
        min_payer_denials: int = 30,
    ) -> CategoryMap:
        """From denied claims: their SHAP, payer and denial category (contract section 3), and
        for the ``levelled`` (identity) features, their values ``x``."""
        names = list(declared)
        index = {c: i for i, c in enumerate(CATEGORIES)}
        shap = contributions[:, :-1]
        strongest = np.argmax(shap, axis=1)
        pushed = np.zeros(shap.shape, dtype=bool)  # (claims x features): the denial's driver
        driven = shap[np.arange(len(shap)), strongest] >= REASON_FLOOR
        pushed[np.flatnonzero(driven), strongest[driven]] = True
        category = np.array([index[c] for c in denial_category])
        onehot = np.eye(len(CATEGORIES))[category]  # (claims x categories)
        own = np.array([index[declared[n]] for n in names])
        overall = _choose(pushed.T.astype(float) @ onehot, own)
        by_payer: dict[str, dict[str, Category]] = {}
        payers = np.asarray(payers, dtype=object)
        for payer in sorted(set(payers.tolist())):
            rows = payers == payer
            if rows.sum() < min_payer_denials:
                continue
            drove_at_payer = pushed[rows].T.astype(float) @ onehot[rows]
            mine = _choose(drove_at_payer, _payer_words(drove_at_payer, own, overall))
            differs = {n: CATEGORIES[c] for n, c, o in zip(names, mine, overall, strict=True)
                       if c != o}  # fmt: skip
            if differs:
                by_payer[str(payer)] = differs
        by_level: dict[str, dict[str, Category]] = {}
        for j, name in enumerate(names):
            if name not in levelled or x is None:
                continue
            drove = np.flatnonzero(pushed[:, j])
            counts: dict[str, np.ndarray] = {}
            for row in drove.tolist():
                key = _level_key(x[row, j])
                counts.setdefault(key, np.zeros(len(CATEGORIES)))[category[row]] += 1
            mapped = {
                key: CATEGORIES[int(np.argmax(n))]
                for key, n in counts.items()
                if n.sum() >= MIN_LEVEL_DENIALS and n.max() > n.sum() / 2
            }
            if mapped:
                by_level[name] = mapped
        identity = [name for name in names if name in levelled]
        return CategoryMap(names, [CATEGORIES[c] for c in overall], by_payer, identity, by_level)

    def to_json(self) -> str:
        learned = {"by_payer": self.by_payer, "identity": self.identity, "by_level": self.by_level}
        return json.dumps({"feature_names": self.feature_names, "default": self.default} | learned)

    @staticmethod
    def from_json(text: str) -> CategoryMap:
        return CategoryMap(**json.loads(text))
