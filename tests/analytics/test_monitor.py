"""Live accuracy from the store and the later history, against direct computations."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from analytics.drift import FeatureReference, main_features, psi
from analytics.monitor import monitor
from features.history import History
from scoring.artifact import ClaimRiskModel
from training.metrics import expected_calibration_error

from .conftest import VERSION, Recorded


@pytest.fixture(scope="module")
def expected(recorded: Recorded, truth: pd.DataFrame) -> pd.DataFrame:
    """Per recorded claim: its score and its ground-truth outcome (the last ten pending)."""
    frame = pd.DataFrame(
        {
            "claim_id": [r.claim_id for r in recorded.results],
            "p": [r.denial_probability for r in recorded.results],
            "band": [r.risk_band for r in recorded.results],
            "top": [r.reasons[0].category if r.reasons else "" for r in recorded.results],
            "month": recorded.month,
        }
    )
    known = truth.set_index("claim_id").loc[frame["claim_id"]]
    frame["denied"] = known["denied"].to_numpy(bool)
    frame["category"] = known["true_category"].to_numpy(object)
    frame["adjudicated"] = np.arange(len(frame)) < len(frame) - 10
    return frame


def _direct(frame: pd.DataFrame) -> dict[str, float]:
    done = frame[frame["adjudicated"]]
    y = done["denied"].to_numpy()
    medium = done["band"].isin(["medium", "high"]).to_numpy()
    high = (done["band"] == "high").to_numpy()
    denied = done[y]
    return {
        "scored": len(frame),
        "adjudicated": len(done),
        "precision_medium": y[medium].mean(),
        "recall_medium": medium[y].mean(),
        "precision_high": y[high].mean(),
        "recall_high": high[y].mean(),
        "ece": expected_calibration_error(y.astype(float), done["p"].to_numpy(), 10),
        "reason_agreement": (denied["top"] == denied["category"]).mean(),
    }


@pytest.fixture(scope="module")
def report(recorded: Recorded, later_history: History, analytics_model: ClaimRiskModel):
    return monitor(recorded.store, later_history, analytics_model)


@pytest.mark.parametrize("month", ["2026-01", "2026-02", "all"])
def test_figures_equal_a_direct_computation(report, expected: pd.DataFrame, month: str):
    rows = report.performance.set_index(["model_version", "month"])
    got = rows.loc[(VERSION, month)]
    mine = expected if month == "all" else expected[expected["month"] == month]
    for name, value in _direct(mine).items():
        assert got[name] == pytest.approx(value), name


def test_drift_against_the_training_window(report, analytics_model: ClaimRiskModel):
    drift = report.drift
    assert set(drift["feature"]) == set(main_features(analytics_model.feature_names))
    assert (drift["psi"] >= 0).all()
    assert drift["flagged"].equals(drift["psi"] > 0.2)
    assert "claims submitted" in report.reference


def test_no_drift_against_itself_and_drift_when_shifted(recorded: Recorded, later_history):
    names = ["filing_lag_days", "elig_check_age_days"]
    same = pd.DataFrame(recorded.features, columns=recorded_names(recorded))[names]
    assert monitor(recorded.store, later_history, reference=same).drift["psi"].max() < 0.05
    shifted = same.assign(filing_lag_days=same["filing_lag_days"] + 60)
    drift = monitor(recorded.store, later_history, reference=shifted).drift.set_index("feature")
    assert drift.loc["filing_lag_days", "flagged"]
    assert not drift.loc["elig_check_age_days", "flagged"]


def recorded_names(recorded: Recorded) -> list[str]:
    from analytics.recorded import read_features

    return list(read_features(recorded.store).columns)


def test_psi_of_a_known_shift():
    expected = np.array([0.5, 0.5, 0.0])
    actual = np.array([0.25, 0.75, 0.0])
    value = 0.25 * np.log(0.75 / 0.5) - 0.25 * np.log(0.25 / 0.5)
    assert psi(expected, actual) == pytest.approx(value)
    frame = pd.DataFrame({"x": np.arange(100.0)})
    reference = FeatureReference.from_frame(frame)
    assert FeatureReference.from_dict(json.loads(json.dumps(reference.to_dict()))).n == 100


def test_renders_as_rich_tables_and_json(report):
    console = Console(record=True, width=200)
    console.print(report)
    text = console.export_text()
    assert "Live accuracy" in text and "Input drift" in text
    data = json.loads(report.to_json())
    assert {row["month"] for row in data["performance"]} == {"2026-01", "2026-02", "all"}


def test_no_outcomes_yet(recorded: Recorded, history: History):
    report = monitor(recorded.store, history)
    assert report.performance["adjudicated"].eq(0).all()
    assert any("no recorded claim has an outcome" in note for note in report.notes)
    assert any("drift not checked" in note for note in report.notes)
