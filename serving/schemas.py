"""Request and response envelopes of the API routes (a claim request is
``features.contract.ClaimIn``; one claim's answer is ``scoring.schemas.ScoreOut``)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from features.contract import MAX_BATCH, ClaimIn, ClaimProblem
from scoring.schemas import ModelRef, ScoreOut


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a typo ("reason") must not pass as the default

    claims: list[Any] = Field(
        min_length=1,
        max_length=MAX_BATCH,
        description="Claim requests (ClaimIn, contract section 2), each read on its own: one "
        "that cannot be read is answered in its place with its problems, the others are scored",
        json_schema_extra={"items": {"$ref": "#/components/schemas/ClaimIn"}},
    )
    reasons: Literal["all", "medium", "high", "none"] = Field(
        "all", description="Explain every claim, only those at or above a band, or none"
    )


class ClaimSummary(BaseModel):
    """What a biller finds a claim by in the PM system (the page's work queue shows it)."""

    claim_id: str = Field(description="CLM01, the patient control (account) number")
    service_date: dt.date
    payer_id: str
    payer_name: str | None = None
    procedure_codes: list[str] = Field(description="CPT/HCPCS of the lines, in line order")
    total_charge: float

    @classmethod
    def of(cls, claim: ClaimIn) -> ClaimSummary:
        return cls(
            claim_id=claim.claim_id,
            service_date=claim.service_date,
            payer_id=claim.payer_id,
            payer_name=claim.payer_name,
            procedure_codes=[line.procedure_code for line in claim.lines],
            total_charge=claim.total_charge,
        )


class BatchOut(BaseModel):
    model: ModelRef
    results: list[ScoreOut | ClaimProblem] = Field(
        description="One answer per claim, in input order: its score, or why it was not scored"
    )
    claims: list[ClaimSummary | None] | None = Field(
        None,
        description="The claims' identifiers, in the order of results (null for a claim "
        "that could not be read)",
    )


class X12Result(BaseModel):
    position: int = Field(description="Segment number of the CLM in the file, from 1")
    claim_id: str | None = Field(description="CLM01 (real files repeat it: key by position)")
    result: ScoreOut | None = None
    problem: str | None = Field(None, description="Why this CLM could not be scored")


class X12Context(BaseModel):
    """What the 271 and 278 responses sent beside the 837P gave (see features.x12.context)."""

    eligibility_checks: int = Field(description="Eligibility checks read from the 271s")
    authorizations: int = Field(description="Certified authorizations read from the 278s")
    problems: list[str] = Field(
        description="Members or services of the 271/278 that could not be read"
    )


class X12BatchOut(BaseModel):
    model: ModelRef
    results: list[X12Result]
    context: X12Context | None = Field(
        None, description="Present when the body carried 271 or 278 responses"
    )
