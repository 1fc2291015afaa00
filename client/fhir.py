"""A claimrisk JSON claim request (data contract section 2) as a FHIR R4 ``Claim`` with its
Patient, Coverage, Organizations, Practitioner, CoverageEligibilityResponse and enrollment
(a PractitionerRole of the provider with the payer) contained and its authorizations as
contained PAS-style ``ClaimResponse`` resources: the inverse of the
server's mapping (``features.fhir``), for PM systems that speak FHIR and for tests."""

from __future__ import annotations

from typing import Any

NPI = "http://hl7.org/fhir/sid/us-npi"
AUTHORIZATIONS_CHECKED = "https://claimrisk.dev/fhir/StructureDefinition/authorizations-checked"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
CPT = "http://www.ama-assn.org/go/cpt"
POS = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
_GENDER = {"M": "male", "F": "female", "U": "unknown"}


def _money(value: float) -> dict[str, Any]:
    return {"value": value, "currency": "USD"}


def _npi(npi: str) -> list[dict[str, str]]:
    return [{"system": NPI, "value": npi}]


def claim_to_fhir(claim: dict[str, Any]) -> dict[str, Any]:
    """The FHIR Claim for one claim request (a dict as in ``requests.jsonl``)."""
    contained: list[dict[str, Any]] = [
        {
            "resourceType": "Patient",
            "id": "patient",
            "identifier": [{"value": claim["patient_id"]}],
            **(
                {"birthDate": claim["patient_birth_date"]}
                if claim.get("patient_birth_date")
                else {}
            ),
            **({"gender": _GENDER[claim["patient_sex"]]} if claim.get("patient_sex") else {}),
        },
        {
            "resourceType": "Organization",
            "id": "payer",
            "identifier": [{"value": claim["payer_id"]}],
        },
        {"resourceType": "Organization", "id": "billing", "identifier": _npi(claim["billing_npi"])},
        {
            "resourceType": "Coverage",
            "id": "coverage",
            "status": "active",
            "type": {"coding": [{"code": claim["plan_type"]}]},
            "subscriberId": claim["member_id"],
            "beneficiary": {"reference": "#patient"},
            "payor": [{"reference": "#payer"}],
        },
    ]
    care_team = []
    if claim.get("rendering_npi"):
        contained.append(
            {
                "resourceType": "Practitioner",
                "id": "rendering",
                "identifier": _npi(claim["rendering_npi"]),
            }
        )
        care_team = [{"sequence": 1, "provider": {"reference": "#rendering"}}]
    eligibility = claim.get("eligibility")
    if eligibility:
        contained.append(_eligibility_response(eligibility))
    enrollment = claim.get("provider_enrollment")
    if enrollment:
        period = {"start": enrollment["effective_date"]}
        if enrollment.get("end_date"):
            period["end"] = enrollment["end_date"]
        contained.append(
            {
                "resourceType": "PractitionerRole",
                "id": "enrollment",
                "practitioner": {
                    "identifier": {
                        "system": NPI,
                        "value": claim.get("rendering_npi") or claim["billing_npi"],
                    }
                },
                "organization": {"reference": "#payer"},
                "period": period,
            }
        )
    for number, auth in enumerate(claim.get("authorizations") or [], start=1):
        contained.append(_authorization_response(number, auth))
    insurance: dict[str, Any] = {
        "sequence": 1,
        "focal": True,
        "coverage": {"reference": "#coverage"},
    }
    if claim.get("prior_auth_number"):
        insurance["preAuthRef"] = [claim["prior_auth_number"]]
    resource: dict[str, Any] = {
        "resourceType": "Claim",
        "contained": contained,
        "identifier": [{"value": claim["claim_id"]}],
        "status": "active",
        "type": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/claim-type",
                    "code": "professional",
                }
            ]
        },
        "use": "claim",
        "patient": {"reference": "#patient"},
        "created": claim["submission_date"],
        "insurer": {"reference": "#payer"},
        "provider": {"reference": "#billing"},
        "priority": {"coding": [{"code": "normal"}]},
        "diagnosis": [
            {
                "sequence": n,
                "diagnosisCodeableConcept": {"coding": [{"system": ICD10, "code": code}]},
            }
            for n, code in enumerate(claim["diagnosis_codes"], start=1)
        ],
        "insurance": [insurance],
        "item": [_item(claim, line) for line in claim["lines"]],
        "total": _money(claim["total_charge"]),
        "billablePeriod": {"start": claim["service_date"]},
    }
    if care_team:
        resource["careTeam"] = care_team
    if claim.get("authorizations") is not None:  # looked up, even when none are on file
        resource["extension"] = [{"url": AUTHORIZATIONS_CHECKED, "valueBoolean": True}]
    if claim.get("frequency_code") == "7":
        resource["related"] = [{"relationship": {"coding": [{"code": "prior"}]}}]
    if claim.get("referral_number"):
        resource["referral"] = {"identifier": {"value": claim["referral_number"]}}
    if claim.get("has_attachment"):
        resource["supportingInfo"] = [
            {
                "sequence": 1,
                "category": {"coding": [{"code": "attachment"}]},
                "valueAttachment": {"contentType": "application/pdf", "title": "attachment"},
            }
        ]
    return resource


