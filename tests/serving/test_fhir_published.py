"""Published FHIR examples through POST /v1/fhir/Claim/$denial-risk: never a 5xx; a claim the
contract cannot score is an OperationOutcome naming each element; a PAS Bundle made a claim
is scored."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.fhir_examples import FHIR, every_example, medical_services_claim

ROUTE = "/v1/fhir/Claim/$denial-risk"
FHIR_JSON = {"content-type": "application/fhir+json"}


@pytest.mark.parametrize("path", every_example(), ids=lambda p: p.name)
def test_every_published_example_gets_an_operation_outcome_naming_elements(
    client: TestClient, path
):
    response = client.post(ROUTE, content=path.read_bytes(), headers=FHIR_JSON)
    assert response.status_code == 422, response.text[:300]  # none is a scorable claim as is
    assert response.headers["content-type"].startswith("application/fhir+json")
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    for issue in outcome["issue"]:
        assert issue["severity"] == "error" and issue["diagnostics"]
        assert issue["expression"][0].startswith(("Claim", "Bundle")), issue


def test_the_service_date_a_pas_request_lacks_is_named(client: TestClient):
    path = FHIR / "hl7.fhir.us.davinci-pas" / "Bundle-ReferralAuthorizationBundleExample.json"
    response = client.post(ROUTE, content=path.read_bytes(), headers=FHIR_JSON)
    issues = {i["expression"][0]: i["diagnostics"] for i in response.json()["issue"]}
    assert "no service date" in issues["Claim.item[0].servicedDate"]
    assert "preauthorization" in issues["Claim.use"]


def test_a_pas_bundle_made_a_claim_is_scored_in_fhir(client: TestClient):
    body = medical_services_claim()
    response = client.post(ROUTE, content=json.dumps(body), headers=FHIR_JSON)
    assert response.status_code == 200, response.text[:300]
    found = {p["name"]: p for p in response.json()["parameter"]}
    assert found["claimId"]["valueString"] == "111099"
    assert 0 <= found["denialProbability"]["valueDecimal"] <= 1
    assert found["riskBand"]["valueCode"]
    assert found["outcome"]["resource"]["resourceType"] == "OperationOutcome"
