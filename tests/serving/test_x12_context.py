"""score-x12 with 271 / 278 responses beside the 837P: the context reaches the model."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from fastapi.testclient import TestClient

from simulator.x12_837 import write_837p
from tests.features.x12.helpers import authorization_278, eligibility_271

CONTEXT = ("eligibility", "authorizations", "provider_enrollment")


def requests_as_837p(world: Path, count: int) -> tuple[str, list[dict]]:
    """The world's first claim requests (recent claims, as a PM system sends them) as an
    837P, without their context."""
    requests = [json.loads(line) for line in (world / "requests.jsonl").read_text().splitlines()]
    requests = requests[:count]
    claims = pd.DataFrame(
        [{k: v for k, v in r.items() if k not in (*CONTEXT, "lines")} for r in requests]
    )
    lines = pd.DataFrame(
        [{**line, "claim_id": r["claim_id"]} for r in requests for line in r["lines"]]
    )
    return write_837p(claims, lines), requests


def with_271(text: str, requests: list[dict], status: str) -> str:
    for request in requests:
        checked = request["submission_date"].replace("-", "")
        text += eligibility_271(request["member_id"], request["payer_id"], checked, status)
    return text


def _scored(client: TestClient, text: str) -> dict[str, dict]:
    response = client.post(
        "/v1/claims/score-x12", content=text, headers={"content-type": "text/plain"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["context"]["eligibility_checks"] == 40 and body["context"]["problems"] == []
    assert all("eligibility" not in r["result"]["not_checked"] for r in body["results"])
    return {r["claim_id"]: r["result"] for r in body["results"]}


def _has_eligibility_reason(result: dict) -> bool:
    return any(reason["category"] == "eligibility" for reason in result["reasons"])


def test_the_271_beside_the_claim_decides_the_eligibility_reason(client: TestClient, world):
    text, requests = requests_as_837p(world, 40)
    inactive = _scored(client, with_271(text, requests, "inactive"))
    active = _scored(client, with_271(text, requests, "active"))
    # Without a 271 the eligibility category is not checked at all.
    alone = client.post(
        "/v1/claims/score-x12", content=text, headers={"content-type": "text/plain"}
    ).json()
    assert alone["context"] is None
    assert all("eligibility" in r["result"]["not_checked"] for r in alone["results"])
    flagged = [claim for claim, result in inactive.items() if _has_eligibility_reason(result)]
    assert len(flagged) >= 0.9 * len(inactive)
    lost = [claim for claim in flagged if not _has_eligibility_reason(active[claim])]
    assert len(lost) >= 0.9 * len(flagged)
    # The 271 says what the JSON request's eligibility object says: the same scores.
    for request in requests:
        request.update(authorizations=None, provider_enrollment=None)
        request["eligibility"] = {
            "checked_on": request["submission_date"],
            "status": "active",
            "coverage_start": "2020-01-01",
        }
    batch = client.post("/v1/claims/score-batch", json={"claims": requests}).json()["results"]
    for result in batch:
        x12 = active[result["claim_id"]]
        assert abs(x12["denial_probability"] - result["denial_probability"]) < 1e-9
        assert [r["category"] for r in x12["reasons"]] == [r["category"] for r in result["reasons"]]


def test_a_271_for_another_member_or_after_submission_is_not_used(client: TestClient, world):
    text, requests = requests_as_837p(world, 2)
    first, second = requests
    later = (pd.Timestamp(first["submission_date"]) + pd.Timedelta(days=1)).strftime("%Y%m%d")
    body = text + eligibility_271(first["member_id"], first["payer_id"], later, "inactive")
    body += eligibility_271(second["member_id"], "OTHERPAYER", "20200101", "inactive")
    response = client.post(
        "/v1/claims/score-x12", content=body, headers={"content-type": "text/plain"}
    )
    assert response.status_code == 200, response.text
    assert all("eligibility" in r["result"]["not_checked"] for r in response.json()["results"])


def test_a_body_with_a_remittance_is_refused_naming_its_st(client: TestClient, world):
    text, _ = requests_as_837p(world, 1)
    remit = (Path(__file__).parents[1] / "fixtures" / "x12" / "remittance.835").read_text()
    response = client.post(
        "/v1/claims/score-x12", content=text + remit, headers={"content-type": "text/plain"}
    )
    assert response.status_code == 422
    assert "(ST): ST01 is a 835 transaction set" in response.text


def test_cli_scores_an_837p_with_its_271_files(world, model_dir, tmp_path: Path):
    from typer.testing import CliRunner

    from cli import app

    text, requests = requests_as_837p(world, 3)
    claims = tmp_path / "claims.837"
    claims.write_text(text)
    checks = tmp_path / "checks.271"
    checks.write_text(with_271("", requests, "inactive"))
    output = tmp_path / "scores.jsonl"
    args = ["score", "--input", str(claims), "--output", str(output), "--model", str(model_dir)]
    result = CliRunner().invoke(app, [*args, "--context", str(checks)])
    assert result.exit_code == 0, result.output
    assert "Context: 3 eligibility checks, 0 authorizations" in result.output
    scored = [json.loads(line) for line in output.read_text().splitlines()]
    assert [r["claim_id"] for r in scored] == [r["claim_id"] for r in requests]
    assert all("eligibility" not in r["result"]["not_checked"] for r in scored)


def test_a_278_beside_the_claim_gives_its_authorizations(client: TestClient, world):
    text, requests = requests_as_837p(world, 3)
    for request in requests:
        codes = [line["procedure_code"] for line in request["lines"]]
        start = (pd.Timestamp(request["service_date"]) - pd.Timedelta(days=30)).strftime("%Y%m%d")
        end = (pd.Timestamp(request["service_date"]) + pd.Timedelta(days=30)).strftime("%Y%m%d")
        text += authorization_278(request["member_id"], request["payer_id"], codes, start, end)
    response = client.post(
        "/v1/claims/score-x12", content=text, headers={"content-type": "text/plain"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["context"] == {"eligibility_checks": 0, "authorizations": 3, "problems": []}
    for result in body["results"]:
        assert "authorization" not in result["result"]["not_checked"]
        assert "eligibility" in result["result"]["not_checked"]
