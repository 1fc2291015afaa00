"""LightGBM's exact TreeSHAP, computed leaf by leaf from tables made once per model.

``pred_contrib`` walks every tree for every row and pays O(leaves x depth²) per tree, which is
most of what scoring a claim with reasons costs. This module computes the same values in
O(leaves x depth) per tree (Fast TreeSHAP v2, Yang 2021, arXiv:2109.09847), and only once per
way a batch's rows go through the tree:

A tree's contribution to feature i is a sum over its leaves. For a leaf whose path splits on
the distinct features P (d of them), with value v, and z_j the share of training rows that
follow the path at its splits on feature j (the product of their cover ratios), let O be the
features of P whose every split on the path the row follows. Then, with
``psi(O) = sum over S ⊆ O of |S|!(d-|S|-1)!/d! * prod over j in P \\ S of z_j``,
the leaf gives a feature i outside O ``-v psi(O)`` and a feature i in O
``v (1 - z_i) / z_i * psi(O \\ {i})``. ``psi`` takes 2^d values per leaf (d <= 8 for the
shapes training tries: a few MB; a model whose tables would pass ``MAX_PSI`` is left to
``pred_contrib``), made once per model; a row then costs, per leaf, reading which of its
splits it follows and d look-ups.

O depends only on the row's way through the tree: the side it takes at each of the tree's
splits (all of them, not only those on its own path), a bit mask. Rows of a batch go a few
hundred to a few thousand ways through a tree, so each way's share is worked out once and
added to every row that goes that way. The values are ``pred_contrib``'s, added up in another
order (differences of about 1e-14).

Which way a row goes at a split follows LightGBM's own decision rules (``tree.h``): a value
within 1e-35 of zero is zero (LightGBM drops it from the row), NaN is zero unless the split's
missing type is NaN, a missing value takes the split's default side; a categorical split sends
a value left when its integer part is one of the split's levels (NaN and negatives go right).
"""

from __future__ import annotations

import itertools
import os
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numba
import numpy as np

# LightGBM's kZeroThreshold (1e-35f, a float): a value this close to zero is zero
ZERO = float(np.float32(1e-35))
_MISSING = {"None": 0, "Zero": 1, "NaN": 2}
MAX_LEAVES = 64  # a tree's way is a bit per split in an int64 (63 splits)
MAX_PSI = 1 << 24  # 128 MB of psi at most (deep trees without a depth limit need 2^depth a leaf)
_ROWS_PER_THREAD = 64  # fewer rows per thread: starting the thread costs more
BLOCK = 2048  # rows explained together: their ways through a tree are worked out once each
_SLOTS = 2 * BLOCK  # a block's ways in an open-addressing table, at most half full
# A way hashes to the top bits of its product with 2^64 / golden ratio (as a signed 64-bit
# number: numba multiplies int64, wrapping around)
_SHIFT = 64 - (_SLOTS.bit_length() - 1)
_GOLDEN = 0x9E3779B97F4A7C15 - (1 << 64)


def contributions(booster: lgb.Booster, x: np.ndarray, threads: int) -> np.ndarray:
    """``booster.predict(x, pred_contrib=True)``: one column per feature, then the base.
    ``threads`` 0: as many as LightGBM's OpenMP would use."""
    tables = tables_of(booster)
    if tables is None:
        return np.asarray(booster.predict(x, pred_contrib=True, num_threads=threads), float)
    return tables.contributions(x, threads or _cores())


def tables_of(booster: lgb.Booster) -> TreeTables | None:
    """The booster's tables, made on first use and kept while it lives (None: a model these
    tables cannot explain, which ``pred_contrib`` then does)."""
    if booster not in _TABLES:
        _TABLES[booster] = TreeTables.of(booster)
    return _TABLES[booster]


_TABLES: weakref.WeakKeyDictionary[lgb.Booster, TreeTables | None] = weakref.WeakKeyDictionary()


def _cores() -> int:
    available = len(os.sched_getaffinity(0))
    limit = os.environ.get("OMP_NUM_THREADS", "")
    return min(available, int(limit)) if limit.isdigit() and int(limit) > 0 else available


