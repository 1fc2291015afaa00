"""LightGBM's exact TreeSHAP for a batch, each tree's work done once per way through it.

``pred_contrib`` runs TreeSHAP for every row and every tree, which costs about what scoring a
claim with reasons may cost in all. Yet a tree's contributions to a row depend only on which
way the row goes at each of the tree's splits (TreeSHAP follows both branches of every split,
so all splits count, not only those on the row's path), and the rows of a batch go a few
hundred ways through a tree of 15 leaves. So, per tree: each row's way through it (read off
the tree's splits, LightGBM's decision rules), LightGBM's own ``pred_contrib`` for that one
tree on one row per way, spread back to every row that goes that way. The values are
``pred_contrib``'s, summed per tree before they are added up (differences of about 1e-14).

LightGBM keeps the range of trees a prediction uses in the booster itself, set by each call
(under a lock that lets predictions run together), so a call for one tree would change what
another thread's prediction on the same booster uses. The calls for one tree therefore go to a
private copy of the booster, one call at a time.

Two rows share a way only when no split can tell them apart: a numeric split compares
``value <= threshold`` after treating NaN and (near) zero as missing, so rows share a way when
both are NaN, or both (near) zero, or neither, and as many thresholds lie below each; a
categorical split sends a level left when it is in the split's set, so rows share a way when
their levels are in the same sets (any other value, NaN, negative or fractional, shares a way
only with itself).
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

FROM_ROWS = 256  # fewer rows: one pred_contrib call costs less than a call per tree
# LightGBM's kZeroThreshold (1e-35f, a float): a value this close to zero may count as missing
ZERO = float(np.float32(1e-35))
_KEY_ROOM = 2**62


def contributions(booster: lgb.Booster, x: np.ndarray, threads: int) -> np.ndarray:
    """``booster.predict(x, pred_contrib=True)``: one column per feature, then the base."""
    if len(x) < FROM_ROWS:
        return np.asarray(booster.predict(x, pred_contrib=True, num_threads=threads), float)
    if booster not in _WAYS:
        _WAYS[booster] = TreeWays.of(booster)
    return _WAYS[booster].contributions(x, threads)


@dataclass(frozen=True)
class _Split:
    """What one tree's splits on one feature tell apart, as a code per value class.

    Numeric: ``code`` maps a value's class over all trees (3 x how many of the feature's
    thresholds lie below it, + 0 NaN, 1 near zero, 2 other) to its class in this tree (the
    same with this tree's thresholds). Categorical: ``code`` holds, per level, a bit per split
    that sends the level left. Codes lie below ``count``."""

    feature: int
    numeric: bool
    code: np.ndarray
    count: int


@dataclass(frozen=True)
class TreeWays:
    """Each tree's splits, grouped by feature, and every numeric feature's thresholds over
    all trees (sorted), read once from a booster."""

    trees: tuple[tuple[_Split, ...], ...]
    thresholds: dict[int, np.ndarray]
    booster: lgb.Booster  # a private copy, for predictions of one tree
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @staticmethod
    def of(booster: lgb.Booster) -> TreeWays:
        nodes = [_split_nodes(tree["tree_structure"]) for tree in _trees(booster)]
        numeric: dict[int, set[float]] = {}
        for node in (node for tree in nodes for node in tree):
            if node["decision_type"] != "==":
                numeric.setdefault(node["split_feature"], set()).add(float(node["threshold"]))
        thresholds = {f: np.array(sorted(values)) for f, values in numeric.items()}
        trees = tuple(_tree_splits(tree, thresholds) for tree in nodes)
        return TreeWays(trees, thresholds, lgb.Booster(model_str=booster.model_to_string()))

    def contributions(self, x: np.ndarray, threads: int) -> np.ndarray:
        """``booster.predict(x, pred_contrib=True)``: one column per feature, then the base."""
        n, width = len(x), x.shape[1] + 1
        total = np.zeros((width, n))  # features as rows: a tree adds to a few of them
        columns = _Columns(np.ascontiguousarray(x.T), self.thresholds)
        for tree, splits in enumerate(self.trees):
            way, first = _first_of_each(_ways(splits, columns))
            with self.lock:
                own = np.asarray(_one_tree(self.booster, tree, x[first], threads), dtype=float)
            used = [s.feature for s in splits] + [width - 1]
            total[used] += own[:, used].T[:, way]
        return total.T.copy()


def _one_tree(booster: lgb.Booster, tree: int, x: np.ndarray, threads: int) -> Any:
    """``pred_contrib`` of one tree (its base value in the last column)."""
    return booster.predict(
        x, pred_contrib=True, start_iteration=tree, num_iteration=1, num_threads=threads
    )


@dataclass
class _Columns:
    """A batch's feature values by column, and what every tree reads of a column, once."""

    values: np.ndarray  # features x rows
    thresholds: dict[int, np.ndarray]
    ranks: dict[int, np.ndarray] = field(default_factory=dict)
    levels: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def rank(self, feature: int) -> np.ndarray:
        """Per row of a numeric feature, its value's class over all trees (see ``_Split``)."""
        if feature not in self.ranks:
            values = self.values[feature]
            kind = np.where(np.isnan(values), 0, 1 + (np.abs(values) > ZERO))
            self.ranks[feature] = np.searchsorted(self.thresholds[feature], values) * 3 + kind
        return self.ranks[feature]

    def levels_of(self, feature: int) -> tuple[np.ndarray, np.ndarray]:
        """A categorical column's distinct values as levels (-1 for a value that is none),
        and each row's position among them."""
        if feature not in self.levels:
            distinct, position = np.unique(self.values[feature], return_inverse=True)
            level = (distinct >= 0) & (distinct < 2**31) & (distinct == np.floor(distinct))
            self.levels[feature] = (np.where(level, distinct, -1).astype(np.int64), position)
        return self.levels[feature]


_WAYS: weakref.WeakKeyDictionary[lgb.Booster, TreeWays] = weakref.WeakKeyDictionary()


def _trees(booster: lgb.Booster) -> list[dict[str, Any]]:
    model = booster.dump_model()
    if model.get("num_tree_per_iteration", 1) != 1:
        raise ValueError("one tree per iteration expected (a binary model)")
    return list(model["tree_info"])


def _split_nodes(root: dict[str, Any]) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    pending = [root]
    while pending:
        node = pending.pop()
        if "split_feature" in node:
            nodes.append(node)
            pending += [node["left_child"], node["right_child"]]
    return nodes


def _tree_splits(
    nodes: list[dict[str, Any]], thresholds: dict[int, np.ndarray]
) -> tuple[_Split, ...]:
    splits = []
    for feature in sorted({node["split_feature"] for node in nodes}):
        mine = [node for node in nodes if node["split_feature"] == feature]
        if mine[0]["decision_type"] == "==":
            sets = [[int(level) for level in str(node["threshold"]).split("||")] for node in mine]
            left = np.zeros(max(max(levels) for levels in sets) + 1, dtype=np.int64)
            for bit, levels in enumerate(sets):
                left[levels] |= 1 << bit
            splits.append(_Split(feature, False, left, 1 << len(sets)))
        else:
            own = np.isin(thresholds[feature], [float(node["threshold"]) for node in mine])
            below = np.concatenate([[0], np.cumsum(own)])
            code = np.repeat(below * 3, 3) + np.tile([0, 1, 2], len(below))
            splits.append(_Split(feature, True, code, 3 * (int(below[-1]) + 1)))
    return tuple(splits)


def _ways(splits: tuple[_Split, ...], columns: _Columns) -> np.ndarray:
    """Per row, a number naming its way through the tree whose ``splits`` these are."""
    key = np.zeros(columns.values.shape[1], dtype=np.int64)
    room = 1
    for split in splits:
        if split.numeric:
            code, count = split.code[columns.rank(split.feature)], split.count
        else:
            code, count = _categorical(split, columns)
        if room * count >= _KEY_ROOM:  # renumber the ways so far densely
            key = _first_of_each(key)[0]
            room = int(key.max()) + 1
        key = key * count + code
        room *= count
    return key


def _first_of_each(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's key renumbered 0, 1, ... in order of first appearance, and the row where
    each number first appears."""
    number = pd.factorize(key)[0].astype(np.int64)
    seen_before = np.maximum.accumulate(np.concatenate([[-1], number[:-1]]))
    return number, np.flatnonzero(number > seen_before)


def _categorical(split: _Split, columns: _Columns) -> tuple[np.ndarray, int]:
    """Rows whose level the same splits send left share a code; a value that is no level
    (NaN, negative, fractional) has a code of its own."""
    level, position = columns.levels_of(split.feature)
    known = (level >= 0) & (level < len(split.code))
    left = np.where(known, split.code[np.where(known, level, 0)], 0)
    code = np.where(level >= 0, left, split.count + np.arange(len(level)))
    return code[position], split.count + len(level)
