"""POST /v1/fhir/Claim/$denial-risk: FHIR in, FHIR out, the same scores as the JSON route."""

from __future__ import annotations

import copy
import json

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis.generation import GenerationMode

from client.fhir import claim_to_fhir
from serving.app import create_app

ROUTE = "/v1/fhir/Claim/$denial-risk"
FHIR_JSON = {"content-type": "application/fhir+json"}


def as_bundle(claim: dict) -> dict:
    """The PAS request shape: the Claim first, its resources as entries beside it."""
    claim = copy.deepcopy(claim)
    contained = claim.pop("contained")
    text = json.dumps(claim)
    for resource in contained:
        text = text.replace(
            f'"#{resource["id"]}"', f'"{resource["resourceType"]}/{resource["id"]}"'
        )
    entries = [{"fullUrl": "urn:uuid:claim", "resource": json.loads(text)}]
    for resource in contained:
        resource_text = json.dumps(resource)
        for other in contained:
            resource_text = resource_text.replace(
                f'"#{other["id"]}"', f'"{other["resourceType"]}/{other["id"]}"'
            )
        entries.append({"resource": json.loads(resource_text)})
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def _parameters(body: dict) -> dict[str, list]:
    found: dict[str, list] = {}
    for parameter in body["parameter"]:
        found.setdefault(parameter["name"], []).append(parameter)
    return found


@pytest.fixture(scope="module")
def requests_(world) -> list[dict]:
    return [json.loads(line) for line in (world / "requests.jsonl").read_text().splitlines()][:60]


def test_fhir_round_trip_gives_the_json_scores(client: TestClient, requests_):
    batch = client.post("/v1/claims/score-batch", json={"claims": requests_}).json()["results"]
    for index, (request, expected) in enumerate(zip(requests_, batch, strict=True)):
        resource = claim_to_fhir(request)
        body = as_bundle(resource) if index % 2 else resource  # both shapes
        response = client.post(ROUTE, content=json.dumps(body), headers=FHIR_JSON)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/fhir+json")
        found = _parameters(response.json())
        assert found["claimId"][0]["valueString"] == request["claim_id"]
        assert found["denialProbability"][0]["valueDecimal"] == expected["denial_probability"]
        assert found["riskBand"][0]["valueCode"] == expected["risk_band"]
        money = found["expectedDeniedDollars"][0]["valueMoney"]
        assert money == {"value": expected["expected_denied_dollars"], "currency": "USD"}
        categories = [
            next(p["valueCode"] for p in r["part"] if p["name"] == "category")
            for r in found.get("reason", [])
        ]
        assert categories == [r["category"] for r in expected["reasons"]]
        issues = found["outcome"][0]["resource"]["issue"]
        assert len(issues) == max(len(categories), 1)


def test_each_reason_is_an_issue_pointing_at_its_element(client: TestClient, requests_):
    request = copy.deepcopy(requests_[0])
    request["eligibility"] = {"checked_on": request["submission_date"], "status": "not_found"}
    response = client.post(ROUTE, json=claim_to_fhir(request))
    assert response.status_code == 200, response.text
    found = _parameters(response.json())
    issues = found["outcome"][0]["resource"]["issue"]
    eligibility = [i for i in issues if i["details"]["coding"][0]["code"] == "eligibility"]
    assert eligibility and eligibility[0]["expression"] == ["Claim.insurance[0]"]
    assert "Action:" in eligibility[0]["diagnostics"]
    assert all(i["expression"] and i["expression"][0].startswith("Claim") for i in issues)


@pytest.mark.parametrize(
    ("mutate", "status", "expression"),
    [
        (
            lambda c: c["item"][1].update(quantity={"value": "many"}),
            422,
            "Claim.item[1].quantity.value",
        ),
        (lambda c: c.update(created="yesterday"), 422, "Claim.created"),
        (lambda c: c.pop("item"), 422, "Claim.item"),
        (
            lambda c: c["insurance"][0].update(coverage={"reference": "#nowhere"}),
            422,
            "Claim.insurance[0].coverage",
        ),
        (
            lambda c: c["item"][0]["productOrService"]["coding"][0].update(code="not a code"),
            422,
            "Claim.item[0].productOrService",
        ),
        (lambda c: c.update(resourceType="Patient"), 422, "resourceType"),
    ],
)
def test_invalid_fhir_gets_an_operation_outcome_with_the_path(
    client: TestClient, requests_, mutate, status, expression
):
    resource = claim_to_fhir(next(r for r in requests_ if len(r["lines"]) > 1))
    mutate(resource)
    response = client.post(ROUTE, json=resource)
    assert response.status_code == status, response.text
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert any(expression in issue.get("expression", []) for issue in outcome["issue"]), outcome


def test_a_body_that_is_not_json_is_a_400_outcome(client: TestClient):
    response = client.post(ROUTE, content=b"<Claim/>", headers=FHIR_JSON)
    assert response.status_code == 400
    assert response.json()["issue"][0]["code"] == "structure"


def test_without_a_key_the_fhir_route_is_refused(settings, requests_):
    with TestClient(create_app(settings)) as anonymous:
        assert anonymous.post(ROUTE, json=claim_to_fhir(requests_[0])).status_code == 401


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def test_mutated_claims_never_give_a_server_error(client: TestClient, requests_):
    """Random elements of a valid Claim replaced by random JSON: never a 5xx."""
    base = claim_to_fhir(requests_[0])

    def paths(node, prefix=()):
        if isinstance(node, dict):
            for key, value in node.items():
                yield (*prefix, key)
                yield from paths(value, (*prefix, key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                yield (*prefix, index)
                yield from paths(value, (*prefix, index))

    every = list(paths(base))

    @given(where=st.sampled_from(every), value=_JSON)
    @hypothesis_settings(max_examples=150, deadline=None, derandomize=True, database=None,
                         suppress_health_check=list(HealthCheck))  # fmt: skip
    def run(where, value):
        resource = copy.deepcopy(base)
        node = resource
        for part in where[:-1]:
            node = node[part]
        node[where[-1]] = value
        response = client.post(ROUTE, json=resource)
        assert response.status_code in (200, 422), (where, value, response.text[:300])

    run()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_schemathesis_finds_no_server_error_on_the_fhir_route(settings, keys, mode):
    app = create_app(settings)
    with TestClient(app):
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        operation = schema["/v1/fhir/Claim/$denial-risk"]["POST"]

        @given(case=operation.as_strategy(generation_mode=mode))
        @hypothesis_settings(max_examples=60, deadline=None, derandomize=True, database=None,
                             suppress_health_check=list(HealthCheck))  # fmt: skip
        def run(case):
            response = case.call(headers={"X-API-Key": keys[1]})
            assert response.status_code < 500, response.text[:300]

        run()
