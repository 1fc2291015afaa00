"""Response models of the API (requests are ``features.contract.ClaimIn``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from features.categories import Category

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


class FieldProblem(BaseModel):
    loc: list[str | int] = Field(description="The field's path in the claim request")
    msg: str
    line: int | None = Field(None, description="The file line or CSV row it is about")


class ClaimProblem(BaseModel):
    """A claim that could not be read, answered in its place in the batch."""

    claim_id: str | None = Field(description="Its claim_id, when that much could be read")
    line: int | None = Field(None, description="Line (JSONL) or first row (CSV) in the file")
    problems: list[FieldProblem]


class BatchOut(BaseModel):
    model: ModelRef
    results: list[ScoreOut | ClaimProblem] = Field(
        description="One answer per claim, in input order: its score, or why it was not scored"
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
