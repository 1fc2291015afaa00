"""The FHIR answer of ``POST /v1/fhir/Claim/$denial-risk``: a ``Parameters`` resource.

Parameters: ``claimId``, ``denialProbability`` (decimal), ``riskBand`` (code),
``expectedDeniedDollars`` (Money, USD), ``notChecked`` (code, one per category that lacked
context), ``model`` (string ``name:version``), one ``reason`` per reason (parts ``category``,
``title``, ``contribution``, ``evidence`` (repeated), ``action``, ``whatIfFix``,
``whatIfProbability``), and ``outcome``: an ``OperationOutcome`` with one ``information`` /
``warning`` issue per reason whose ``details`` carry the category, ``diagnostics`` the
evidence, action and what-if, and ``expression`` the Claim element concerned
(``Claim.insurance[0]``, ``Claim.item[1]``). Errors are ``OperationOutcome`` resources too.
"""

from __future__ import annotations

import re
from typing import Any

from features.fhir import FhirClaim
from scoring.schemas import Reason, ScoreOut

CATEGORY_SYSTEM = "https://claimrisk.dev/fhir/CodeSystem/denial-category"
MEDIA_TYPE = "application/fhir+json"
_LINE = re.compile(r"\bline (\d+)\b")
# The Claim element each category is about ({insurance}: the focal Claim.insurance).
_ELEMENT = {
    "eligibility": "Claim.insurance[{insurance}]",
    "coordination_of_benefits": "Claim.insurance[{insurance}]",
    "authorization": "Claim.insurance[{insurance}].preAuthRef",
    "documentation": "Claim.supportingInfo",
    "timely_filing": "Claim.created",
    "credentialing": "Claim.provider",
    "duplicate": "Claim.identifier",
}


def expressions(reason: Reason, mapped: FhirClaim) -> list[str]:
    """Where in the Claim a reason points: its lines for line-level categories (coding,
    medical necessity, non-covered...) when the evidence names them, else its element."""
    lines = [int(n) for text in reason.evidence for n in _LINE.findall(text)]
    items = [mapped.item_index[n] for n in dict.fromkeys(lines) if n in mapped.item_index]
    if reason.category not in _ELEMENT and items:
        return [f"Claim.item[{index}]" for index in items]
    element = _ELEMENT.get(reason.category, "Claim.item" if reason.category != "other" else "Claim")
    return [element.format(insurance=mapped.insurance_index)]


_NO_REASON = {
    "severity": "information",
    "code": "informational",
    "diagnostics": "no reason pushes this claim toward denial",
}


_NO_REASON = {
    "severity": "information",
    "code": "informational",
    "diagnostics": "no reason pushes this claim toward denial",
}


def _issue(reason: Reason, mapped: FhirClaim, band: str) -> dict[str, Any]:
    parts = [*reason.evidence, f"Action: {reason.action}"]
    if reason.what_if is not None:
        parts.append(
            f"What if: {reason.what_if.fix} -> denial probability "
            f"{reason.what_if.denial_probability:.2f}"
        )
    return {
        "severity": "warning" if band != "low" else "information",
        "code": "business-rule",
        "details": {
            "coding": [{"system": CATEGORY_SYSTEM, "code": reason.category}],
            "text": reason.title,
        },
        "diagnostics": " | ".join(parts),
        "expression": expressions(reason, mapped),
    }


def _reason_parameter(reason: Reason) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [
        {"name": "category", "valueCode": reason.category},
        {"name": "title", "valueString": reason.title},
        {"name": "contribution", "valueDecimal": reason.contribution},
        *({"name": "evidence", "valueString": text} for text in reason.evidence),
        {"name": "action", "valueString": reason.action},
    ]
    if reason.what_if is not None:
        parts.append({"name": "whatIfFix", "valueString": reason.what_if.fix})
        parts.append(
            {"name": "whatIfProbability", "valueDecimal": reason.what_if.denial_probability}
        )
    return {"name": "reason", "part": parts}


def parameters(result: ScoreOut, mapped: FhirClaim) -> dict[str, Any]:
    reasons = result.reasons or []
    return {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "claimId", "valueString": result.claim_id},
            {"name": "denialProbability", "valueDecimal": result.denial_probability},
            {"name": "riskBand", "valueCode": result.risk_band},
            {
                "name": "expectedDeniedDollars",
                "valueMoney": {"value": result.expected_denied_dollars, "currency": "USD"},
            },
            *({"name": "notChecked", "valueCode": c} for c in result.not_checked),
            {"name": "model", "valueString": f"{result.model.name}:{result.model.version}"},
            *(_reason_parameter(reason) for reason in reasons),
            {
                "name": "outcome",
                "resource": {
                    "resourceType": "OperationOutcome",
                    "issue": [_issue(r, mapped, result.risk_band) for r in reasons] or [_NO_REASON],
                },
            },
        ],
    }


def operation_outcome(problems: list[tuple[str, str]], code: str = "invalid") -> dict[str, Any]:
    """An error answer: one issue per problem, ``expression`` the element (when known)."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": code,
                "diagnostics": message,
                **({"expression": [where]} if where else {}),
            }
            for where, message in problems
        ],
    }
