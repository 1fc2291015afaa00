"""FHIR R4 ``Claim`` (or a Da Vinci PAS-style ``Bundle`` holding one) -> ``ClaimIn``.

Parsed and validated with ``fhir.resources`` (its R4B models, which read R4 Claim, Coverage,
Patient, Practitioner, Organization, CoverageEligibilityResponse and ClaimResponse as they
are). The one mapping, element by element (``ref`` = a reference resolved to a ``contained``
resource (``#id``) or a bundle entry (``Type/id`` or its ``fullUrl``)):

- a code (procedure, place of service, diagnosis) is that of the first coding in the code
  system the field uses (CPT / HCPCS, CMS place of service, ICD-10-CM / ICD-10: the system URL
  compared without scheme, case or a trailing ``.html``), else of the first coding with a code
- a reference that is logical (``Reference.identifier``, no resource behind it, as in HL7's
  claim-example-cms1500-medical) gives that identifier where an identifier is read
- Claim.type: ``professional`` (an institutional, oral, pharmacy or vision claim is refused, as
  ``ingest`` refuses an 837I)
- claim_id: Claim.identifier[0].value, else Claim.id
- patient_id: ref(Claim.patient).identifier[0].value, else its id, else the reference;
  patient_birth_date, patient_sex: its birthDate, gender (male M, female F, else U)
- member_id: ref(focal Claim.insurance.coverage).subscriberId, else its identifier[0].value
- payer_id: ref(Coverage.payor[0]), else ref(Claim.insurer): identifier[0].value (or the
  reference's own identifier)
- plan_type: Coverage.type.coding code, a contract plan type or an X12 SBR09 code; else other
- billing_npi: ref(Claim.provider): its us-npi identifier (else its first identifier)
- rendering_npi: the first Claim.careTeam provider's NPI when it differs from the billing one
- place_of_service: Claim.item[0].locationCodeableConcept code (CMS place of service)
- frequency_code: ``7`` when a Claim.related has relationship ``prior`` (it replaces one),
  else ``1``
- service_date: Claim.billablePeriod.start, else the earliest item servicedDate (or
  servicedPeriod.start); submission_date: Claim.created (date part)
- total_charge: Claim.total.value, else the sum of Claim.item.net
- prior_auth_number: focal Claim.insurance.preAuthRef[0]; referral_number:
  Claim.referral.identifier.value
- diagnosis_codes: Claim.diagnosis by sequence, diagnosisCodeableConcept.coding[0].code
- has_attachment: whether Claim.supportingInfo has a valueAttachment or valueReference
- lines[k]: Claim.item[k]: sequence, productOrService code, modifier codes, quantity (else 1),
  net (else unitPrice x quantity), diagnosisSequence, servicedDate (or servicedPeriod.start)
- eligibility: the latest contained / bundled CoverageEligibilityResponse: created,
  insurance[0].inforce (true active, false inactive; outcome error without it: not_found),
  insurance[0].benefitPeriod (else Coverage.period)
- authorizations: each contained / bundled ClaimResponse with preAuthRef and preAuthPeriod (a
  PAS response): number, period, addItem codes (else the codes of the claim items it
  adjudicated) and quantity, requestor NPI; none found is "none on file" when the Claim has
  the extension ``AUTHORIZATIONS_CHECKED`` (true), else "not known"
- provider_enrollment: a contained / bundled PractitionerRole whose organization is the payer:
  period.start, period.end

A Bundle's Claim is its first entry when that is a Claim (PAS: a request that updates another
carries the earlier Claim as a later entry), else its one Claim entry. A Claim whose ``use`` is
not ``claim`` (a PAS ``preauthorization`` request carries no charges) that cannot be mapped
gets one more problem on ``Claim.use`` saying so.

A ``modifierExtension`` on the Claim or an item is refused (FHIR: it changes the element's
meaning, and this mapping knows none).

Every problem is a ``FhirError`` naming the element as a FHIRPath-like ``expression``
(``Claim.insurance[0].coverage``) so the answer can point at it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.claim import Claim
from fhir.resources.R4B.claimresponse import ClaimResponse
from fhir.resources.R4B.coverage import Coverage
from fhir.resources.R4B.coverageeligibilityresponse import CoverageEligibilityResponse
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.resource import Resource
from pydantic import ValidationError

from features.contract import PLAN_TYPES, ClaimIn
from features.x12.codes import FILING_INDICATOR_PLAN

NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"


def _system_key(system: str | None) -> str:
    key = (system or "").strip().lower()
    for prefix in ("https://", "http://"):
        key = key.removeprefix(prefix)
    return key.removesuffix(".html").rstrip("/")


PROCEDURE_SYSTEMS = frozenset(
    _system_key(s)
    for s in (
        "http://www.ama-assn.org/go/cpt",
        "urn:oid:2.16.840.1.113883.6.12",  # CPT-4
        "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
        "urn:oid:2.16.840.1.113883.6.285",  # HCPCS
    )
)
PLACE_OF_SERVICE_SYSTEMS = frozenset(
    {
        _system_key(
            "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
        )
    }
)
DIAGNOSIS_SYSTEMS = frozenset(
    _system_key(s)
    for s in (
        "http://hl7.org/fhir/sid/icd-10-cm",
        "http://hl7.org/fhir/sid/icd-10",
        "urn:oid:2.16.840.1.113883.6.90",  # ICD-10-CM
    )
)
# A Claim extension (valueBoolean true) saying the authorizations on file were looked up: with
# no ClaimResponse beside the claim it means "none on file" rather than "not known".
AUTHORIZATIONS_CHECKED = "https://claimrisk.dev/fhir/StructureDefinition/authorizations-checked"
_SEX = {"male": "M", "female": "F"}
# ClaimIn fields -> the Claim element they come from, for errors and reason expressions.
ELEMENT_OF_FIELD = {
    "claim_id": "Claim.identifier",
    "patient_id": "Claim.patient",
    "patient_birth_date": "Claim.patient",
    "patient_sex": "Claim.patient",
    "member_id": "Claim.insurance[{insurance}].coverage",
    "payer_id": "Claim.insurer",
    "plan_type": "Claim.insurance[{insurance}].coverage",
    "billing_npi": "Claim.provider",
    "rendering_npi": "Claim.careTeam",
    "place_of_service": "Claim.item[0].locationCodeableConcept",
    "frequency_code": "Claim.related",
    "service_date": "Claim.item",
    "submission_date": "Claim.created",
    "total_charge": "Claim.total",
    "prior_auth_number": "Claim.insurance[{insurance}].preAuthRef",
    "referral_number": "Claim.referral",
    "diagnosis_codes": "Claim.diagnosis",
    "has_attachment": "Claim.supportingInfo",
    "eligibility": "CoverageEligibilityResponse",
    "authorizations": "ClaimResponse",
}
_LINE_FIELDS = {
    "line_number": "sequence",
    "procedure_code": "productOrService",
    "modifiers": "modifier",
    "units": "quantity",
    "line_charge": "net",
    "diagnosis_pointers": "diagnosisSequence",
    "service_date": "servicedDate",
}


class FhirError(ValueError):
    """A request that is not valid FHIR R4 or cannot be mapped to a claim."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems  # (expression, message)
        super().__init__("; ".join(f"{where}: {what}" for where, what in problems))


