"""Every route, auth, validation paths, reasons and their evidence, reload, logs without PHI."""

from __future__ import annotations

import gc
import json
import logging
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from scoring.reasons import MAX_REASONS, REASON_FLOOR
from serving.app import create_app
from serving.holder import ModelHolder
from serving.predictions import PredictionStore
from serving.settings import ServeSettings
from tests.claims import EXAMPLE, claim_json


@pytest.fixture(scope="module")
def requests_(world: Path) -> list[dict]:
    return [json.loads(line) for line in (world / "requests.jsonl").read_text().splitlines()]


def test_health_ready_model_and_metrics(client: TestClient):
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/ready").json()["status"] == "ready"
    info = client.get("/v1/model").json()
    assert info["feature_set"] and info["metrics"]["lgbm_roc_auc"] > 0.5
    assert set(info["bands"]) == {"medium", "high"}
    client.post("/v1/claims/score", json=EXAMPLE)
    metrics = client.get("/metrics").text
    assert 'claimrisk_requests_total{route="/v1/claims/score",status="200"} 1.0' in metrics
    assert "claimrisk_request_seconds_bucket" in metrics
    assert "claimrisk_scores_total{band=" in metrics
    assert "claimrisk_model_info{" in metrics


def test_score_one_claim(client: TestClient):
    result = client.post("/v1/claims/score", json=EXAMPLE).json()
    assert result["claim_id"] == "A1001"
    assert 0 <= result["denial_probability"] <= 1
    assert result["risk_band"] in ("low", "medium", "high")
    assert result["expected_denied_dollars"] == pytest.approx(
        result["denial_probability"] * 420.0, abs=0.05
    )
    assert result["not_checked"] == []
    assert result["model"]["training_window"]["from"]


def test_not_checked_lists_missing_context(client: TestClient):
    body = claim_json(eligibility=None, provider_enrollment=None)
    assert client.post("/v1/claims/score", json=body).json()["not_checked"] == [
        "eligibility",
        "credentialing",
    ]


def test_batch_reasons_are_adverse_bounded_and_deterministic(client: TestClient, requests_):
    first = client.post("/v1/claims/score-batch", json={"claims": requests_}).json()
    again = client.post("/v1/claims/score-batch", json={"claims": requests_}).json()
    assert first == again
    assert [r["claim_id"] for r in first["results"]] == [r["claim_id"] for r in requests_]
    explained = 0
    for result in first["results"]:
        reasons = result["reasons"]
        assert len(reasons) <= MAX_REASONS
        contributions = [r["contribution"] for r in reasons]
        assert all(c >= REASON_FLOOR for c in contributions)
        assert contributions == sorted(contributions, reverse=True)
        assert len({r["category"] for r in reasons}) == len(reasons)
        assert all(r["evidence"] and r["action"] for r in reasons)
        explained += bool(reasons)
    assert explained > len(requests_) / 10


def test_reasons_only_at_or_above_a_band(client: TestClient, requests_):
    results = client.post(
        "/v1/claims/score-batch", json={"claims": requests_, "reasons": "high"}
    ).json()["results"]
    assert all((r["reasons"] is None) == (r["risk_band"] != "high") for r in results)


def test_what_if_lowers_the_probability_for_the_fixed_cause(client: TestClient, requests_):
    results = client.post("/v1/claims/score-batch", json={"claims": requests_}).json()["results"]
    pairs = [
        (r["denial_probability"], reason["what_if"]["denial_probability"])
        for r in results
        for reason in r["reasons"][:1]
        if reason["what_if"]
    ]
    assert len(pairs) >= 10
    lower = np.mean([after < before for before, after in pairs])
    assert lower >= 0.9


def test_expired_authorization_evidence_names_the_claim_facts(client: TestClient, world: Path):
    rules = json.loads((world / "world.json").read_text())
    change = rules["policy_changes"][0]
    auth = {
        "auth_number": "PA99812",
        "procedure_codes": [change["procedure_code"]],
        "start_date": "2026-09-01",
        "end_date": "2026-09-30",
        "provider_npi": "1679576722",
        "units": 1,
    }
    lines = [
        {
            "line_number": 1,
            "procedure_code": change["procedure_code"],
            "units": 1,
            "line_charge": 420.0,
            "diagnosis_pointers": [1, 2],
        }
    ]
    body = claim_json(payer_id=change["payer_id"], lines=lines, authorizations=[auth])
    result = client.post("/v1/claims/score", json=body).json()
    authorization = [r for r in result["reasons"] if r["category"] == "authorization"]
    assert authorization, result
    evidence = " ".join(authorization[0]["evidence"])
    assert (
        f"authorization PA99812 covers {change['procedure_code']} from 2026-09-01 to "
        "2026-09-30; service date 2026-10-02"
    ) in evidence
    assert authorization[0]["what_if"]["denial_probability"] < result["denial_probability"]


