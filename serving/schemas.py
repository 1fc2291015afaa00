"""Response models of the API (requests are ``features.contract.ClaimIn``)."""

from __future__ import annotations

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


class BatchOut(BaseModel):
    model: ModelRef
    results: list[ScoreOut]


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