@dataclass(frozen=True)
class TreeTables:
    """Every tree's splits (``split_*``, one entry per split of all trees), each leaf's
    distinct features (``slot_*``) and its ``psi`` table. A row's way through a tree is a bit
    mask of the tree's splits it takes to the left; it follows a leaf's path on a feature when
    its mask agrees with ``slot_left`` on the bits ``slot_splits`` names (that feature's splits
    on the path)."""

    tree_split: np.ndarray  # where each tree's splits start, then their count
    tree_leaf: np.ndarray  # where each tree's leaves start, then their count
    tree_column_start: np.ndarray  # where each tree's features start in ``tree_column``
    tree_column: np.ndarray  # the features a tree splits on, by the tree's column number
    split_feature: np.ndarray
    split_threshold: np.ndarray
    split_categorical: np.ndarray
    split_missing: np.ndarray
    split_default_left: np.ndarray
    level_start: np.ndarray  # categorical splits: their levels' left flags in ``level_left``
    level_left: np.ndarray
    slot_start: np.ndarray
    slot_column: np.ndarray  # the slot's feature, by its tree's column number
    slot_splits: np.ndarray
    slot_left: np.ndarray
    slot_gain: np.ndarray  # v (1 - z) / z
    leaf_value: np.ndarray
    psi_start: np.ndarray
    psi: np.ndarray
    base: float  # the trees' expected values, summed
    width: int  # features + 1

    @staticmethod
    def of(booster: lgb.Booster) -> TreeTables | None:
        model = booster.dump_model()
        if model.get("num_tree_per_iteration", 1) != 1:
            raise ValueError("one tree per iteration expected (a binary model)")
        built = _Builder()
        for tree in model["tree_info"]:
            if tree["num_leaves"] > MAX_LEAVES:
                return None  # its ways would not fit a 64-bit mask
            built.add_tree(tree["tree_structure"])
        if built.slot_z and min(built.slot_z) <= 0:
            return None  # a split no training row followed: psi(O \ {i}) / z_i is undefined
        if built.psi_start[-1] > MAX_PSI:
            return None
        return built.tables(model["max_feature_idx"] + 2)

    def contributions(self, x: np.ndarray, threads: int) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.width - 1:
            raise ValueError(f"{self.width - 1} feature columns expected, got {x.shape}")
        out = np.zeros((len(x), self.width))
        chunks = min(threads, max(1, len(x) // _ROWS_PER_THREAD))
        if chunks == 1:
            self._explain(x, out)
            return out
        bounds = np.linspace(0, len(x), chunks + 1).astype(int)
        with ThreadPoolExecutor(chunks) as pool:  # the kernel releases the GIL
            done = [
                pool.submit(self._explain, x[a:b], out[a:b]) for a, b in itertools.pairwise(bounds)
            ]
            for future in done:
                future.result()
        return out

    def _explain(self, x: np.ndarray, out: np.ndarray) -> None:
        _explain(
            x, out, self.tree_split, self.tree_leaf, self.tree_column_start, self.tree_column,
            self.split_feature, self.split_threshold, self.split_categorical,
            self.split_missing, self.split_default_left, self.level_start, self.level_left,
            self.slot_start, self.slot_column, self.slot_splits, self.slot_left, self.slot_gain,
            self.leaf_value, self.psi_start, self.psi, self.base,
        )  # fmt: skip


class _Builder:
    """Flattens dumped trees into ``TreeTables``' arrays."""

    def __init__(self) -> None:
        self.split_feature: list[int] = []
        self.split_threshold: list[float] = []
        self.split_categorical: list[bool] = []
        self.split_missing: list[int] = []
        self.split_default_left: list[bool] = []
        self.level_left: list[np.ndarray] = []
        self.slot_start, self.psi_start = [0], [0]
        self.tree_split, self.tree_leaf, self.tree_column_start = [0], [0], [0]
        self.tree_column: list[int] = []
        self.slot_column: list[int] = []
        self.slot_splits: list[int] = []
        self.slot_left: list[int] = []
        self.slot_z: list[float] = []
        self.leaf_value: list[float] = []
        self.base = 0.0

    def add_tree(self, root: dict[str, Any]) -> None:
        total = _count(root)
        pending: list[tuple[dict[str, Any], list[tuple[int, bool, int, float]]]] = [(root, [])]
        while pending:
            node, path = pending.pop()
            if "leaf_value" in node:
                self._add_leaf(node, path, total)
                continue
            index = len(self.split_feature)
            self._add_split(node)
            count = node["internal_count"]
            for child, left in ((node["left_child"], True), (node["right_child"], False)):
                share = _count(child) / count
                pending.append((child, [*path, (index, left, node["split_feature"], share)]))
        self.tree_split.append(len(self.split_feature))
        self.tree_leaf.append(len(self.leaf_value))
        self.tree_column_start.append(len(self.tree_column))

    def _add_split(self, node: dict[str, Any]) -> None:
        categorical = node["decision_type"] == "=="
        levels = np.zeros(0, dtype=np.bool_)
        if categorical:
            left = [int(level) for level in str(node["threshold"]).split("||")]
            levels = np.zeros(max(left) + 1, dtype=np.bool_)
            levels[left] = True
        self.split_feature.append(node["split_feature"])
        self.split_threshold.append(0.0 if categorical else float(node["threshold"]))
        self.split_categorical.append(categorical)
        self.split_missing.append(_MISSING[node.get("missing_type", "None")])
        self.split_default_left.append(bool(node["default_left"]))
        self.level_left.append(levels)

    def _add_leaf(
        self, leaf: dict[str, Any], path: list[tuple[int, bool, int, float]], total: float
    ) -> None:
        value = float(leaf["leaf_value"])
        self.base += value * (_count(leaf) / total if path else 1.0)
        features: list[int] = []
        z: list[float] = []
        splits: list[int] = []
        lefts: list[int] = []
        first = self.tree_split[-1]
        for split, left, feature, share in path:
            if feature not in features:
                features += [feature]
                z += [1.0]
                splits += [0]
                lefts += [0]
            slot, bit = features.index(feature), 1 << (split - first)
            z[slot] *= share
            splits[slot] |= bit
            lefts[slot] |= bit if left else 0
        columns = self.tree_column[self.tree_column_start[-1] :]
        for feature in features:
            if feature not in columns:
                columns.append(feature)
                self.tree_column.append(feature)
        self.slot_column += [columns.index(feature) for feature in features]
        self.slot_splits += splits
        self.slot_left += lefts
        self.slot_z += z
        self.leaf_value.append(value)
        self.slot_start.append(len(self.slot_column))
        self.psi_start.append(self.psi_start[-1] + (1 << len(features) if features else 0))

    def tables(self, width: int) -> TreeTables:
        slot_start = np.array(self.slot_start, dtype=np.int64)
        slot_z = np.array(self.slot_z, dtype=np.float64)
        leaf_value = np.array(self.leaf_value, dtype=np.float64)
        leaf_of_slot = np.repeat(np.arange(len(leaf_value)), np.diff(slot_start))
        psi_start = np.array(self.psi_start, dtype=np.int64)
        psi = np.zeros(psi_start[-1])
        _fill_psi(slot_start, slot_z, psi_start, psi)
        return TreeTables(
            tree_split=np.array(self.tree_split, dtype=np.int64),
            tree_leaf=np.array(self.tree_leaf, dtype=np.int64),
            tree_column_start=np.array(self.tree_column_start, dtype=np.int64),
            tree_column=np.array(self.tree_column, dtype=np.int64),
            split_feature=np.array(self.split_feature, dtype=np.int64),
            split_threshold=np.array(self.split_threshold, dtype=np.float64),
            split_categorical=np.array(self.split_categorical, dtype=np.bool_),
            split_missing=np.array(self.split_missing, dtype=np.int8),
            split_default_left=np.array(self.split_default_left, dtype=np.bool_),
            level_start=np.cumsum([0] + [len(levels) for levels in self.level_left]),
            level_left=np.concatenate([np.zeros(0, np.bool_), *self.level_left]),
            slot_start=slot_start,
            slot_column=np.array(self.slot_column, dtype=np.int64),
            slot_splits=np.array(self.slot_splits, dtype=np.int64),
            slot_left=np.array(self.slot_left, dtype=np.int64),
            slot_gain=leaf_value[leaf_of_slot] * (1 - slot_z) / slot_z,
            leaf_value=leaf_value,
            psi_start=psi_start,
            psi=psi,
            base=self.base,
            width=width,
        )


def _count(node: dict[str, Any]) -> float:
    return float(node["leaf_count"] if "leaf_value" in node else node["internal_count"])


def _compiled(function: Callable[..., Any]) -> Callable[..., Any]:
    """Compiled on first use, and kept in numba's cache (beside this file, or in the user's
    cache folder) where one is writable: compiling takes seconds, loading it milliseconds."""
    try:
        return numba.njit(nogil=True, cache=True)(function)
    except RuntimeError:  # no writable cache folder
        return numba.njit(nogil=True)(function)


@_compiled
def _fill_psi(slot_start, slot_z, psi_start, psi):
    """Per leaf and subset O of its features (a bit mask): psi(O), see the module's doc."""
    for leaf in range(len(slot_start) - 1):
        first, d = slot_start[leaf], slot_start[leaf + 1] - slot_start[leaf]
        if d == 0:
            continue
        weight = np.zeros(d + 1)  # |S|!(d-|S|-1)!/d!; |S| = d is never asked for
        weight[0] = 1.0 / d
        for size in range(1, d):
            weight[size] = weight[size - 1] * size / (d - size)
        poly = np.zeros(d + 1)
        for subset in range(1 << d):
            # prod over j in O of (t + z_j): the coefficient of t^k sums, over the S of size k,
            # the product of z over O \ S; the features outside O give their z to every term
            poly[:] = 0.0
            poly[0] = 1.0
            degree, outside = 0, 1.0
            for j in range(d):
                z = slot_z[first + j]
                if subset >> j & 1:
                    degree += 1
                    for k in range(degree, 0, -1):
                        poly[k] = poly[k - 1] + z * poly[k]
                    poly[0] *= z
                else:
                    outside *= z
            total = 0.0
            for k in range(degree + 1):
                total += weight[k] * poly[k]
            psi[psi_start[leaf] + subset] = outside * total


@_compiled
def _explain(
    x, out, tree_split, tree_leaf, tree_column_start, tree_column, split_feature,
    split_threshold, split_categorical, split_missing, split_default_left, level_start,
    level_left, slot_start, slot_column, slot_splits, slot_left, slot_gain, leaf_value,
    psi_start, psi, base,
):  # fmt: skip
    """A block of rows at a time, tree by tree: the tree's tables stay in the cache while the
    block uses them, and each way through the tree is worked out once, then added to every
    row that goes that way (a tree's share of a row depends only on its way)."""
    seen_in = np.full(_SLOTS, -1, dtype=np.int64)  # which tree and block filled the slot
    seen_way = np.zeros(_SLOTS, dtype=np.int64)
    seen_at = np.zeros(_SLOTS, dtype=np.int64)
    widest = np.max(np.diff(tree_column_start)) if len(tree_column_start) > 1 else 0
    share = np.zeros((BLOCK, max(widest, 1)))  # per distinct way: the tree's contributions
    trees = len(tree_split) - 1
    for block in range(0, x.shape[0], BLOCK):
        rows = min(BLOCK, x.shape[0] - block)
        for tree in range(trees):
            stamp = block // BLOCK * trees + tree
            columns = tree_column[tree_column_start[tree] : tree_column_start[tree + 1]]
            ways = 0
            for row in range(block, block + rows):
                way = _way(
                    x[row], tree_split[tree], tree_split[tree + 1], split_feature,
                    split_threshold, split_categorical, split_missing, split_default_left,
                    level_start, level_left,
                )  # fmt: skip
                slot = (way * _GOLDEN) >> _SHIFT & (_SLOTS - 1)
                while seen_in[slot] == stamp and seen_way[slot] != way:
                    slot = (slot + 1) % _SLOTS
                if seen_in[slot] == stamp:
                    known = seen_at[slot]
                else:
                    known = ways
                    ways += 1
                    seen_in[slot], seen_way[slot], seen_at[slot] = stamp, way, known
                    _tree_share(
                        way, share[known], tree_leaf[tree], tree_leaf[tree + 1], slot_start,
                        slot_column, slot_splits, slot_left, slot_gain, leaf_value, psi_start, psi,
                    )  # fmt: skip
                for c in range(len(columns)):
                    out[row, columns[c]] += share[known, c]
    for row in range(x.shape[0]):
        out[row, out.shape[1] - 1] += base


@_compiled
def _way(
    values, first_split, end_split, split_feature, split_threshold, split_categorical,
    split_missing, split_default_left, level_start, level_left,
):  # fmt: skip
    """A row's way through a tree: a bit per split of the tree, set when the row goes left
    (LightGBM's decision rules, see the module's doc)."""
    way = np.int64(0)
    for s in range(first_split, end_split):
        value = values[split_feature[s]]
        missing = np.isnan(value)
        if not missing and abs(value) <= ZERO:
            value = 0.0
        if split_categorical[s]:
            level = int(value) if not missing and -1.0 < value < 2147483648.0 else -1
            known = 0 <= level < level_start[s + 1] - level_start[s]
            goes_left = known and level_left[level_start[s] + level]
        else:  # the default side takes NaN (missing type NaN), or NaN and zero (type Zero)
            nan_side = split_missing[s] == 2 and missing
            zero_side = split_missing[s] == 1 and (missing or value == 0.0)
            if nan_side or zero_side:
                goes_left = split_default_left[s]
            else:
                goes_left = (0.0 if missing else value) <= split_threshold[s]
        way |= np.int64(goes_left) << (s - first_split)
    return way


@_compiled
def _tree_share(
    way, share, first_leaf, end_leaf, slot_start, slot_column, slot_splits, slot_left,
    slot_gain, leaf_value, psi_start, psi,
):  # fmt: skip
    """One tree's contributions for the rows that go ``way`` through it, by the tree's own
    column numbers (see the module's doc for the sum over its leaves)."""
    share[:] = 0.0
    for leaf in range(first_leaf, end_leaf):
        first, d = slot_start[leaf], slot_start[leaf + 1] - slot_start[leaf]
        followed = 0
        for j in range(d):
            if (way ^ slot_left[first + j]) & slot_splits[first + j] == 0:
                followed |= 1 << j
        table = psi_start[leaf]
        outside = -leaf_value[leaf] * psi[table + followed]
        for j in range(d):
            if followed >> j & 1:
                share[slot_column[first + j]] += (
                    slot_gain[first + j] * psi[table + (followed ^ (1 << j))]
                )
            else:
                share[slot_column[first + j]] += outside
