"""Response models of the API (requests are ``features.contract.ClaimIn``)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from features.categories import Category
from features.contract import ClaimIn

Band = Literal["low", "medium", "high"]
MAX_BATCH = 10_000


class WhatIf(BaseModel):
    fix: str = Field(description="The change applied to the claim before re-scoring")
    denial_probability: float = Field(description="Calibrated probability after the fix")


class Reason(BaseModel):
    category: Category
    title: str
    contribution: float = Field(description="Summed SHAP of the category's features, log-odds")
    evidence: list[str] = Field(description="Facts from the claim behind this reason")
    action: str
    what_if: WhatIf | None = Field(
        None, description="Risk after the fix; null when no fix can be applied to the claim"
    )


class ModelRef(BaseModel):
    name: str
    version: str
    training_window: dict[str, str]


class ScoreOut(BaseModel):
    claim_id: str
    denial_probability: float
    risk_band: Band
    expected_denied_dollars: float
    reasons: list[Reason] | None = Field(
        description="At most 4, strongest first; null when reasons were not requested for it"
    )
    not_checked: list[str] = Field(
        description="Categories that could not be checked for lack of context in the request"
    )
    model: ModelRef


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a typo ("reason") must not pass as the default

    claims: list[ClaimIn] = Field(min_length=1, max_length=MAX_BATCH)
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
    results: list[ScoreOut]
    claims: list[ClaimSummary] | None = Field(
        None, description="The claims' identifiers, in the order of results"
    )


class ModelInfo(BaseModel):
    name: str
    version: str
    alias: str | None
    source: str
    training_window: dict[str, str]
    feature_set: str
    metrics: dict[str, float]
    bands: dict[str, float]
    loaded_at: str


class X12Result(BaseModel):
    position: int = Field(description="Segment number of the CLM in the file, from 1")
    claim_id: str | None = Field(description="CLM01 (real files repeat it: key by position)")
    result: ScoreOut | None = None
    problem: str | None = Field(None, description="Why this CLM could not be scored")


class X12BatchOut(BaseModel):
    model: ModelRef
    results: list[X12Result]
