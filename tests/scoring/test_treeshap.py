"""TreeSHAP once per way through each tree equals LightGBM's ``pred_contrib`` for every row."""

from __future__ import annotations

import threading
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest

from features.contract import ClaimIn
from scoring import treeshap
from scoring.artifact import ClaimRiskModel

TOLERANCE = 1e-9  # the sums of contributions are added up in another order


def _booster(zero_as_missing: bool) -> tuple[lgb.Booster, np.ndarray]:
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
    }
    data = lgb.Dataset(x, y, categorical_feature=[2, 3], params=params)
    return lgb.train(params, data, num_boost_round=40), x


def _awkward(booster: lgb.Booster, x: np.ndarray) -> np.ndarray:
    """Rows at the trees' own thresholds, near and at zero, NaN, and categorical values that
    are no level (negative, fractional, unseen)."""
    rng = np.random.default_rng(4)
    thresholds = [
        float(node["threshold"])
        for tree in booster.dump_model()["tree_info"]
        for node in treeshap._split_nodes(tree["tree_structure"])
        if node["decision_type"] != "=="
    ]
    rows = x[rng.integers(0, len(x), 2000)].copy()
    for column in (0, 1, 4):
        rows[:400, column] = rng.choice(thresholds, 400)
        near_zero = [0.0, -0.0, 1e-36, -1e-35, treeshap.ZERO, np.nextafter(treeshap.ZERO, 1)]
        rows[400:450, column] = rng.choice([*near_zero, 1e-30, np.nan], 50)
    for column in (2, 3):
        rows[450:550, column] = rng.choice([-1.0, -3.0, 2.5, 0.5, 999.0, np.nan, 0.0], 100)
    return rows


@pytest.mark.parametrize("zero_as_missing", [False, True])
def test_equals_pred_contrib_on_awkward_values(zero_as_missing):
    booster, x = _booster(zero_as_missing)
    decisions = {n["decision_type"] for t in booster.dump_model()["tree_info"]
                 for n in treeshap._split_nodes(t["tree_structure"])}  # fmt: skip
    assert decisions == {"<=", "=="}  # both kinds of split are exercised
    rows = np.vstack([x, _awkward(booster, x)])
    expected = booster.predict(rows, pred_contrib=True, num_threads=1)
    got = treeshap.contributions(booster, rows, threads=1)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOLERANCE)


def test_a_few_rows_are_pred_contrib_itself():
    booster, x = _booster(False)
    rows = x[: treeshap.FROM_ROWS - 1]
    expected = booster.predict(rows, pred_contrib=True, num_threads=1)
    np.testing.assert_array_equal(treeshap.contributions(booster, rows, threads=1), expected)


def test_the_model_explains_requests_as_pred_contrib_does(model_dir: Path, world: Path):
    model = ClaimRiskModel.load(model_dir)
    assert isinstance(model.booster, lgb.Booster)
    lines = (world / "requests.jsonl").read_text().splitlines()
    x = model.request_matrix([ClaimIn.model_validate_json(line) for line in lines])
    assert len(x) >= treeshap.FROM_ROWS
    expected = model.booster.predict(x, pred_contrib=True, num_threads=1)
    np.testing.assert_allclose(model.contributions(x), expected, rtol=0, atol=TOLERANCE)


def test_predictions_on_the_model_meanwhile_are_left_alone():
    """A thread scoring one claim at a time on the booster while another explains a batch:
    neither sees the other's range of trees."""
    booster, x = _booster(False)
    rows = x[:1000]
    expected_batch = booster.predict(rows, pred_contrib=True, num_threads=1)
    expected_rows = booster.predict(x[:200], pred_contrib=True, num_threads=1)
    failures: list[str] = []

    def one_at_a_time() -> None:
        for _ in range(5):
            for i in range(len(expected_rows)):
                got = booster.predict(x[i : i + 1], pred_contrib=True, num_threads=1)
                if not np.allclose(got[0], expected_rows[i], rtol=0, atol=TOLERANCE):
                    failures.append(f"row {i}")

    other = threading.Thread(target=one_at_a_time)
    other.start()
    batches = []
    while other.is_alive() or not batches:
        batches.append(treeshap.contributions(booster, rows, threads=1))
    other.join()
    assert not failures
    for got in batches:
        np.testing.assert_allclose(got, expected_batch, rtol=0, atol=TOLERANCE)
