"""Typed results of the claimrisk API, as the client returns them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

Band = Literal["low", "medium", "high"]


class WhatIf(BaseModel):
    fix: str
    denial_probability: float


class Reason(BaseModel):
    category: str
    title: str
    contribution: float
    evidence: list[str]
    action: str
    what_if: WhatIf | None = None


class ModelRef(BaseModel):
    name: str
    version: str
    training_window: dict[str, str] = {}


class Score(BaseModel):
    """One claim's answer (``POST /v1/claims/score`` and each batch result)."""

    claim_id: str
    denial_probability: float
    risk_band: Band
    expected_denied_dollars: float
    reasons: list[Reason] | None
    not_checked: list[str]
    model: ModelRef


class X12Result(BaseModel):
    position: int
    claim_id: str | None
    result: Score | None = None
    problem: str | None = None


class X12Context(BaseModel):
    eligibility_checks: int
    authorizations: int
    problems: list[str]


class X12Scores(BaseModel):
    """``POST /v1/claims/score-x12``: one result per CLM in file order."""

    model: ModelRef
    results: list[X12Result]
    context: X12Context | None = None


class FhirIssue(BaseModel):
    category: str
    title: str
    expression: list[str]
    diagnostics: str


class FhirScore(BaseModel):
    """``POST /v1/fhir/Claim/$denial-risk``, read out of its FHIR ``Parameters``."""

    claim_id: str
    denial_probability: float
    risk_band: Band
    expected_denied_dollars: float
    not_checked: list[str]
    model: str
    issues: list[FhirIssue]
    parameters: dict[str, Any]  # the FHIR resource as answered

    @classmethod
    def from_parameters(cls, resource: dict[str, Any]) -> FhirScore:
        values: dict[str, list[dict[str, Any]]] = {}
        for parameter in resource.get("parameter", []):
            values.setdefault(parameter["name"], []).append(parameter)
        outcome = values["outcome"][0]["resource"]
        issues = [
            FhirIssue(
                category=issue["details"]["coding"][0]["code"],
                title=issue["details"].get("text", ""),
                expression=issue.get("expression", []),
                diagnostics=issue.get("diagnostics", ""),
            )
            for issue in outcome.get("issue", [])
            if "details" in issue
        ]
        return cls(
            claim_id=values["claimId"][0]["valueString"],
            denial_probability=values["denialProbability"][0]["valueDecimal"],
            risk_band=values["riskBand"][0]["valueCode"],
            expected_denied_dollars=values["expectedDeniedDollars"][0]["valueMoney"]["value"],
            not_checked=[p["valueCode"] for p in values.get("notChecked", [])],
            model=values["model"][0]["valueString"],
            issues=issues,
            parameters=resource,
        )
