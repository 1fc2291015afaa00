"""The prediction store: what a row holds (and does not), batches, threads, schema checks."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import numpy as np
import pytest

from analytics.recorded import StoreError, read_features, read_predictions
from scoring.schemas import ModelRef, ScoreOut
from serving.predictions import PredictionStore, PredictionStoreError

from .conftest import VERSION, Recorded


def _result(claim_id: str, probability: float = 0.5) -> ScoreOut:
    return ScoreOut(
        claim_id=claim_id,
        denial_probability=probability,
        risk_band="medium",
        expected_denied_dollars=10.0,
        reasons=None,
        not_checked=[],
        model=ModelRef(name="claimrisk", version="1", training_window={}),
    )


def test_rows_hold_the_score_and_the_reason_categories(recorded: Recorded):
    frame = read_predictions(recorded.store)
    assert len(frame) == len(recorded.results) + 1  # one claim was scored twice
    last = frame.drop_duplicates("claim_id", keep="last").set_index("claim_id")
    for result in recorded.results[:20]:
        row = last.loc[result.claim_id]
        assert row["probability"] == pytest.approx(result.denial_probability)
        assert row["band"] == result.risk_band
        assert row["model_version"] == VERSION
        assert row["reasons"] == "|".join(r.category for r in result.reasons or [])
    assert set(frame["scored_at"].dt.strftime("%Y-%m")) == {"2026-01", "2026-02"}


def test_feature_vectors_round_trip_as_float32(recorded: Recorded):
    frame = read_predictions(recorded.store)
    vectors = read_features(recorded.store)
    assert len(vectors) == len(frame)
    last = vectors.loc[frame.drop_duplicates("claim_id", keep="last")["id"]]
    expected = recorded.features.astype(np.float32).astype(float)
    assert np.allclose(last.to_numpy(), expected, equal_nan=True)


def test_no_patient_fields_in_the_schema(recorded: Recorded):
    with sqlite3.connect(recorded.store) as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(predictions)")}
    assert not columns & {"member_id", "patient_id", "patient_birth_date", "diagnosis_codes"}


def test_shape_mismatch_is_refused(tmp_path: Path):
    with PredictionStore(tmp_path / "p.db") as store, pytest.raises(ValueError, match="shape"):
        store.record([_result("A")], np.zeros((2, 3)), ["a", "b", "c"])


def test_concurrent_writers(tmp_path: Path):
    path = tmp_path / "p.db"
    with PredictionStore(path) as store:

        def write(thread: int) -> None:
            for i in range(50):
                store.record([_result(f"T{thread}-{i}")], np.ones((1, 2)), ["a", "b"])

        threads = [threading.Thread(target=write, args=(t,)) for t in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert store.count() == 200
    with PredictionStore(path) as other_process_view:
        assert other_process_view.count() == 200
    assert read_predictions(path)["claim_id"].nunique() == 200


def test_unknown_schema_is_refused(tmp_path: Path):
    path = tmp_path / "p.db"
    PredictionStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(PredictionStoreError, match="schema 99"):
        PredictionStore(path)
    with pytest.raises(StoreError, match="schema"):
        read_predictions(path)
    with pytest.raises(StoreError, match="no prediction store"):
        read_predictions(tmp_path / "missing.db")
