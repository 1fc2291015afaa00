"""The claims data contract (shared/spec/data-contract.md, version 1) as pydantic models.

One model family serves both directions: the history loader derives each table's column
specification from the record models below (``table_spec``), and the API validates a claim
request with ``ClaimIn``. Field names follow the X12 837P elements they come from.
"""

from __future__ import annotations

import datetime as dt
import re
import types
import typing
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic.fields import FieldInfo

CONTRACT_VERSION = 1

NonEmptyStr = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
Npi = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{10}$")]
PlaceOfService = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{2}$")]
ProcedureCode = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Z0-9]{5}$")
]
Modifier = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Z0-9]{2}$")
]
DiagnosisCode = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_upper=True, pattern=r"^[A-Z][0-9][0-9A-Z]\.?[0-9A-Z]{0,4}$"
    ),
]
Adjustment = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^(CO|OA|PI|PR|CR)-\w+$")
]
# Above $100M a charge is a typo (and sums of a few 1e308 charges overflow to infinity).
Money = Annotated[float, Field(ge=0, le=100_000_000, allow_inf_nan=False)]


def _not_a_number(value: Any) -> Any:
    """A date is written YYYY-MM-DD: pydantic would read 0 as 1970-01-01 (Unix time)."""
    if isinstance(value, int | float):
        raise ValueError("a date is written YYYY-MM-DD, not as a number")
    return value


# Claims live between 1900 and 2199; a date outside is a typo, not a claim.
Date = Annotated[
    dt.date,
    BeforeValidator(_not_a_number),
    Field(ge=dt.date(1900, 1, 1), le=dt.date(2199, 12, 31)),
]
Units = Annotated[float, Field(gt=0, le=9999, allow_inf_nan=False)]

PlanType = Literal[
    "commercial", "medicare", "medicare_advantage", "medicaid", "tricare", "workers_comp", "other"
]
PatientSex = Literal["F", "M", "U"]
FrequencyCode = Literal["1", "7", "8"]
EligibilityStatus = Literal["active", "inactive", "not_found"]

PLAN_TYPES: tuple[str, ...] = get_args(PlanType)
ELIGIBILITY_STATUSES: tuple[str, ...] = get_args(EligibilityStatus)


def normalize_diagnosis(code: str) -> str:
    """ICD-10-CM is accepted with or without its dot; the service keeps it without."""
    return code.replace(".", "").upper()


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


# --- claim request (contract section 2) --------------------------------------------------


class ClaimLineIn(_Record):
    """One service line (loop 2400)."""

    line_number: Annotated[int, Field(ge=1, le=50, description="LX01, from 1")]
    procedure_code: Annotated[ProcedureCode, Field(description="SV101-2, CPT or HCPCS")]
    modifiers: Annotated[list[Modifier], Field(max_length=4, description="SV101-3..6")] = []
    units: Annotated[Units, Field(description="SV104")]
    line_charge: Annotated[Money, Field(description="SV102")]
    diagnosis_pointers: Annotated[
        list[Annotated[int, Field(ge=1, le=12)]],
        Field(min_length=1, max_length=4, description="SV107, 1-based into diagnosis_codes"),
    ]
    service_date: Annotated[
        Date | None, Field(description="line DTP*472; the claim's when empty")
    ] = None


class EligibilityIn(_Record):
    """The latest eligibility check (270/271) on or before submission."""

    checked_on: Date
    status: EligibilityStatus
    coverage_start: Date | None = None
    coverage_end: Annotated[Date | None, Field(description="empty means open-ended")] = None


class AuthorizationIn(_Record):
    """A prior authorization on file (278) for this member with this payer."""

    auth_number: NonEmptyStr
    procedure_codes: Annotated[list[ProcedureCode], Field(min_length=1, max_length=50)]
    start_date: Date
    end_date: Date
    provider_npi: Annotated[Npi | None, Field(description="the provider authorized")] = None
    units: Annotated[Units | None, Field(description="units approved")] = None


class EnrollmentIn(_Record):
    """The provider's credentialing with this payer."""

    effective_date: Date
    end_date: Annotated[Date | None, Field(description="empty means still enrolled")] = None


