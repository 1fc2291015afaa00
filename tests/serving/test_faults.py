"""Faults the service survives: a model that crashes its loader, an audit file or prediction
store that cannot be written, a shared state file that cannot be opened."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from serving.app import create_app
from serving.settings import ServeSettings
from tests.claims import EXAMPLE


def truncated_copy(model_dir: Path, folder: Path) -> Path:
    """The model with its booster file cut in half: LightGBM aborts the process loading it."""
    copy = Path(shutil.copytree(model_dir, folder))
    booster = copy / "booster.txt"
    data = booster.read_bytes()
    booster.write_bytes(data[: len(data) // 2])
    return copy


def metric(text: str, line_start: str) -> float:
    found = [line for line in text.splitlines() if line.startswith(line_start)]
    return float(found[0].rsplit(" ", 1)[1]) if found else 0.0


def test_a_truncated_booster_is_refused_on_reload_and_the_old_model_keeps_serving(
    settings: ServeSettings, keys, model_dir: Path, tmp_path: Path
):
    served = Path(shutil.copytree(model_dir, tmp_path / "served"))
    with TestClient(
        create_app(settings.model_copy(update={"model": str(served)})),
        headers={"X-API-Key": keys[1]},
    ) as client:
        before = client.get("/v1/model").json()
        shutil.rmtree(served)
        truncated_copy(model_dir, served)
        refused = client.post("/v1/admin/reload", headers={"X-API-Key": keys[2]})
        assert refused.status_code == 409
        assert refused.headers["content-type"] == "application/problem+json"
        assert "crashed the checking process" in refused.json()["detail"]
        assert client.get("/ready").status_code == 200
        assert client.get("/v1/model").json()["loaded_at"] == before["loaded_at"]
        assert client.post("/v1/claims/score", json=EXAMPLE).status_code == 200


def test_a_bad_model_at_start_leaves_ready_at_503(
    settings: ServeSettings, keys, model_dir, tmp_path
):
    bad = truncated_copy(model_dir, tmp_path / "bad")
    with TestClient(
        create_app(settings.model_copy(update={"model": str(bad)})),
        headers={"X-API-Key": keys[1]},
    ) as client:
        assert client.get("/health").status_code == 200
        assert client.get("/ready").status_code == 503
        assert client.post("/v1/claims/score", json=EXAMPLE).status_code == 503


def test_a_vanished_model_folder_is_an_error_not_a_registry_lookup(
    settings, keys, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)  # where a registry lookup would create ./mlflow.db
    gone = settings.model_copy(update={"model": "models/gone"})
    with TestClient(create_app(gone)) as client:
        assert client.get("/ready").status_code == 503
    assert not (tmp_path / "mlflow.db").exists()


@pytest.mark.parametrize("where", ["/dev/full", "a file for a folder"])
def test_scoring_succeeds_when_the_audit_file_cannot_be_written(
    settings: ServeSettings, keys, tmp_path: Path, where: str, caplog
):
    audit = Path("/dev/full")  # every write fails as on a full disk
    if where == "a file for a folder":
        (tmp_path / "blocker").write_text("")
        audit = tmp_path / "blocker" / "audit.jsonl"
    app = create_app(settings.model_copy(update={"audit_log": audit}))
    with TestClient(app, headers={"X-API-Key": keys[1]}) as client:
        for _ in range(3):
            assert client.post("/v1/claims/score", json=EXAMPLE).status_code == 200
        text = client.get("/metrics").text
    assert metric(text, 'claimrisk_record_failures_total{sink="audit"}') == 3
    assert "audit file not written" in caplog.text
    assert EXAMPLE["member_id"] not in caplog.text


def test_an_unusable_prediction_store_neither_stops_the_server_nor_fails_a_call(
    settings: ServeSettings, keys, tmp_path: Path
):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the store's folder should be")
    app = create_app(settings.model_copy(update={"prediction_store": blocker / "p.db"}))
    with TestClient(app, headers={"X-API-Key": keys[1]}) as client:
        assert client.post("/v1/claims/score", json=EXAMPLE).status_code == 200
        assert client.post("/v1/claims/score-batch", json={"claims": [EXAMPLE]}).status_code == 200
    text = app.state.services.metrics.exposition().decode()  # the writer has drained on close
    assert metric(text, 'claimrisk_record_failures_total{sink="predictions"}') >= 1


def test_a_state_file_that_cannot_be_opened_still_scores(settings, keys, tmp_path: Path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    app = create_app(settings.model_copy(update={"state_file": blocker / "state.db"}))
    with TestClient(app, headers={"X-API-Key": keys[1]}) as client:
        assert client.post("/v1/claims/score-batch", json={"claims": [EXAMPLE]}).status_code == 200
        assert client.get("/v1/claims/last-batch").status_code == 503
        text = client.get("/metrics").text
    assert metric(text, 'claimrisk_record_failures_total{sink="last_batch"}') == 1
