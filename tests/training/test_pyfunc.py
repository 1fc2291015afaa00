"""The registered model is a real MLflow model: signature, input example, NaN-safe batches,
reasons in its output, and it loads with nothing but MLflow and the logged code."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import yaml

from scoring.artifact import ClaimRiskModel
from scoring.registry import Settings, use_tracking
from scoring.scorer import Scorer
from training.tracking import log_pyfunc


def test_the_logged_pyfunc_scores_like_the_api_with_reasons(
    model_dir: Path, world: Path, mlflow_settings: Settings
):
    experiment = use_tracking(mlflow_settings, create=True)
    with mlflow.start_run(experiment_id=experiment):
        info = log_pyfunc(model_dir)
    local = Path(mlflow.artifacts.download_artifacts(info.model_uri))
    assert {"features", "scoring", "training"} <= {p.name for p in (local / "code").iterdir()}
    requirements = (local / "requirements.txt").read_text()
    assert "claimrisk" not in requirements and "lightgbm==" in requirements
    mlmodel = yaml.safe_load((local / "MLmodel").read_text())
    assert mlmodel["signature"]["inputs"] and mlmodel["saved_input_example_info"]

    loaded = mlflow.pyfunc.load_model(info.model_uri)
    requests = [json.loads(line) for line in (world / "requests.jsonl").read_text().splitlines()]
    frame = pd.DataFrame(requests[:40])  # absent optional fields become NaN
    assert frame.isna().to_numpy().any()
    frame = pd.concat([frame, frame.head(1).assign(claim_id="BAD", total_charge=-5.0)])
    out = loaded.predict(frame)
    assert list(out["claim_id"]) == [r["claim_id"] for r in requests[:40]] + ["BAD"]
    bad = out.iloc[-1]
    assert "total_charge" in bad["error"] and np.isnan(bad["denial_probability"])
    scorer = Scorer(ClaimRiskModel.load(model_dir), "1", "test")
    from features.contract import ClaimIn

    expected = scorer.score([ClaimIn.model_validate(r) for r in requests[:40]])
    good = out.iloc[:-1]
    assert (good["error"] == "").all()
    assert np.allclose(good["denial_probability"], [e.denial_probability for e in expected])
    assert [json.loads(r) for r in good["reasons"]] == [
        [reason.model_dump(mode="json") for reason in e.reasons or []] for e in expected
    ]
    unexplained = loaded.predict(frame.head(3), params={"reasons": "none"})
    assert (unexplained["reasons"] == "null").all()