def test_auth_failures(settings, keys):
    with TestClient(create_app(settings)) as anonymous:
        assert anonymous.post("/v1/claims/score", json=EXAMPLE).status_code == 401
        wrong = anonymous.post("/v1/claims/score", json=EXAMPLE, headers={"X-API-Key": "crk_x"})
        assert wrong.status_code == 401
        assert anonymous.get("/v1/model").status_code == 401
        assert anonymous.get("/health").status_code == 200
        client_key = {"X-API-Key": keys[1]}
        assert anonymous.post("/v1/admin/reload", headers=client_key).status_code == 403


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        (claim_json(service_date="2026-13-01"), ["body", "service_date"]),
        (claim_json(plan_type="hmo"), ["body", "plan_type"]),
        (
            claim_json(provider_enrollment={"effective_date": "2329-01-01"}),
            ["body", "provider_enrollment", "effective_date"],
        ),
        ({k: v for k, v in EXAMPLE.items() if k != "payer_id"}, ["body", "payer_id"]),
        (claim_json(lines=[{**EXAMPLE["lines"][0], "units": -1}]), ["body", "lines", 0, "units"]),
        (claim_json(lines=[]), ["body", "lines"]),
        (claim_json(billing_npi="12345"), ["body", "billing_npi"]),
        (claim_json(extra_field=1), ["body", "extra_field"]),
        (claim_json(patient_birth_date="2027-01-01"), ["body", "service_date"]),
        (claim_json(total_charge=1.7e308), ["body", "total_charge"]),
        (claim_json(lines=EXAMPLE["lines"][:1] * 2), ["body", "lines"]),
        (claim_json(authorizations=EXAMPLE["authorizations"] * 101), ["body", "authorizations"]),
    ],
)
def test_bad_claims_get_422_with_the_field_path(client: TestClient, body, loc):
    response = client.post("/v1/claims/score", json=body)
    assert response.status_code == 422
    assert loc in [d["loc"] for d in response.json()["errors"]]


