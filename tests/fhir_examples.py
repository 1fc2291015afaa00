"""Published FHIR examples (tests/fixtures/fhir, see its PROVENANCE.md) and the few explicit
changes a test makes to a copy of one."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

FHIR = Path(__file__).resolve().parent / "fixtures" / "fhir"
R4 = FHIR / "hl7.fhir.r4.examples"
PAS = FHIR / "hl7.fhir.us.davinci-pas"
MEDICAL_SERVICES = PAS / "Bundle-MedicalServicesAuthorizationBundleExample.json"


def published(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def every_example() -> list[Path]:
    return sorted(p for p in FHIR.rglob("*.json") if p.name != "package.json")


def as_claim(bundle: dict[str, Any], service_date: str, charge: float) -> dict[str, Any]:
    """A PAS request made a claim: use 'claim', each item's charge and date; nothing else."""
    bundle = copy.deepcopy(bundle)
    claim = bundle["entry"][0]["resource"]
    claim["use"] = "claim"
    for item in claim["item"]:
        item.update(net={"value": charge, "currency": "USD"}, servicedDate=service_date)
    return bundle


def with_diagnosis(bundle: dict[str, Any], code: str) -> dict[str, Any]:
    """The Bundle's Claim with one ICD-10-CM diagnosis, pointed at by its first item."""
    bundle = copy.deepcopy(bundle)
    claim = bundle["entry"][0]["resource"]
    icd10 = {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": code}
    claim["diagnosis"] = [{"sequence": 1, "diagnosisCodeableConcept": {"coding": [icd10]}}]
    claim["item"][0]["diagnosisSequence"] = [1]
    return bundle


def medical_services_claim() -> dict[str, Any]:
    """The PAS office visit (HCPCS 99212) as a claim: a charge, use 'claim', a diagnosis."""
    return with_diagnosis(as_claim(published(MEDICAL_SERVICES), "2005-05-10", 85), "J06.9")
