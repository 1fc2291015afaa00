"""What scoring one claim answers: probability, band, reasons with evidence and what-if, and
the model that answered. The API, the CLI and the biller page all return these."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from features.categories import Category

Band = Literal["low", "medium", "high"]


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
