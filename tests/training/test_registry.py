"""MLflow tracking, registry aliases and the promotion gate (a real SQLite-backed store)."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from scoring.registry import CHALLENGER, CHAMPION, load_model, version_for
from training import promotion
from training.promotion import RECORDED, SCORED, SEEN, champion_source, compare, promote
from training.tracking import log_training_run
from training.train import TrainResult, train


def _predictions(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    label = (rng.random(n) < 0.2).astype(float)
    probability = np.clip(0.2 + 0.5 * (label - 0.2) + rng.normal(0, 0.1, n), 0.01, 0.99)
    category = np.where(label == 1, rng.choice(["eligibility", "authorization"], n), None)
    return pd.DataFrame(
        {
            "claim_id": [f"C{i}" for i in range(n)],
            "label": label,
            "probability": probability,
            "top_category": category,
            "true_category": category,
        }
    )


def test_gate_passes_an_equal_model_and_fails_worse_ones():
    good = _predictions()
    assert compare(good, good, {}).passed
    noisy = good.assign(probability=np.random.default_rng(1).random(len(good)))
    assert not compare(noisy, good, {}).passed
    collapsed = good.assign(top_category=np.where(good["label"] == 1, "other", None))
    result = compare(collapsed, good, {})
    assert not result.passed
    assert any("reason recall" in r and r.startswith("FAIL") for r in result.reasons)


def test_the_champion_is_judged_only_on_claims_it_did_not_train_on():
    claim_ids = pd.Series(["own-test", "own-test-late", "trained-on", "window-end", "later"])
    submitted = pd.to_datetime(
        pd.Series(["2025-05-01", "2025-07-02", "2025-03-01", "2025-06-30", "2025-07-01"])
    )
    recorded_ids = pd.Index(["own-test", "own-test-late", "not-a-challenger-test-claim"])
    source = champion_source(claim_ids, submitted, recorded_ids, pd.Timestamp("2025-06-30"))
    assert source.tolist() == [RECORDED, RECORDED, SEEN, SEEN, SCORED]


def test_train_log_register_promote_and_refuse_a_worse_model(
    trained: TrainResult, history, mlflow_settings
):
    run_id, version = log_training_run(trained, history, mlflow_settings, {"history": "test"})
    assert version == "1"
    assert str(version_for(mlflow_settings, CHALLENGER).version) == "1"
    client = MlflowClient()
    run = client.get_run(run_id)
    assert run.data.metrics["lgbm_roc_auc"] == pytest.approx(trained.metrics["lgbm_roc_auc"])
    artifacts = {a.path for a in client.list_artifacts(run_id)}
    assert {
        "data_fingerprint.json",
        "model_card.md",
        "plots",
        "test_predictions.parquet",
    } <= artifacts
    plots = {a.path for a in client.list_artifacts(run_id, "plots")}
    assert {"plots/calibration.png", "plots/pr_curve.png", "plots/shap_by_category.png"} <= plots
    card = mlflow.artifacts.load_text(f"runs:/{run_id}/model_card.md")
    assert "Known limits" in card and "ROC AUC" in card

    first = promote(mlflow_settings, history)
    assert first.passed, first.reasons
    assert str(version_for(mlflow_settings, CHAMPION).version) == "1"
    model, served = load_model(mlflow_settings, CHAMPION)
    assert served == "1" and model.state.feature_set == trained.model.state.feature_set

    worse = train(
        history, refit=False, params={"num_leaves": 2, "max_depth": 1, "min_data_in_leaf": 4000}
    )
    _, worse_version = log_training_run(worse, history, mlflow_settings, {"history": "test"})
    assert worse_version == "2"
    refused = promote(mlflow_settings, history)
    assert not refused.passed
    assert any(r.startswith("FAIL: AUC") for r in refused.reasons), refused.reasons
    assert str(version_for(mlflow_settings, CHAMPION).version) == "1"


def test_retraining_on_the_same_history_promotes_an_equal_model(
    trained: TrainResult, history, mlflow_settings, monkeypatch: pytest.MonkeyPatch
):
    log_training_run(trained, history, mlflow_settings, {"history": "test"})
    assert promote(mlflow_settings, history).passed
    again = train(history)
    log_training_run(again, history, mlflow_settings, {"history": "test"})
    test_claims = int(trained.split.masks["test"].sum())
    trained_until = trained.model.meta["training_window"]["to"]

    monkeypatch.setattr(promotion, "MIN_COMPARED", test_claims + 1)
    too_few = promote(mlflow_settings, history)
    assert not too_few.passed
    assert too_few.reasons[0].startswith(
        f"FAIL: the champion had not seen only {test_claims:,} of the challenger's "
        f"{test_claims:,} test claims"
    ), too_few.reasons
    assert f"claims submitted after {trained_until}" in too_few.reasons[0]
    assert str(version_for(mlflow_settings, CHAMPION).version) == "1"

    monkeypatch.undo()
    equal = promote(mlflow_settings, history)
    assert equal.passed, equal.reasons
    assert equal.reasons[0] == (
        f"compared on {test_claims:,} claims neither model trained on: {test_claims:,} from "
        f"the champion's own test window, 0 scored now (after its training window ending "
        f"{trained_until}); 0 left out"
    )
    assert str(version_for(mlflow_settings, CHAMPION).version) == "2"
