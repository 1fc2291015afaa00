"""The PM-system client against a real uvicorn server started by the test."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from client import ClaimRiskClient, ClaimRiskError, claim_to_fhir
from tests.e2e.conftest import Server
from tests.serving.test_x12_context import requests_as_837p, with_271

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def requests_(world: Path) -> list[dict]:
    return [json.loads(line) for line in (world / "requests.jsonl").read_text().splitlines()]


@pytest.fixture()
def api(server: Server, monkeypatch) -> ClaimRiskClient:
    monkeypatch.setenv("CLAIMRISK_API_KEY", server.key)
    with ClaimRiskClient(server.url) as client:  # the key from the environment
        yield client


def test_score_and_batches_split_to_the_limit(server: Server, api: ClaimRiskClient, requests_):
    one = api.score(requests_[0])
    assert one.claim_id == requests_[0]["claim_id"] and 0 <= one.denial_probability <= 1
    whole = api.score_batch(requests_[:25])
    calls: list[int] = []

    def count(request: httpx.Request) -> None:
        if request.url.path.endswith("/score-batch"):
            calls.append(len(json.loads(request.content)["claims"]))

    split = ClaimRiskClient(server.url, server.key, max_batch=10)
    split._http.event_hooks["request"] = [count]
    with split:
        parts = split.score_batch(iter(requests_[:25]), reasons="none")
    assert calls == [10, 10, 5]
    assert [s.claim_id for s in parts] == [r["claim_id"] for r in requests_[:25]]
    assert [s.denial_probability for s in parts] == [s.denial_probability for s in whole]
    assert all(s.reasons is None for s in parts)


def test_x12_with_its_271(api: ClaimRiskClient, world: Path, requests_, tmp_path: Path):
    text, chosen = requests_as_837p(world, 5)
    claims = tmp_path / "claims.837"
    claims.write_text(text)
    scored = api.score_x12(claims, with_271("", chosen, "inactive"))
    assert scored.context is not None and scored.context.eligibility_checks == 5
    assert sorted(r.claim_id or "" for r in scored.results) == sorted(r["claim_id"] for r in chosen)
    assert all(r.result and "eligibility" not in r.result.not_checked for r in scored.results)


def test_fhir(api: ClaimRiskClient, requests_):
    request = requests_[1]
    fhir = api.score_fhir(claim_to_fhir(request))
    same = api.score(request)
    assert (fhir.claim_id, fhir.denial_probability, fhir.risk_band) == (
        same.claim_id,
        same.denial_probability,
        same.risk_band,
    )
    assert [i.category for i in fhir.issues] == [r.category for r in same.reasons or []]
    assert all(i.expression for i in fhir.issues)
    with pytest.raises(ClaimRiskError) as refused:
        api.score_fhir({"resourceType": "Claim", "status": "bogus"})
    assert refused.value.status_code == 422
    assert refused.value.detail["resourceType"] == "OperationOutcome"


def test_retries_on_429_and_503_then_succeeds(server: Server, requests_):
    real = httpx.HTTPTransport()
    answered: list[int] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        if len(answered) < 2:  # the first two calls are turned away, as by a busy proxy
            status = (429, 503)[len(answered)]
            answered.append(status)
            return httpx.Response(status, headers={"retry-after": "0"}, json={"detail": "busy"})
        response = real.handle_request(request)
        answered.append(response.status_code)
        return response

    with ClaimRiskClient(
        server.url, server.key, backoff=0.01, transport=httpx.MockTransport(flaky)
    ) as client:
        assert client.score(requests_[0]).claim_id == requests_[0]["claim_id"]
    assert answered == [429, 503, 200]
    with ClaimRiskClient(
        server.url, server.key, retries=1, backoff=0.01, transport=httpx.MockTransport(
            lambda request: httpx.Response(503, json={"detail": "down"})
        ),
    ) as client, pytest.raises(ClaimRiskError) as failed:  # fmt: skip
        client.score(requests_[0])
    assert failed.value.status_code == 503


def test_keys(server: Server, monkeypatch, requests_):
    monkeypatch.delenv("CLAIMRISK_API_KEY", raising=False)
    with pytest.raises(ValueError, match="CLAIMRISK_API_KEY"):
        ClaimRiskClient(server.url)
    with ClaimRiskClient(server.url, "wrong") as client, pytest.raises(ClaimRiskError) as refused:
        client.score(requests_[0])
    assert refused.value.status_code == 401
