"""What every client sees: problem details of one shape, request ids, the OpenAPI document
listing every error, and the page's security headers; docs without a CDN."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.claims import EXAMPLE, claim_json

PROBLEM = "application/problem+json"


def test_every_422_has_one_shape_with_field_paths(client: TestClient):
    answers = [
        client.post("/v1/claims/score", json=claim_json(service_date=0)),
        client.post("/v1/claims/score-batch", json={"claims": [claim_json()], "reasons": "x"}),
        client.post(
            "/v1/claims/score-upload?format=csv",
            content="claim_id,payer_id\rA1,B",
            headers={"content-type": "text/plain"},
        ),
        client.post(
            "/v1/claims/score-upload?format=csv",
            content="claim_id," + "x" * 140_000 + "\nA1,1\n",
            headers={"content-type": "text/plain"},
        ),
        client.post(
            "/v1/claims/score-x12", content="ISA*broken", headers={"content-type": "text/plain"}
        ),
        client.post(
            "/v1/claims/score-upload?format=xml", content="", headers={"content-type": "text/plain"}
        ),
    ]
    for answer in answers:
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"] == PROBLEM
        body = answer.json()
        assert {"type", "title", "status", "detail", "instance", "request_id", "errors"} <= set(
            body
        )
        assert body["status"] == 422 and body["errors"]
        assert all({"loc", "msg", "type"} <= set(e) for e in body["errors"])
    date = answers[0].json()["errors"][0]
    assert date["loc"] == ["body", "service_date"] and "YYYY-MM-DD" in date["msg"]
    assert answers[1].json()["errors"][0]["loc"] == ["body", "reasons"]
    assert "header not readable" in answers[2].json()["errors"][0]["msg"]
    assert answers[3].json()["errors"][0]["line"] == 1


def test_other_errors_are_problem_details_too(client: TestClient, keys):
    anonymous = client.post("/v1/claims/score", json=EXAMPLE, headers={"X-API-Key": "nope"})
    assert anonymous.status_code == 401 and anonymous.headers["content-type"] == PROBLEM
    assert anonymous.headers["www-authenticate"] == "APIKey"
    forbidden = client.post("/v1/admin/reload")
    assert forbidden.status_code == 403 and forbidden.json()["title"] == "Forbidden"
    too_big = client.post("/v1/claims/score", content=b"x" * 2_100_000)
    assert too_big.status_code == 413 and too_big.headers["content-type"] == PROBLEM


def test_request_ids_are_taken_or_made_and_echoed(client: TestClient, caplog):
    given = client.get("/health", headers={"X-Request-ID": "pm-7f3a.1"})
    assert given.headers["x-request-id"] == "pm-7f3a.1"
    made = client.get("/health", headers={"X-Request-ID": "bad id\twith\nstuff"})
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
    failed = client.post("/v1/claims/score", json={}, headers={"X-Request-ID": "trace-1"})
    assert failed.json()["request_id"] == "trace-1" == failed.headers["x-request-id"]


def test_the_openapi_document_lists_every_error_a_route_gives(client: TestClient):
    paths = client.get("/openapi.json").json()["paths"]

    def statuses(path: str, method: str) -> set[str]:
        return {s for s in paths[path][method]["responses"] if s != "200"}

    assert statuses("/v1/claims/score", "post") == {"400", "401", "413", "422", "503"}
    assert statuses("/v1/claims/score-batch", "post") == {"401", "413", "422", "503"}
    assert statuses("/v1/admin/reload", "post") == {"401", "403", "409"}
    assert statuses("/v1/claims/last-batch", "get") == {"401", "404", "503"}
    assert statuses("/health", "get") == set()
    assert "requestBody" in paths["/v1/claims/score-batch"]["post"]
    problem = paths["/v1/admin/reload"]["post"]["responses"]["409"]["content"]
    assert problem == {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}


def test_the_page_sends_a_content_security_policy_and_docs_need_no_cdn(client: TestClient):
    page = client.get("/")
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    # the page's script and style are its own files: no inline code, no 'unsafe-inline'
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert page.headers["x-frame-options"] == "DENY"
    docs = client.get("/docs").text
    assert "cdn" not in docs.lower() and "swagger-ui-bundle.js" in docs
    script = re.search(r'src="([^"]*swagger-ui-bundle\.js)"', docs)
    assert script and client.get(script.group(1)).status_code == 200
