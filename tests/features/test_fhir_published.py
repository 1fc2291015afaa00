"""The FHIR mapping on published examples nobody here wrote (HL7's R4 Claim examples, Da Vinci
PAS Bundles; tests/fixtures/fhir/PROVENANCE.md): what maps, field by field, and what is refused
with the element named."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

import pytest

from features.fhir import FhirError, read_fhir_claim
from tests.fhir_examples import (
    FHIR,
    MEDICAL_SERVICES,
    PAS,
    R4,
    as_claim,
    medical_services_claim,
    published,
)

NPI = "http://hl7.org/fhir/sid/us-npi"


def problems(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(FhirError) as caught:
        read_fhir_claim(data)
    return dict(caught.value.problems)


def test_every_fixture_is_listed_with_its_blob():
    row = re.compile(r"^\| `([^`]+\.json)` \|(?:[^|\n]*\|)*? `([0-9a-f]{12})` \|", re.M)
    listed = dict(row.findall((FHIR / "PROVENANCE.md").read_text()))
    on_disk = {str(p.relative_to(FHIR)): p for p in FHIR.rglob("*.json")}
    assert set(listed) == set(on_disk)
    for name, path in on_disk.items():
        data = path.read_bytes()
        blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()  # git's object id
        assert blob.startswith(listed[name]), name


def test_cms1500_example_maps_its_contained_and_logical_references():
    """claim-example-cms1500-medical: contained Patient and Coverage, a payer by identifier only;
    refused as institutional and for its billing provider, a reference to another example."""
    claim = published(R4 / "Claim-MED-00050.json")
    assert problems(claim) == {
        "Claim.type": "is 'institutional': only professional claims (837P) are scored",
        "Claim.provider": "no NPI for the billing provider",
    }
    claim["type"]["coding"][0]["code"] = "professional"  # the two changes the contract needs
    claim["provider"] = {"identifier": {"system": NPI, "value": "1234567893"}}
    mapped = read_fhir_claim(claim).claim
    assert (mapped.claim_id, mapped.patient_id) == ("MED-00050", "patient-1")
    assert mapped.member_id == "10138556"  # contained Coverage.identifier (no subscriberId)
    assert mapped.payer_id == "123456"  # Coverage.payor[0].identifier: a logical reference
    assert (mapped.patient_birth_date, mapped.patient_sex) == (dt.date(1954, 6, 11), "F")
    assert mapped.place_of_service == "24"  # a lower-case ".html" spelling of the CMS system
    assert mapped.diagnosis_codes == ["M961", "G894", "M5388", "M47816"]  # ICD-10, undotted
    assert (mapped.service_date, mapped.submission_date) == (
        dt.date(2015, 10, 13),
        dt.date(2015, 10, 16),
    )
    [line] = mapped.lines
    assert (line.procedure_code, line.units, line.line_charge) == ("62264", 1, 12500)
    assert line.diagnosis_pointers == [2, 4]
    assert mapped.total_charge == 12500 and mapped.plan_type == "other"  # v3 HIP: no SBR09


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (  # the spec's professional example: every resource is a reference to another example
            "Claim-860150.json",
            {"Claim.insurance[0].coverage", "Claim.provider", "Claim.insurer",
             "Claim.item[0].locationCodeableConcept"},
        ),
        ("Claim-100150.json", {"Claim.type", "Claim.insurance[0].coverage", "Claim.provider",
                               "Claim.insurer", "Claim.item[0].locationCodeableConcept"}),
        # contained resources resolve: only the type and the missing place of service remain
        ("Claim-100152.json", {"Claim.type", "Claim.item[0].locationCodeableConcept"}),
    ],
)  # fmt: skip
def test_hl7_r4_claims_are_refused_naming_each_element(name, expected):
    assert set(problems(published(R4 / name))) == expected


def test_a_pas_request_is_refused_naming_the_service_date_and_the_use():
    found = problems(published(PAS / "Bundle-ReferralAuthorizationBundleExample.json"))
    assert found["Claim.item[0].servicedDate"] == "no service date"
    assert found["Claim.item[0].net"] == "no charge (net or unitPrice)"
    assert "'preauthorization'" in found["Claim.use"]


def test_a_pas_response_bundle_has_no_claim():
    found = problems(published(PAS / "Bundle-ReferralAuthorizationResponseBundleExample.json"))
    assert found == {"Bundle.entry": "expected the Claim first or one Claim entry, found 0"}


def test_a_pas_update_bundle_reads_its_first_claim():
    """The update first, the Claim it replaces later in the Bundle: the first is the request."""
    bundle = published(PAS / "Bundle-HomecareAuthorizationUpdateBundleExample.json")
    found = problems(bundle)
    assert "Bundle.entry" not in found and "Claim.item[2].net" in found  # three items: the update
    cancelled = "modifierextension-infoCancelled"  # its second item is cancelled
    assert found["Claim.item[1].modifierExtension"].endswith(cancelled)


def test_a_pas_admission_is_an_institutional_claim():
    bundle = as_claim(published(PAS / "Bundle-SurgicalRequestBundleExample.json"), "2020-07-01", 1)
    assert list(problems(bundle)) == ["Claim.type"]  # all else maps: an 837I, not scored


def test_a_pas_request_made_a_claim_still_needs_a_diagnosis():
    found = problems(as_claim(published(MEDICAL_SERVICES), "2005-05-10", 85))
    empty = "List should have at least 1 item after validation, not 0"
    assert found == {"Claim.diagnosis": empty, "Claim.item[0].diagnosisSequence": empty}


def test_a_pas_bundle_maps_field_by_field_once_it_is_a_claim():
    mapped = read_fhir_claim(medical_services_claim()).claim
    assert mapped.claim_id == "111099"  # Claim.identifier: the patient event trace number
    assert mapped.member_id == "1122334455"  # the bundled Coverage.subscriberId
    assert mapped.payer_id == "1234567893"  # Coverage.payor -> Organization InsurerExample
    assert mapped.billing_npi == "8189991234"  # Claim.provider -> Organization UMOExample
    assert (mapped.patient_id, mapped.patient_sex) == ("12345678901", "M")  # Patient entry
    assert mapped.place_of_service == "11"
    assert (mapped.service_date, mapped.submission_date) == (
        dt.date(2005, 5, 10),
        dt.date(2005, 5, 2),
    )
    assert [(x.procedure_code, x.line_charge) for x in mapped.lines] == [("99212", 85)]  # HCPCS


def test_an_x12_service_type_is_not_a_procedure_code():
    """The referral's item is coded in X12 1365 (service type 3, consultation): named, refused."""
    bundle = published(PAS / "Bundle-ReferralAuthorizationBundleExample.json")
    found = problems(as_claim(bundle, "2005-05-10", 150))
    assert list(found) == ["Claim.item[0].productOrService"]


def test_a_cpt_coding_is_preferred_over_another_system():
    bundle = medical_services_claim()
    codings = bundle["entry"][0]["resource"]["item"][0]["productOrService"]["coding"]
    codings.insert(0, {"system": "https://codesystem.x12.org/005010/1365", "code": "1"})
    assert read_fhir_claim(bundle).claim.lines[0].procedure_code == "99212"