def test_malformed_json_and_oversized_bodies(client: TestClient):
    broken = client.post(
        "/v1/claims/score", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert broken.status_code == 422
    too_many = client.post("/v1/claims/score-batch", json={"claims": [EXAMPLE] * 10_001})
    assert too_many.status_code in (413, 422)
    typo = client.post("/v1/claims/score-batch", json={"claims": [EXAMPLE], "reason": "none"})
    assert typo.status_code == 422 and typo.json()["errors"][0]["loc"] == ["body", "reason"]
    huge = client.post(
        "/v1/claims/score", content=b"x" * 3_000_000, headers={"content-type": "application/json"}
    )
    assert huge.status_code == 413
    streamed = client.post(  # no Content-Length: the limit counts the chunks as they arrive
        "/v1/claims/score",
        content=(b"x" * 100_000 for _ in range(30)),
        headers={"content-type": "application/json"},
    )
    assert streamed.status_code == 413


def test_upload_jsonl_and_csv_and_last_batch(client: TestClient, requests_):
    text = "\n".join(json.dumps(r) for r in requests_[:20])
    scored = client.post(
        "/v1/claims/score-upload?format=jsonl", content=text, headers={"content-type": "text/plain"}
    )
    assert scored.status_code == 200 and len(scored.json()["results"]) == 20
    assert client.get("/v1/claims/last-batch").json() == scored.json()
    csv_text = (
        "claim_id,patient_id,member_id,payer_id,plan_type,billing_npi,place_of_service,"
        "frequency_code,service_date,submission_date,total_charge,diagnosis_codes,"
        "line_number,procedure_code,modifiers,units,line_charge,diagnosis_pointers\n"
        "X1,P1,M1,60054,commercial,1234567893,11,1,2026-10-02,2026-10-05,420,M54.50|M51.26,"
        "1,99214,25,1,180,1\n"
        "X1,P1,M1,60054,commercial,1234567893,11,1,2026-10-02,2026-10-05,420,M54.50|M51.26,"
        "2,72148,,1,240,1|2\n"
    )
    from_csv = client.post(
        "/v1/claims/score-upload?format=csv",
        content=csv_text,
        headers={"content-type": "text/plain"},
    )
    assert from_csv.status_code == 200
    assert from_csv.json()["results"][0]["claim_id"] == "X1"
    excel_latin1 = client.post(  # a spreadsheet saved as plain "CSV" on Windows
        "/v1/claims/score-upload?format=csv",
        content=csv_text.replace("X1,P1", "XÉ,P1").encode("latin-1"),
        headers={"content-type": "text/plain"},
    )
    assert excel_latin1.status_code == 200, excel_latin1.text
    assert excel_latin1.json()["results"][0]["claim_id"] == "XÉ"
    bad = client.post(  # a bad claim is answered in its place; the others are scored
        "/v1/claims/score-upload?format=jsonl",
        content=text + '\n{"claim_id": 1}\n' + json.dumps(requests_[20]),
        headers={"content-type": "text/plain"},
    )
    assert bad.status_code == 200
    results = bad.json()["results"]
    assert len(results) == 22 and "denial_probability" in results[21]
    assert results[20]["line"] == 21 and results[20]["claim_id"] is None
    assert {tuple(p["loc"]) for p in results[20]["problems"]} >= {("claim_id",), ("lines",)}


def test_a_batch_answers_each_bad_claim_in_its_place(client: TestClient, requests_):
    no_lines = {**requests_[1], "lines": []}
    batch = [requests_[0], no_lines, "not a claim", requests_[2]]
    answered = client.post("/v1/claims/score-batch", json={"claims": batch})
    assert answered.status_code == 200
    results = answered.json()["results"]
    assert [r["claim_id"] for r in results] == [
        requests_[0]["claim_id"], requests_[1]["claim_id"], None, requests_[2]["claim_id"],
    ]  # fmt: skip
    assert "denial_probability" in results[0] and "denial_probability" in results[3]
    assert results[1]["problems"][0]["loc"] == ["lines"]
    assert "valid dictionary" in results[2]["problems"][0]["msg"]
    last = client.get("/v1/claims/last-batch").json()
    assert last["results"][1]["problems"] == results[1]["problems"]


def test_reload_swaps_and_a_corrupt_model_is_refused(
    client: TestClient, settings, keys, model_dir: Path, tmp_path: Path
):
    admin = {"X-API-Key": keys[2]}
    before = client.get("/v1/model").json()
    reloaded = client.post("/v1/admin/reload", headers=admin)
    assert reloaded.status_code == 200
    assert reloaded.json()["loaded_at"] >= before["loaded_at"]
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    for item in model_dir.iterdir():
        (corrupt / item.name).write_bytes(item.read_bytes())
    (corrupt / "booster.txt").write_text("not a model")
    holder: ModelHolder = client.app.state.services.holder
    serving = holder.scorer
    holder._load = lambda: __import__("serving.holder", fromlist=["loader_for"]).loader_for(
        settings.model_copy(update={"model": str(corrupt)})
    )()
    refused = client.post("/v1/admin/reload", headers=admin)
    assert refused.status_code == 409
    assert holder.scorer is serving
    assert client.post("/v1/claims/score", json=EXAMPLE).status_code == 200


def test_logs_and_audit_never_hold_phi(client: TestClient, settings, requests_, caplog):
    caplog.set_level(logging.DEBUG)
    client.post("/v1/claims/score-batch", json={"claims": requests_[:50]})
    client.post("/v1/claims/score", json=claim_json(billing_npi="12345"))
    logged = caplog.text + settings.audit_log.read_text()
    for request in requests_[:50]:
        assert request["member_id"] not in logged
        if request.get("patient_birth_date"):
            assert request["patient_birth_date"] not in logged
        for code in request["diagnosis_codes"]:
            assert f'"{code}"' not in logged
    audit = [json.loads(line) for line in settings.audit_log.read_text().splitlines()]
    assert audit[0]["claims"] == 50 and audit[0]["who"] and audit[0]["model_version"]
    assert sum(audit[0]["bands"].values()) == 50


def test_score_x12_answers_every_clm_in_file_order(client: TestClient, history, monkeypatch):
    from simulator.x12_837 import write_837p

    claims = history.claims.head(30)
    lines = history.claim_lines[history.claim_lines["claim_id"].isin(claims["claim_id"])]
    text = write_837p(claims, lines)
    response = client.post(
        "/v1/claims/score-x12", content=text, headers={"content-type": "text/plain"}
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    in_file_order = [
        segment.split("*")[1] for segment in text.split("~") if segment.strip().startswith("CLM*")
    ]
    assert [r["claim_id"] for r in results] == in_file_order
    assert sorted(in_file_order) == sorted(claims["claim_id"])
    positions = [r["position"] for r in results]
    assert positions == sorted(positions) and len(set(positions)) == 30
    assert all(
        r["result"]["not_checked"] == ["eligibility", "authorization", "credentialing"]
        for r in results
        if r["result"]
    )
    latin1 = client.post(  # a payer name in Latin-1, as older clearinghouses send it
        "/v1/claims/score-x12",
        content=text.replace("*PAYER*", "*PAYÉ*").encode("latin-1"),
        headers={"content-type": "text/plain"},
    )
    assert latin1.status_code == 200, latin1.text
    assert [r["claim_id"] for r in latin1.json()["results"]] == in_file_order
    icd9 = client.post(  # no claim can be scored: every one answers with its problem
        "/v1/claims/score-x12",
        content=text.replace("HI*ABK:", "HI*BK:").replace("*ABF:", "*BF:"),
        headers={"content-type": "text/plain"},
    )
    assert icd9.status_code == 200, icd9.text
    assert len(icd9.json()["results"]) == 30
    assert all(r["result"] is None and "ICD-9" in r["problem"] for r in icd9.json()["results"])
    broken = client.post(
        "/v1/claims/score-x12",
        content=text[: len(text) // 2],
        headers={"content-type": "text/plain"},
    )
    assert broken.status_code == 422 and "segment" in broken.json()["detail"]
    monkeypatch.setattr("serving.batches.MAX_BATCH", 29)
    too_many = client.post(
        "/v1/claims/score-x12", content=text, headers={"content-type": "text/plain"}
    )
    assert too_many.status_code == 422 and "at most 29 per call" in too_many.json()["detail"]
    institutional = (
        Path(__file__).parents[3] / "shared/external/LinuxForHealth__x12/src/tests/"
        "resources/837_005010X223A3/institutional-claim.837i"
    )
    if institutional.exists():
        refused = client.post(
            "/v1/claims/score-x12",
            content=institutional.read_text(),
            headers={"content-type": "text/plain"},
        )
        assert refused.status_code == 422 and "837I" in refused.json()["detail"]


def test_scores_reach_the_prediction_store_without_phi(settings, keys, requests_):
    claims = requests_[:5]
    with TestClient(create_app(settings), headers={"X-API-Key": keys[1]}) as client:
        for claim in claims:
            assert client.post("/v1/claims/score", json=claim).status_code == 200
        batch = {"claims": claims[:3], "reasons": "none"}
        assert client.post("/v1/claims/score-batch", json=batch).status_code == 200
    # the app has shut down: its background writer wrote everything that was waiting
    with PredictionStore(settings.prediction_store) as store:
        assert store.count() == 8
    stored = settings.prediction_store.read_bytes()
    assert all(c["claim_id"].encode() in stored for c in claims)
    assert not any(c["member_id"].encode() in stored for c in claims)


def test_an_empty_store_setting_turns_the_store_off(monkeypatch):
    monkeypatch.setenv("CLAIMRISK_SERVE_PREDICTION_STORE", "")
    monkeypatch.setenv("CLAIMRISK_SERVE_AUDIT_LOG", "")
    monkeypatch.setenv("CLAIMRISK_SERVE_QUEUE_STORE", "")
    settings = ServeSettings()
    assert settings.prediction_store is None and settings.audit_log is None
    assert settings.queue_store is None


def test_the_start_up_heap_is_frozen_while_serving(settings):
    """Full collections over the modules and the model paused requests for 50-130 ms."""
    with TestClient(create_app(settings)) as client:
        assert client.get("/health").status_code == 200
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0