def _item(claim: dict[str, Any], line: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = {
        "sequence": line["line_number"],
        "productOrService": {"coding": [{"system": CPT, "code": line["procedure_code"]}]},
        "locationCodeableConcept": {"coding": [{"system": POS, "code": claim["place_of_service"]}]},
        "quantity": {"value": line["units"]},
        "net": _money(line["line_charge"]),
    }
    if line.get("service_date"):
        item["servicedDate"] = line["service_date"]
    if line.get("modifiers"):
        item["modifier"] = [{"coding": [{"code": m}]} for m in line["modifiers"]]
    if line.get("diagnosis_pointers"):
        item["diagnosisSequence"] = line["diagnosis_pointers"]
    return item


def _eligibility_response(eligibility: dict[str, Any]) -> dict[str, Any]:
    response: dict[str, Any] = {
        "resourceType": "CoverageEligibilityResponse",
        "id": "eligibility",
        "status": "active",
        "purpose": ["validation"],
        "patient": {"reference": "#patient"},
        "created": eligibility["checked_on"],
        "request": {"identifier": {"value": "eligibility-check"}},
        "outcome": "error" if eligibility["status"] == "not_found" else "complete",
        "insurer": {"reference": "#payer"},
    }
    if eligibility["status"] != "not_found":
        insurance: dict[str, Any] = {
            "coverage": {"reference": "#coverage"},
            "inforce": eligibility["status"] == "active",
        }
        if eligibility.get("coverage_start"):
            period = {"start": eligibility["coverage_start"]}
            if eligibility.get("coverage_end"):
                period["end"] = eligibility["coverage_end"]
            insurance["benefitPeriod"] = period
        response["insurance"] = [insurance]
    else:
        response["error"] = [{"code": {"coding": [{"code": "75"}]}}]  # X12 AAA03: not found
    return response


def _authorization_response(number: int, auth: dict[str, Any]) -> dict[str, Any]:
    response: dict[str, Any] = {
        "resourceType": "ClaimResponse",
        "id": f"auth-{number}",
        "status": "active",
        "type": {"coding": [{"code": "professional"}]},
        "use": "preauthorization",
        "patient": {"reference": "#patient"},
        "created": auth["start_date"],
        "insurer": {"reference": "#payer"},
        "outcome": "complete",
        "preAuthRef": auth["auth_number"],
        "preAuthPeriod": {"start": auth["start_date"], "end": auth["end_date"]},
        "addItem": [
            {
                "productOrService": {"coding": [{"system": CPT, "code": code}]},
                "adjudication": [{"category": {"coding": [{"code": "eligible"}]}}],
                **({"quantity": {"value": auth["units"]}} if auth.get("units") else {}),
            }
            for code in auth["procedure_codes"]
        ],
    }
    if auth.get("provider_npi"):
        response["requestor"] = {"identifier": {"system": NPI, "value": auth["provider_npi"]}}
    return response