class ClaimBase(_Record):
    """The `claims` columns: one claim as first submitted."""

    claim_id: Annotated[NonEmptyStr, Field(description="CLM01, patient control number")]
    patient_id: Annotated[NonEmptyStr, Field(description="practice's patient key")]
    member_id: Annotated[NonEmptyStr, Field(description="NM1*IL NM109")]
    patient_birth_date: Annotated[Date | None, Field(description="DMG02")] = None
    patient_sex: Annotated[PatientSex | None, Field(description="DMG03")] = None
    payer_id: Annotated[NonEmptyStr, Field(description="NM1*PR NM109")]
    payer_name: Annotated[
        NonEmptyStr | None, Field(description="NM1*PR NM103; shown beside payer_id")
    ] = None
    plan_type: Annotated[PlanType, Field(description="SBR09 mapped")]
    billing_npi: Annotated[Npi, Field(description="NM1*85")]
    rendering_npi: Annotated[
        Npi | None, Field(description="NM1*82; empty means the billing provider rendered")
    ] = None
    place_of_service: Annotated[PlaceOfService, Field(description="CLM05-1")]
    frequency_code: Annotated[FrequencyCode, Field(description="CLM05-3")]
    service_date: Annotated[Date, Field(description="earliest DTP*472 of the claim")]
    submission_date: Annotated[Date, Field(description="date the claim left the practice")]
    total_charge: Annotated[Money, Field(description="CLM02")]
    prior_auth_number: Annotated[NonEmptyStr | None, Field(description="REF*G1")] = None
    referral_number: Annotated[NonEmptyStr | None, Field(description="REF*9F")] = None
    diagnosis_codes: Annotated[
        list[DiagnosisCode], Field(min_length=1, max_length=12, description="HI, principal first")
    ]
    has_attachment: Annotated[bool | None, Field(description="PWK segment present")] = None

    @field_validator("diagnosis_codes")
    @classmethod
    def _undotted(cls, codes: list[str]) -> list[str]:
        return [normalize_diagnosis(c) for c in codes]


class ClaimIn(ClaimBase):
    """A claim request: the claim, its lines and the context the PM system holds, inlined.

    Absent context (``None``) means "not known": the answer names the reasons it could not
    check. An absent ``eligibility`` beside other context is scored as no check on file (see
    ``features.batch``): the contract has no other way to say so. Context that contradicts
    itself (an authorization or coverage that ends before it starts, a check dated after
    submission) is accepted: it is what the payer will see, and the model scores it (such an
    authorization covers no date).
    """

    lines: Annotated[list[ClaimLineIn], Field(min_length=1, max_length=50)]
    eligibility: EligibilityIn | None = None
    authorizations: Annotated[
        list[AuthorizationIn] | None,
        Field(max_length=100, description="this member's authorizations with this payer"),
    ] = None
    provider_enrollment: EnrollmentIn | None = None

    # Requests only: a history keeps such rows (its loader reports what it holds).
    @field_validator("service_date")
    @classmethod
    def _born_before_service(cls, service: dt.date, info: ValidationInfo) -> dt.date:
        born = info.data.get("patient_birth_date")
        if born is not None and service < born:
            raise ValueError("is before patient_birth_date")
        return service

    @field_validator("lines")
    @classmethod
    def _lines_numbered_once(cls, lines: list[ClaimLineIn]) -> list[ClaimLineIn]:
        numbers = [line.line_number for line in lines]
        repeated = sorted({n for n in numbers if numbers.count(n) > 1})
        if repeated:
            raise ValueError(f"line_number {', '.join(map(str, repeated))} given more than once")
        return lines


# --- history tables (contract section 1) --------------------------------------------------


class ClaimRecord(ClaimBase):
    """A row of `claims`."""


class ClaimLineRecord(ClaimLineIn):
    """A row of `claim_lines`."""

    claim_id: NonEmptyStr


class OutcomeRecord(_Record):
    """A row of `outcomes`: first-pass adjudication from the 835."""

    claim_id: NonEmptyStr
    adjudication_date: Date
    claim_status_code: Annotated[
        str, StringConstraints(strip_whitespace=True, pattern=r"^\d{1,2}$")
    ]
    paid_amount: Annotated[float, Field(allow_inf_nan=False)]
    adjustments: list[Adjustment] = []
    remark_codes: list[NonEmptyStr] = []


class EligibilityRecord(EligibilityIn):
    """A row of `eligibility_checks`."""

    member_id: NonEmptyStr
    payer_id: NonEmptyStr


class AuthorizationRecord(AuthorizationIn):
    """A row of `authorizations`."""

    payer_id: NonEmptyStr
    member_id: NonEmptyStr


class EnrollmentRecord(EnrollmentIn):
    """A row of `provider_enrollments`."""

    npi: Npi
    payer_id: NonEmptyStr