@dataclass(frozen=True)
class FhirClaim:
    """A mapped claim, and what the answer's expressions need to point at its elements."""

    claim: ClaimIn
    insurance_index: int  # the focal Claim.insurance
    item_index: dict[int, int]  # line_number (item.sequence) -> index in Claim.item


def _location(loc: Iterable[Any], root: str) -> str:
    path = root
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part != "__root__":
            path += f".{part}"
    return path


def _validate(model: type[Resource], data: dict[str, Any], root: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise FhirError(
            [(_location(e["loc"], root), e["msg"]) for e in error.errors()[:20]]
        ) from None
    except (TypeError, KeyError) as error:  # fhir.resources on an unknown resourceType inside
        where = f"{root}.entry" if root == "Bundle" else f"{root}.contained"
        raise FhirError(
            [(where, f"a resource with a missing or unknown resourceType ({error})")]
        ) from None


class _Resolver:
    """References of the claim to contained resources and bundle entries."""

    def __init__(self, claim: Claim, entries: dict[str, Any]) -> None:
        self.by_key = dict(entries)
        for resource in claim.contained or []:
            self.by_key[f"#{resource.id}"] = resource
        self.resources = list(self.by_key.values())

    def __call__(self, reference: Reference | None) -> Any:
        if reference is None or not reference.reference:
            return None
        text = reference.reference
        return self.by_key.get(text) or self.by_key.get(text.split("/_history")[0])

    def of_type(self, name: str) -> list[Any]:
        seen: list[Any] = []
        for resource in self.resources:
            if resource.get_resource_type() == name and all(r is not resource for r in seen):
                seen.append(resource)
        return seen


def _identifier(resource: Any, system: str | None = None) -> str | None:
    identifiers = getattr(resource, "identifier", None) or []
    if not isinstance(identifiers, list):
        identifiers = [identifiers]
    for identifier in identifiers:
        if identifier.value and (system is None or identifier.system == system):
            return str(identifier.value)
    return None


def _npi(resource: Any) -> str | None:
    if resource is not None and resource.get_resource_type() == "PractitionerRole":
        return _logical_id(resource.practitioner) or _identifier(resource, NPI_SYSTEM)
    return _identifier(resource, NPI_SYSTEM) or _identifier(resource)


def _code(concept: Any, systems: frozenset[str] = frozenset()) -> str | None:
    """The code of the first coding in ``systems``, else of the first coding with a code."""
    codings = [c for c in getattr(concept, "coding", None) or [] if c.code]
    preferred = [c for c in codings if _system_key(c.system) in systems]
    return str((preferred or codings)[0].code) if codings else None


def _date(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _plan_type(coverage: Coverage | None) -> str:
    code = _code(coverage.type) if coverage is not None else None
    if code in PLAN_TYPES:
        return code
    return FILING_INDICATOR_PLAN.get((code or "").upper(), "other")


class _Mapper:
    def __init__(self, claim: Claim, entries: dict[str, Any]) -> None:
        self.claim = claim
        self.resolve = _Resolver(claim, entries)
        self.problems: list[tuple[str, str]] = []

    def need(self, value: Any, where: str, what: str) -> Any:
        if value is None or value == "" or value == []:
            self.problems.append((where, what))
        return value

    def run(self) -> FhirClaim:
        claim, resolve = self.claim, self.resolve
        self._modifiers(claim, "Claim")
        kind = _code(claim.type)
        if kind is not None and kind != "professional":
            self.problems.append(
                ("Claim.type", f"is {kind!r}: only professional claims (837P) are scored")
            )
        insurances = claim.insurance or []
        focal = next((i for i, x in enumerate(insurances) if x.focal), 0)
        insurance = insurances[focal] if insurances else None
        where_insurance = f"Claim.insurance[{focal}]"
        coverage = resolve(insurance.coverage) if insurance else None
        self.need(
            coverage,
            f"{where_insurance}.coverage",
            "no Coverage resolved (contained or in the Bundle)",
        )
        patient = resolve(claim.patient)
        payors = [coverage.payor[0]] if coverage is not None and coverage.payor else []
        payer_refs = [*payors, claim.insurer]
        payer = next((r for ref in payer_refs if (r := resolve(ref)) is not None), None)
        payer_id = _identifier(payer) or next(
            (n for ref in payer_refs if (n := _logical_id(ref)) is not None), None
        )
        provider = resolve(claim.provider)
        billing = self.need(
            _npi(provider) or _logical_id(claim.provider),
            "Claim.provider",
            "no NPI for the billing provider",
        )
        care_team = sorted(claim.careTeam or [], key=lambda c: c.sequence or 0)
        rendering = (
            _npi(resolve(care_team[0].provider)) or _logical_id(care_team[0].provider)
            if care_team
            else None
        )
        items = claim.item or []
        self.need(items, "Claim.item", "a claim needs at least one item")
        lines, item_index = [], {}
        for index, item in enumerate(items):
            lines.append(self._line(index, item))
            item_index[int(item.sequence or 0)] = index
        dates = [line["service_date"] for line in lines if line.get("service_date")]
        if claim.billablePeriod is not None and claim.billablePeriod.start is not None:
            dates = [_date(claim.billablePeriod.start)]
        diagnoses = sorted(claim.diagnosis or [], key=lambda d: d.sequence or 0)
        related = claim.related or []
        replaces = any(_code(r.relationship) == "prior" for r in related)
        total: Any = claim.total.value if claim.total is not None else None
        if total is None:
            total = sum(float(line.get("line_charge") or 0) for line in lines)
        fields: dict[str, Any] = {
            "claim_id": self.need(
                _identifier(claim) or claim.id, "Claim.identifier", "no claim id"
            ),
            "patient_id": _identifier(patient)
            or (patient.id if patient else None)
            or (claim.patient.reference if claim.patient else None),
            "member_id": self.need(
                (coverage.subscriberId or _identifier(coverage)) if coverage else None,
                f"{where_insurance}.coverage",
                "no member id (Coverage.subscriberId or identifier)",
            ),
            "patient_birth_date": _date(patient.birthDate) if patient is not None else None,
            "patient_sex": _SEX.get(patient.gender, "U")
            if patient is not None and patient.gender
            else None,
            "payer_id": self.need(
                payer_id,
                "Claim.insurer",
                "no payer id (Coverage.payor or Claim.insurer identifier)",
            ),
            "plan_type": _plan_type(coverage),
            "billing_npi": billing,
            "rendering_npi": rendering if rendering and rendering != billing else None,
            "place_of_service": self.need(
                _code(items[0].locationCodeableConcept, PLACE_OF_SERVICE_SYSTEMS)
                if items
                else None,
                "Claim.item[0].locationCodeableConcept",
                "no place of service code",
            ),
            "frequency_code": "7" if replaces else "1",
            "service_date": self.need(
                min(dates) if dates else None, "Claim.item[0].servicedDate", "no service date"
            ),
            "submission_date": self.need(_date(claim.created), "Claim.created", "no creation date"),
            "total_charge": total,
            "prior_auth_number": (insurance.preAuthRef or [None])[0] if insurance else None,
            "referral_number": claim.referral.identifier.value
            if claim.referral is not None and claim.referral.identifier is not None
            else None,
            "diagnosis_codes": [
                code
                for d in diagnoses
                if (code := _code(d.diagnosisCodeableConcept, DIAGNOSIS_SYSTEMS)) is not None
            ],
            "has_attachment": any(
                s.valueAttachment is not None or s.valueReference is not None
                for s in claim.supportingInfo or []
            ),
            "lines": lines,
            "eligibility": self._eligibility(coverage),
            "authorizations": self._authorizations(lines),
            "provider_enrollment": self._enrollment(payer),
        }
        if self.problems:
            raise FhirError(self.problems + self._use_problem())
        if not fields["authorizations"] and not _checked(claim, AUTHORIZATIONS_CHECKED):
            fields["authorizations"] = None  # not known, rather than none on file
        try:
            mapped = ClaimIn.model_validate({k: v for k, v in fields.items() if v is not None})
        except ValidationError as error:
            raise FhirError(
                [(_element(e["loc"], focal, items), e["msg"]) for e in error.errors()[:20]]
                + self._use_problem()
            ) from None
        return FhirClaim(mapped, focal, item_index)

    def _use_problem(self) -> list[tuple[str, str]]:
        use = self.claim.use
        if use is None or use == "claim":
            return []
        return [
            (
                "Claim.use",
                f"is {use!r}: a denial risk is for a claim (use 'claim') with its charges and "
                "service dates; a prior-authorization request can travel beside the claim as "
                "its ClaimResponse",
            )
        ]

    def _modifiers(self, element: Any, where: str) -> None:
        """FHIR: an element with a modifier extension its reader does not know must not be read
        as if it had none (PAS marks a cancelled item so)."""
        for extension in element.modifierExtension or []:
            self.problems.append(
                (f"{where}.modifierExtension", f"changes the meaning of {where}: {extension.url}")
            )

    def _line(self, index: int, item: Any) -> dict[str, Any]:
        where = f"Claim.item[{index}]"
        self._modifiers(item, where)
        quantity = float(item.quantity.value) if item.quantity and item.quantity.value else 1.0
        charge = item.net.value if item.net is not None else None
        if charge is None and item.unitPrice is not None and item.unitPrice.value is not None:
            charge = float(item.unitPrice.value) * quantity
        start = item.servicedDate or (item.servicedPeriod.start if item.servicedPeriod else None)
        return {
            "line_number": int(item.sequence or 0),
            "procedure_code": self.need(
                _code(item.productOrService, PROCEDURE_SYSTEMS),
                f"{where}.productOrService",
                "no procedure code",
            ),
            "modifiers": [c for m in item.modifier or [] if (c := _code(m))],
            "units": quantity,
            "line_charge": self.need(charge, f"{where}.net", "no charge (net or unitPrice)"),
            "diagnosis_pointers": [int(s) for s in item.diagnosisSequence or [] if s is not None],
            "service_date": _date(start),
        }

    def _eligibility(self, coverage: Coverage | None) -> dict[str, Any] | None:
        responses: list[CoverageEligibilityResponse] = self.resolve.of_type(
            "CoverageEligibilityResponse"
        )
        if not responses:
            return None
        latest = max(responses, key=lambda r: str(r.created))
        insurance = latest.insurance[0] if latest.insurance else None
        if latest.outcome == "error" and (insurance is None or insurance.inforce is None):
            status = "not_found"
        elif insurance is not None and insurance.inforce is not None:
            status = "active" if insurance.inforce else "inactive"
        else:
            return None
        period = insurance.benefitPeriod if insurance is not None else None
        period = period or (coverage.period if coverage is not None else None)
        return {
            "checked_on": _date(latest.created),
            "status": status,
            "coverage_start": _date(period.start) if period else None,
            "coverage_end": _date(period.end) if period else None,
        }

    def _enrollment(self, payer: Any) -> dict[str, Any] | None:
        for role in self.resolve.of_type("PractitionerRole"):
            if payer is not None and self.resolve(role.organization) is payer:
                return _enrollment_of(role)
        return None

    def _authorizations(self, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
        found = []
        codes_of_item = {line["line_number"]: line["procedure_code"] for line in lines}
        response: ClaimResponse
        for response in self.resolve.of_type("ClaimResponse"):
            period = response.preAuthPeriod
            if not response.preAuthRef or period is None or response.outcome == "error":
                continue
            codes = [
                c
                for add in response.addItem or []
                if (c := _code(add.productOrService, PROCEDURE_SYSTEMS))
            ]
            codes += [
                codes_of_item[item.itemSequence]
                for item in response.item or []
                if item.itemSequence in codes_of_item
            ]
            if not codes:
                continue
            found.append(
                {
                    "auth_number": response.preAuthRef,
                    "procedure_codes": list(dict.fromkeys(codes)),
                    "start_date": _date(period.start),
                    "end_date": _date(period.end or period.start),
                    "provider_npi": _npi(self.resolve(response.requestor))
                    or _logical_id(response.requestor),
                    "units": next(
                        (
                            float(add.quantity.value)
                            for add in response.addItem or []
                            if add.quantity is not None and add.quantity.value is not None
                        ),
                        None,
                    ),
                }
            )
        return found


def _enrollment_of(role: Any) -> dict[str, Any] | None:
    period = role.period
    if period is None or period.start is None:
        return None
    return {"effective_date": _date(period.start), "end_date": _date(period.end)}


def _checked(claim: Claim, url: str) -> bool:
    return any(e.url == url and e.valueBoolean for e in claim.extension or [])


def _logical_id(reference: Reference | None) -> str | None:
    """The identifier a logical reference carries (an NPI for providers, a payer id)."""
    if reference is None or reference.identifier is None:
        return None
    return reference.identifier.value


def _element(loc: tuple[Any, ...], insurance: int, items: list[Any]) -> str:
    """The Claim element a ``ClaimIn`` validation error is about."""
    if loc and loc[0] == "lines" and len(loc) > 1 and isinstance(loc[1], int):
        where = f"Claim.item[{loc[1]}]"
        return (
            f"{where}.{_LINE_FIELDS[loc[2]]}" if len(loc) > 2 and loc[2] in _LINE_FIELDS else where
        )
    field = str(loc[0]) if loc else ""
    return ELEMENT_OF_FIELD.get(field, "Claim").format(insurance=insurance)


def read_fhir_claim(data: Any) -> FhirClaim:
    """A Claim resource or a Bundle whose first entry is its Claim (the PAS request shape:
    Patient, Coverage, Organization, Practitioner(Role), CoverageEligibilityResponse and
    ClaimResponse entries after it) or with one Claim entry -> the mapped claim. Raises
    ``FhirError``."""
    if not isinstance(data, dict):
        raise FhirError([("", "the body must be a JSON object: a FHIR Claim or Bundle")])
    kind = data.get("resourceType")
    if kind == "Claim":
        claim = _validate(Claim, data, "Claim")
        return _Mapper(claim, {}).run()
    if kind != "Bundle":
        raise FhirError([("resourceType", f"expected Claim or Bundle, got {kind!r}")])
    bundle = _validate(Bundle, data, "Bundle")
    entries: dict[str, Any] = {}
    claims = []
    for index, entry in enumerate(bundle.entry or []):
        resource = entry.resource
        if resource is None:
            continue
        name = resource.get_resource_type()
        if name == "Claim":
            claims.append((index, resource))
        if entry.fullUrl:
            entries[entry.fullUrl] = resource
        if resource.id:
            entries[f"{name}/{resource.id}"] = resource
    if claims and claims[0][0] == 0:
        return _Mapper(claims[0][1], entries).run()  # PAS: the Claim submitted comes first
    if len(claims) != 1:
        raise FhirError(
            [("Bundle.entry", f"expected the Claim first or one Claim entry, found {len(claims)}")]
        )
    return _Mapper(claims[0][1], entries).run()
