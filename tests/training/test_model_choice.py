"""The model is chosen on the user's validation window: bounded tree shapes, and on a small
history the best shape blended with a linear model, whose contributions are as exact as
TreeSHAP; a first model beating the prior is promoted even where logistic regression beat the
trees."""

from __future__ import annotations

import numpy as np
import pytest

from scoring.artifact import ClaimRiskModel
from scoring.blend import Blend
from scoring.linear import LinearModel
from scoring.scorer import Scorer
from tests.claims import claim
from training.model import (
    SHAPES,
    SMALL_DATA_ROWS,
    TREESHAP_BUDGET,
    Candidate,
    best,
    fit_candidates,
)
from training.promotion import first_promotion
from training.train import TrainResult


@pytest.fixture(scope="module")
def windows(trained: TrainResult):
    masks = trained.split.masks
    x_train, y_train = trained.dataset.rows(masks["train"])
    x_valid, y_valid = trained.dataset.rows(masks["validation"])
    return x_train, y_train, x_valid, y_valid, trained.dataset.features.columns.tolist()


def test_linear_contributions_are_exact_and_survive_a_round_trip(windows, tmp_path):
    x_train, y_train, x_valid, _, names = windows
    linear = LinearModel.fit(x_train, y_train, names)
    contributions = linear.contributions(x_valid)
    assert contributions.shape == (len(x_valid), len(names) + 1)
    np.testing.assert_allclose(contributions.sum(axis=1), linear.margin(x_valid), atol=1e-9)
    linear.save(tmp_path / "linear.json")
    np.testing.assert_array_equal(LinearModel.load(tmp_path / "linear.json").margin(x_valid),
                                  linear.margin(x_valid))  # fmt: skip


def test_a_linear_model_is_a_whole_artifact_the_scorer_serves(trained, windows, tmp_path):
    x_train, y_train, *_, names = windows
    model = trained.model
    linear = ClaimRiskModel(LinearModel.fit(x_train, y_train, names), model.state,
                            model.calibrator, model.bands)  # fmt: skip
    loaded = ClaimRiskModel.load(linear.save(tmp_path / "model"))
    assert loaded.kind == "linear" and loaded.meta["estimator"] == "linear"
    risky = claim(eligibility={"checked_on": "2026-09-30", "status": "inactive"})
    (result,) = Scorer(loaded, "1", "test").score([risky])
    assert result.reasons and result.reasons[0].category == "eligibility"


def test_small_histories_get_the_cross_validated_shape_blended_with_a_linear_model(windows):
    x_train, y_train, x_valid, y_valid, names = windows
    small = slice(0, SMALL_DATA_ROWS - 1)
    candidates = fit_candidates(x_train[small], y_train[small], x_valid, y_valid, names)
    assert [c.name for c in candidates] == [*SHAPES, "linear", "blend"]
    shapes = candidates[: len(SHAPES)]
    for candidate in shapes:
        assert candidate.rounds * candidate.params["num_leaves"] <= TREESHAP_BUDGET
        assert candidate.cv_loss is not None and candidate.cv_rows == len(y_train[small])
    chosen = best(candidates)
    assert chosen.name == "blend" and isinstance(chosen.estimator, Blend)
    trees = min(shapes, key=lambda c: c.cv_loss)  # folds of the training window, not validation
    assert chosen.estimator.trees is trees.estimator and chosen.rounds == trees.rounds
    assert chosen.estimator.trees.current_iteration() == trees.rounds
    refit = chosen.refit(x_train, y_train, names)
    assert isinstance(refit, Blend)
    assert refit.trees.current_iteration() == chosen.rounds_for(len(y_train))


def test_cross_validated_rounds_grow_with_the_refit_claims_inside_the_budget():
    shallow = {"num_leaves": 7}
    cross_validated = Candidate("shallow", None, shallow, 100, 0.9, 0.3, cv_rows=1000)
    assert cross_validated.rounds_for(1500) == 150
    assert cross_validated.rounds_for(1_000_000) == TREESHAP_BUDGET // 7
    early_stopped = Candidate("shallow", None, shallow, 100, 0.9)
    assert early_stopped.rounds_for(1500) == early_stopped.refit_rounds == 110


def test_given_parameters_fix_the_shape_early_stopped_on_validation(windows):
    x_train, y_train, x_valid, y_valid, names = windows
    shapes = fit_candidates(x_train, y_train, x_valid, y_valid, names, {"num_leaves": 7})
    assert [c.name for c in shapes] == ["given"] and shapes[0].cv_rows == 0
    assert best(shapes) is shapes[0]


def test_a_blend_is_exact_and_a_whole_artifact_the_scorer_serves(trained, windows, tmp_path):
    x_train, y_train, x_valid, _, names = windows
    model = trained.model
    blend = Blend(model.booster, LinearModel.fit(x_train, y_train, names), weight=0.3)
    blended = ClaimRiskModel(blend, model.state, model.calibrator, model.bands)
    contributions = blended.contributions(x_valid)
    np.testing.assert_allclose(contributions.sum(axis=1), blended.margin(x_valid), atol=1e-9)
    trees = ClaimRiskModel(blend.trees, model.state, model.calibrator, model.bands)
    linear = ClaimRiskModel(blend.linear, model.state, model.calibrator, model.bands)
    np.testing.assert_allclose(
        blended.margin(x_valid), 0.3 * trees.margin(x_valid) + 0.7 * linear.margin(x_valid)
    )
    loaded = ClaimRiskModel.load(blended.save(tmp_path / "model"))
    assert loaded.kind == "blend" and loaded.meta["estimator"] == "blend"
    np.testing.assert_allclose(loaded.contributions(x_valid), contributions, atol=1e-12)
    risky = claim(eligibility={"checked_on": "2026-09-30", "status": "inactive"})
    (result,) = Scorer(loaded, "1", "test").score([risky])
    assert result.reasons and result.reasons[0].category == "eligibility"


def test_trees_losing_to_logistic_still_give_the_practice_a_model():
    metrics = {"lgbm_roc_auc": 0.778, "logistic_roc_auc": 0.791, "prior_roc_auc": 0.5}
    result = first_promotion(metrics)
    assert result.passed
    assert any(reason.startswith("note") and "logistic" in reason for reason in result.reasons)
    assert not first_promotion(metrics | {"lgbm_roc_auc": 0.5}).passed
