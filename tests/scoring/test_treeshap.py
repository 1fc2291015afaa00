"""TreeSHAP from per-leaf tables equals LightGBM's ``pred_contrib`` for every row."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pytest

from features.contract import ClaimIn
from scoring import treeshap
from scoring.artifact import ClaimRiskModel

TOLERANCE = 1e-9  # the sums of contributions are added up in another order


def _split_nodes(booster: lgb.Booster) -> list[dict[str, Any]]:
    nodes, pending = [], [tree["tree_structure"] for tree in booster.dump_model()["tree_info"]]
    while pending:
        node = pending.pop()
        if "split_feature" in node:
            nodes.append(node)
            pending += [node["left_child"], node["right_child"]]
    return nodes


def _booster(zero_as_missing: bool, **shape: Any) -> tuple[lgb.Booster, np.ndarray]:
    """A small model over continuous, discrete and categorical features with missing values."""
    rng = np.random.default_rng(3)
    n = 3000
    x = np.column_stack(
        [
            rng.normal(size=n),
            rng.integers(0, 6, n).astype(float),  # discrete, zero common
            rng.integers(0, 40, n).astype(float),  # categorical levels
            rng.integers(0, 5, n).astype(float),  # categorical levels
            rng.exponential(size=n),
        ]
    )
    x[rng.random(x.shape) < 0.1] = np.nan
    logit = np.nan_to_num(x[:, 0]) + (x[:, 2] % 3 == 0) - 0.3 * np.nan_to_num(x[:, 1])
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    params = {
        "objective": "binary",
        "num_leaves": 15,
        "max_depth": 6,
        "min_data_in_leaf": 5,
        "cat_smooth": 1,
        "min_data_per_group": 5,
        "zero_as_missing": zero_as_missing,
        "verbose": -1,
        "num_threads": 1,
        "seed": 1,
        **shape,
    }
    data = lgb.Dataset(x, y, categorical_feature=[2, 3], params=params)
    return lgb.train(params, data, num_boost_round=40), x


def _awkward(booster: lgb.Booster, x: np.ndarray) -> np.ndarray:
    """Rows at the trees' own thresholds, near and at zero, NaN, and categorical values that
    are no level (negative, fractional, unseen)."""
    rng = np.random.default_rng(4)
    thresholds = [
        float(n["threshold"]) for n in _split_nodes(booster) if n["decision_type"] != "=="
    ]
    rows = x[rng.integers(0, len(x), 2000)].copy()
    for column in (0, 1, 4):
        rows[:400, column] = rng.choice(thresholds, 400)
        near_zero = [0.0, -0.0, 1e-36, -1e-35, treeshap.ZERO, np.nextafter(treeshap.ZERO, 1)]
        rows[400:450, column] = rng.choice([*near_zero, 1e-30, np.nan], 50)
    for column in (2, 3):
        awkward = [-1.0, -3.0, -0.5, -1e-36, 2.5, 0.5, 999.0, 2.0**31, 1e300, np.inf, np.nan, 0.0]
        rows[450:550, column] = rng.choice(awkward, 100)
    return rows


@pytest.mark.parametrize("zero_as_missing", [False, True])
def test_equals_pred_contrib_on_awkward_values(zero_as_missing):
    booster, x = _booster(zero_as_missing)
    assert {n["decision_type"] for n in _split_nodes(booster)} == {"<=", "=="}  # both kinds
    rows = np.vstack([x, _awkward(booster, x)])
    expected = booster.predict(rows, pred_contrib=True, num_threads=1)
    got = treeshap.contributions(booster, rows, threads=1)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOLERANCE)


def test_every_row_count_and_thread_count_gives_the_same_values():
    booster, x = _booster(False)
    expected = booster.predict(x[:700], pred_contrib=True, num_threads=1)
    for rows in (0, 1, 2, 63, 700):
        for threads in (1, 2, 3):
            got = treeshap.contributions(booster, x[:rows], threads=threads)
            np.testing.assert_allclose(got, expected[:rows], rtol=0, atol=TOLERANCE)


def test_a_tree_of_one_leaf_gives_its_value_to_the_base():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(200, 3))
    y = (x[:, 0] > 0).astype(int)
    params = {"objective": "binary", "verbose": -1, "min_data_in_leaf": 150}  # cannot split
    booster = lgb.train(params, lgb.Dataset(x, y), num_boost_round=3)
    assert [tree["num_leaves"] for tree in booster.dump_model()["tree_info"]] == [1]
    expected = booster.predict(x, pred_contrib=True, num_threads=1)
    np.testing.assert_allclose(treeshap.contributions(booster, x, threads=1), expected, atol=0)


def test_trees_too_wide_for_a_way_mask_are_left_to_pred_contrib():
    booster, x = _booster(False, num_leaves=80, max_depth=-1, min_data_in_leaf=2)
    assert max(t["num_leaves"] for t in booster.dump_model()["tree_info"]) > treeshap.MAX_LEAVES
    assert treeshap.tables_of(booster) is None
    expected = booster.predict(x[:50], pred_contrib=True, num_threads=1)
    np.testing.assert_array_equal(treeshap.contributions(booster, x[:50], threads=1), expected)


def test_trees_whose_tables_would_be_too_large_are_left_to_pred_contrib(monkeypatch):
    booster, _ = _booster(False)
    needed = treeshap.TreeTables.of(booster).psi.size  # type: ignore[union-attr]
    monkeypatch.setattr(treeshap, "MAX_PSI", needed - 1)
    assert treeshap.TreeTables.of(booster) is None
    monkeypatch.setattr(treeshap, "MAX_PSI", needed)
    assert treeshap.TreeTables.of(booster) is not None


def test_the_model_explains_requests_as_pred_contrib_does(model_dir: Path, world: Path):
    model = ClaimRiskModel.load(model_dir)
    assert isinstance(model.booster, lgb.Booster)
    lines = (world / "requests.jsonl").read_text().splitlines()
    x = model.request_matrix([ClaimIn.model_validate_json(line) for line in lines])
    assert treeshap.tables_of(model.booster) is not None  # explained from its tables
    expected = model.booster.predict(x, pred_contrib=True, num_threads=1)
    np.testing.assert_allclose(model.contributions(x), expected, rtol=0, atol=TOLERANCE)


def test_threads_explaining_at_once_each_get_their_own_rows():
    booster, x = _booster(False)
    expected = booster.predict(x, pred_contrib=True, num_threads=1)
    parts = np.array_split(np.arange(len(x)), 6)
    got: dict[int, np.ndarray] = {}

    def explain(part: int) -> None:
        got[part] = treeshap.contributions(booster, x[parts[part]], threads=1)

    threads = [threading.Thread(target=explain, args=(part,)) for part in range(len(parts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for part, rows in enumerate(parts):
        np.testing.assert_allclose(got[part], expected[rows], rtol=0, atol=TOLERANCE)
