"""Training: time split, calibration, baselines, artifact, SHAP, behaviour, gate."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shap

from features.history import History
from scoring.artifact import ClaimRiskModel
from scoring.calibration import Calibrator, logit
from tests.history_requests import request_for
from training.dataset import build_dataset, with_context_dropout
from training.model import choose_calibration
from training.train import TrainResult


def test_time_split_windows_do_not_overlap(trained: TrainResult):
    masks, day = trained.split.masks, trained.dataset.submission_day
    adjudicated = trained.dataset.adjudication_day
    assert day[masks["train"]].max() < day[masks["validation"]].min()
    assert day[masks["validation"]].max() < day[masks["test"]].min()
    assert adjudicated[masks["train"]].max() < day[masks["validation"]].min()
    assert adjudicated[masks["validation"]].max() < day[masks["test"]].min()
    assert not (masks["train"] & masks["validation"]).any()
    assert not (masks["validation"] & masks["test"]).any()


def test_calibration_is_judged_on_the_later_window(trained: TrainResult):
    brier = trained.calibration_brier
    assert set(brier) == {"none", "isotonic", "platt"}
    chosen = trained.model.calibrator.method
    assert chosen == "none" or brier[chosen] < brier["none"]


def test_a_calibrator_is_kept_only_when_it_helps_later():
    rng = np.random.default_rng(3)
    truth = rng.beta(1, 6, 8000)
    y = (rng.uniform(size=8000) < truth).astype(float)
    valid, later = slice(0, 4000), slice(4000, None)
    calibrated = choose_calibration(truth[valid], y[valid], truth[later], y[later])
    assert calibrated.calibrator.method == "none"  # nothing to correct: noise is not kept
    skewed = truth**0.6  # overconfident in denial everywhere: a real distortion
    fixed = choose_calibration(skewed[valid], y[valid], skewed[later], y[later])
    assert fixed.calibrator.method in {"isotonic", "platt"}
    assert (
        fixed.z[fixed.calibrator.method] < -2
        and fixed.brier[fixed.calibrator.method] < fixed.brier["none"]
    )


def test_calibrators_apply_exactly_what_sklearn_fitted():
    rng = np.random.default_rng(0)
    raw = rng.uniform(0.001, 0.999, 2000)
    y = (rng.uniform(size=2000) < raw**1.5).astype(int)
    grid = np.r_[0.0, 1e-7, np.linspace(0, 1, 501), 1.0]
    isotonic = Calibrator.fit(raw, y, "isotonic")
    assert isotonic.isotonic is not None
    np.testing.assert_allclose(isotonic(grid), isotonic.isotonic.predict(grid), atol=1e-12)
    platt = Calibrator.fit(raw, y, "platt")
    assert platt.platt is not None
    expected = platt.platt.predict_proba(logit(grid)[:, None])[:, 1]
    np.testing.assert_allclose(platt(grid), expected, atol=1e-12)


def test_model_beats_both_baselines_and_reports_every_metric(trained: TrainResult):
    m = trained.metrics
    assert m["lgbm_roc_auc"] > m["logistic_roc_auc"] > m["prior_roc_auc"]
    assert m["lgbm_pr_auc"] > m["logistic_pr_auc"]
    for name in (
        "roc_auc",
        "pr_auc",
        "recall_at_90_precision",
        "recall_at_95_precision",
        "brier",
        "ece",
    ):
        assert f"lgbm_{name}" in m
    assert 0.5 < m["oracle_roc_auc"] <= 1 and m["auc_ratio_to_oracle"] > 0.85
    assert "recall_eligibility" in m and "recall_all" in m


def test_shap_is_additive_and_agrees_with_shap_package(trained: TrainResult):
    model = trained.model
    x = trained.dataset.features.to_numpy(float)[:300]
    contributions = model.contributions(x)
    np.testing.assert_allclose(contributions.sum(axis=1), model.margin(x), atol=1e-6)
    explainer = shap.TreeExplainer(model.booster)
    values = np.asarray(explainer.shap_values(x[:100]))
    values = values[-1] if values.ndim == 3 else values
    np.testing.assert_allclose(values, contributions[:100, :-1], atol=1e-5)


def test_artifact_loads_in_a_fresh_process_with_the_same_scores(trained: TrainResult, tmp_path):
    folder = trained.model.save(tmp_path / "model")
    x = trained.dataset.features.to_numpy(float)[:200]
    np.save(tmp_path / "x.npy", x)
    script = (
        "import sys, numpy as np; from pathlib import Path;"
        "from scoring.artifact import ClaimRiskModel;"
        f"m = ClaimRiskModel.load(Path({str(folder)!r}));"
        f"np.save({str(tmp_path / 'p.npy')!r}, m.probability(np.load({str(tmp_path / 'x.npy')!r})))"
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=Path(__file__).parents[2])
    np.testing.assert_array_equal(np.load(tmp_path / "p.npy"), trained.model.probability(x))
    assert (
        ClaimRiskModel.load(folder).meta["training_window"] == trained.model.meta["training_window"]
    )


def _score(model: ClaimRiskModel, claims) -> tuple[np.ndarray, np.ndarray]:
    x = model.request_matrix(claims)
    payers = np.array([c.payer_id for c in claims], dtype=object)
    return model.probability(x), model.category_contributions(model.contributions(x), x, payers)


def test_removing_a_required_authorization_raises_risk_and_the_auth_reason(
    trained: TrainResult, history, world: Path
):
    from features.categories import CATEGORIES

    change = json.loads((world / "world.json").read_text())["policy_changes"][0]
    lines = history.claim_lines
    claims = history.claims.set_index("claim_id")
    with_code = lines.loc[lines["procedure_code"] == change["procedure_code"], "claim_id"]
    candidates = [
        c
        for c in with_code.unique()
        if claims.loc[c, "payer_id"] == change["payer_id"]
        and claims.loc[c, "submission_date"]
        > pd.Timestamp(change["effective"]) + pd.Timedelta(days=60)
    ]
    covered = [
        r
        for r in (request_for(history, c) for c in candidates[:200])
        if any(change["procedure_code"] in a.procedure_codes for a in r.authorizations or [])
    ]
    x = trained.model.request_matrix(covered)
    valid = x[:, trained.model.feature_names.index("auth_no_valid_auth_rate")] == 0
    covered = [r for r, ok in zip(covered, valid, strict=True) if ok]
    assert len(covered) >= 5
    stripped = [r.model_copy(update={"authorizations": []}) for r in covered]
    before, reasons_before = _score(trained.model, covered)
    after, reasons_after = _score(trained.model, stripped)
    auth = CATEGORIES.index("authorization")
    assert np.mean(after > before) >= 0.9
    assert np.mean(reasons_after[:, auth] > reasons_before[:, auth]) >= 0.9
    assert np.median(after) > 0.5


def test_moving_the_submission_inside_the_filing_limit_lowers_risk(trained: TrainResult, history):
    late = history.claims.loc[
        (history.claims["submission_date"] - history.claims["service_date"]).dt.days > 200
    ]
    requests = [request_for(history, c) for c in late["claim_id"].head(40)]
    assert len(requests) >= 10
    on_time = [
        r.model_copy(
            update={"submission_date": r.service_date + pd.Timedelta(days=5).to_pytimedelta()}
        )
        for r in requests
    ]
    before, _ = _score(trained.model, requests)
    after, _ = _score(trained.model, on_time)
    assert np.mean(after < before) >= 0.9


def test_a_clean_claim_scores_low(trained: TrainResult, history):
    clean = history.claims.merge(trained.dataset.features.reset_index(), on="claim_id")
    rows = clean[
        (clean["elig_check_age_days"] < 30)
        & (clean["elig_days_past_coverage_end"].isna())
        & (clean["auth_no_valid_auth_rate"] < 0.02)
        & (clean["filing_lag_days"] < 10)
        & (clean["doc_charge_mismatch"] == 0)
        & (clean["dup_prior_submissions"] == 0)
    ]
    requests = [request_for(history, c) for c in rows["claim_id"].head(50)]
    probability, _ = _score(trained.model, requests)
    assert np.median(probability) < 0.1


def test_dropout_hides_eligibility_only_with_all_context(history: History):
    """A request that sends other context and no eligibility says no check is on file, so
    training hides eligibility only together with every other context (an 837P alone, an
    upload); authorizations and enrollments also go missing on their own."""
    dataset = build_dataset(history)
    everyone = np.ones(len(dataset.label), dtype=bool)
    dropped = with_context_dropout(dataset, everyone, 0.2).features
    unknown = {
        "eligibility": dropped["elig_no_check"].isna().to_numpy(),
        "authorizations": dropped["auth_no_valid_auth_rate"].isna().to_numpy(),
        "provider_enrollment": dropped["cred_not_enrolled_on_service_date"].isna().to_numpy(),
    }
    assert not dataset.features["elig_no_check"].isna().any()
    assert unknown["eligibility"].mean() == pytest.approx(0.2, abs=0.02)
    every_other = unknown["authorizations"] & unknown["provider_enrollment"]
    assert every_other[unknown["eligibility"]].all()
    for context in ("authorizations", "provider_enrollment"):
        assert (unknown[context] & ~unknown["eligibility"]).mean() > 0.1