TABLE_MODELS: dict[str, type[_Record]] = {
    "claims": ClaimRecord,
    "claim_lines": ClaimLineRecord,
    "outcomes": OutcomeRecord,
    "eligibility_checks": EligibilityRecord,
    "authorizations": AuthorizationRecord,
    "provider_enrollments": EnrollmentRecord,
}
REQUIRED_TABLES = ("claims", "claim_lines", "outcomes")
# --- a claim that cannot be read, answered in its place (a batch, an upload, a file) -------


class ReadProblem(BaseModel):
    loc: list[str | int] = Field(description="The field's path in the claim request")
    msg: str
    line: int | None = Field(None, description="The file line or CSV row it is about")


class ClaimProblem(BaseModel):
    """A claim that could not be read, answered in its place in the batch."""

    claim_id: str | None = Field(description="Its claim_id, when that much could be read")
    line: int | None = Field(None, description="Line (JSONL) or first row (CSV) in the file")
    problems: list[ReadProblem]


# The most claims one call may carry (a batch, an upload, an 837P body).
MAX_BATCH = 10_000

# A claim request's context fields and the history tables that hold the same facts.
CONTEXT_OF_TABLE = {
    "eligibility_checks": "eligibility",
    "authorizations": "authorizations",
    "provider_enrollments": "provider_enrollment",
}
CONTEXT_TABLES = tuple(CONTEXT_OF_TABLE)
CONTEXTS = tuple(CONTEXT_OF_TABLE.values())


# --- column specifications derived from the models ----------------------------------------

Kind = Literal["str", "date", "number", "int", "bool", "list_str", "list_int"]


@dataclass(frozen=True)
class ColumnSpec:
    """How one column of a history table is read and checked, derived from its model field."""

    name: str
    kind: Kind
    required: bool
    choices: tuple[str, ...] | None = None
    pattern: re.Pattern[str] | None = None
    upper: bool = False
    minimum: float | None = None
    minimum_exclusive: bool = False
    maximum: float | None = None


def _bound(value: Any) -> float:
    """A numeric bound, or a date bound as days since 1970-01-01."""
    if isinstance(value, dt.date):
        return float((value - dt.date(1970, 1, 1)).days)
    return float(value)


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    if get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return annotation, False


def _base_and_metadata(annotation: Any) -> tuple[Any, list[Any]]:
    metadata: list[Any] = []
    while get_origin(annotation) is Annotated:
        annotation, *extra = get_args(annotation)
        metadata.extend(extra)
    return annotation, metadata


def _column_spec(name: str, annotation: Any, required: bool) -> ColumnSpec:
    annotation, optional = _unwrap_optional(annotation)
    base, metadata = _base_and_metadata(annotation)
    base, optional_inner = _unwrap_optional(base)
    base, more = _base_and_metadata(base)
    metadata += more
    required = required and not (optional or optional_inner)
    if get_origin(base) is list:
        item, item_meta = _base_and_metadata(get_args(base)[0])
        metadata = item_meta
        kind: Kind = "list_int" if item is int else "list_str"
    elif get_origin(base) is Literal:
        return ColumnSpec(name, "str", required, choices=tuple(get_args(base)))
    else:
        kinds: dict[Any, Kind] = {
            str: "str",
            dt.date: "date",
            float: "number",
            int: "int",
            bool: "bool",
        }
        kind = kinds[base]
    spec: dict[str, Any] = {}
    flat = [
        m for meta in metadata for m in (meta.metadata if isinstance(meta, FieldInfo) else [meta])
    ]
    for meta in flat:
        pattern = getattr(meta, "pattern", None)
        if pattern:
            spec["pattern"] = re.compile(pattern)
        if getattr(meta, "to_upper", False):
            spec["upper"] = True
        for bound, key, exclusive in (("ge", "minimum", False), ("gt", "minimum", True)):
            value = getattr(meta, bound, None)
            if value is not None:
                spec[key], spec["minimum_exclusive"] = _bound(value), exclusive
        if getattr(meta, "le", None) is not None:
            spec["maximum"] = _bound(meta.le)
    return ColumnSpec(name, kind, required, **spec)


@cache
def table_spec(table: str) -> tuple[ColumnSpec, ...]:
    """The columns of a history table, in contract order, as its record model declares them."""
    model = TABLE_MODELS[table]
    hints = typing.get_type_hints(model, include_extras=True)
    return tuple(
        _column_spec(name, hints[name], field.is_required())
        for name, field in model.model_fields.items()
    )
