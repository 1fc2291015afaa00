"""The work queue's server side: claim statuses, overrides, identifiers, the CSV template."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from features.uploads import parse_upload
from serving.app import create_app
from serving.predictions import PredictionStore
from serving.queue_status import QueueStatusStore
from tests.claims import EXAMPLE


@pytest.fixture(scope="module")
def requests_(world: Path) -> list[dict]:
    return [json.loads(line) for line in (world / "requests.jsonl").read_text().splitlines()]


def test_status_is_kept_with_who_and_when_and_survives_a_restart(client, settings, keys):
    assert client.get("/v1/claims/A1001/status").json() == {
        "claim_id": "A1001", "status": "open", "who": None, "at": None, "note": None,
    }  # fmt: skip
    saved = client.put("/v1/claims/A1001/status", json={"status": "fixed", "note": "auth added"})
    assert saved.status_code == 200
    assert saved.json()["who"] == "pm-system" and saved.json()["at"]
    client.put("/v1/claims/B7/status", json={"status": "sent_as_is"})
    with TestClient(create_app(settings), headers={"X-API-Key": keys[1]}) as restarted:
        found = restarted.post("/v1/claims/statuses", json={"claim_ids": ["A1001", "B7", "C9"]})
        assert [s["status"] for s in found.json()] == ["fixed", "sent_as_is", "open"]
        assert found.json()[0]["note"] == "auth added"
    changes = QueueStatusStore(settings.queue_store).changes("A1001")
    assert [c.status for c in changes] == ["fixed"]


def test_status_rejects_bad_input_and_needs_a_key(client):
    assert client.put("/v1/claims/A1/status", json={"status": "done"}).status_code == 422
    assert client.put("/v1/claims/A1/status", json={"status": "fixed", "x": 1}).status_code == 422
    too_long = {"status": "fixed", "note": "x" * 501}
    assert client.put("/v1/claims/A1/status", json=too_long).status_code == 422
    assert client.post("/v1/claims/statuses", json={"claim_ids": []}).status_code == 422
    anonymous = client.get("/v1/claims/A1/status", headers={"X-API-Key": ""})
    assert anonymous.status_code == 401


def test_two_stores_on_one_file_see_each_other(tmp_path):
    """Two uvicorn workers each open the file: a mark made by one is read by the other."""
    first, second = QueueStatusStore(tmp_path / "q.db"), QueueStatusStore(tmp_path / "q.db")
    first.set("A1", "fixed", "ann")
    second.set("A2", "sent_as_is", "bob")
    assert [s.who for s in second.many(["A1", "A2"])] == ["ann", "bob"]
    assert [s.status for s in first.many(["A2", "A1", "A3"])] == ["sent_as_is", "fixed", "open"]
    first.close()
    second.close()


def test_batch_answers_carry_the_pm_identifiers(client, requests_):
    body = {"claims": requests_[:3]}
    batch = client.post("/v1/claims/score-batch", json=body).json()
    assert [c["claim_id"] for c in batch["claims"]] == [r["claim_id"] for r in batch["results"]]
    first = batch["claims"][0]
    assert first["service_date"] == requests_[0]["service_date"]
    assert first["procedure_codes"] == [ln["procedure_code"] for ln in requests_[0]["lines"]]
    assert first["total_charge"] == pytest.approx(requests_[0]["total_charge"])
    named = dict(EXAMPLE, payer_name="Example Health Plan")
    upload = client.post(
        "/v1/claims/score-upload", content=json.dumps(named), headers={"content-type": "text/plain"}
    ).json()
    assert upload["claims"][0]["payer_name"] == "Example Health Plan"
    assert client.get("/v1/claims/last-batch").json()["claims"] == upload["claims"]


def test_the_csv_template_is_an_upload_that_scores(client):
    template = client.get("/upload-template.csv", headers={"X-API-Key": ""})
    assert template.status_code == 200
    assert template.headers["content-type"].startswith("text/csv")
    claims = parse_upload(template.text, "csv")
    assert [len(c.lines) for c in claims] == [2]
    scored = client.post(
        "/v1/claims/score-upload?format=csv",
        content=template.text,
        headers={"content-type": "text/plain"},
    )
    assert scored.status_code == 200, scored.text


def test_page_assets_are_same_origin_files(client):
    page = client.get("/").text
    assert "<script>" not in page and "<style>" not in page and "localStorage.setItem" not in page
    script = client.get("/static/queue.js")
    assert script.status_code == 200 and "sessionStorage" in script.text
    assert client.get("/static/queue.css").status_code == 200
    assert client.get("/static/../app.py").status_code == 404


def _scored_with_reason(client, requests_) -> tuple[str, str]:
    batch = client.post("/v1/claims/score-batch", json={"claims": requests_[:60]}).json()
    for result in batch["results"]:
        if result["reasons"]:
            return result["claim_id"], result["reasons"][0]["category"]
    raise AssertionError("no claim with a reason among 60")


def test_an_override_is_stored_with_its_prediction(client, settings, requests_):
    claim_id, category = _scored_with_reason(client, requests_)
    stored = client.post(
        f"/v1/claims/{claim_id}/overrides",
        json={"category": category, "note": "the payer does not require it"},
    )
    assert stored.status_code == 201, stored.text
    assert stored.json()["who"] == "pm-system" and stored.json()["prediction_id"] > 0
    listed = client.get(f"/v1/claims/{claim_id}/overrides").json()
    assert [o["category"] for o in listed] == [category]
    others = {"eligibility", "authorization", "coding", "documentation"} - {category}
    wrong = client.post(f"/v1/claims/{claim_id}/overrides", json={"category": others.pop()})
    assert wrong.status_code == 409 and "was not a reason" in wrong.json()["detail"]
    unknown = client.post("/v1/claims/never-scored/overrides", json={"category": category})
    assert unknown.status_code == 409 and "no recorded prediction" in unknown.json()["detail"]
    bad = client.post(f"/v1/claims/{claim_id}/overrides", json={"category": "astrology"})
    assert bad.status_code == 422
    with PredictionStore(settings.prediction_store) as store:
        assert [o.note for o in store.overrides(claim_id)] == ["the payer does not require it"]
