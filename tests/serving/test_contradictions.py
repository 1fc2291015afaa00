"""Context that contradicts itself is scored, not refused: an authorization that ends before
it starts covers no date, so a claim whose only authorization is reversed gets the
authorization category as a reason (its dates are outside the service date)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from features.contract import ClaimIn
from scoring.artifact import ClaimRiskModel
from scoring.scorer import Scorer
from tests.claims import EXAMPLE, claim_json


def _covered_requests(world: Path) -> list[dict]:
    """Requests with exactly one authorization, covering a line of theirs on its date."""
    chosen = []
    for line in (world / "requests.jsonl").read_text().splitlines():
        request = json.loads(line)
        auths = request.get("authorizations") or []
        codes = {line["procedure_code"] for line in request["lines"]}
        covering = [
            a for a in auths
            if set(a["procedure_codes"]) & codes
            and a["start_date"] <= request["service_date"] <= a["end_date"]
        ]  # fmt: skip
        if len(covering) == 1:
            chosen.append({**request, "authorizations": covering})
    return chosen


def _reversed(request: dict) -> dict:
    (auth,) = request["authorizations"]
    swapped = {**auth, "start_date": auth["end_date"], "end_date": auth["start_date"]}
    return {**request, "authorizations": [swapped]}


def test_a_reversed_authorization_is_accepted() -> None:
    claim = ClaimIn.model_validate(_reversed(claim_json()))
    (auth,) = claim.authorizations or []
    assert auth.end_date < auth.start_date


def test_a_reversed_authorization_is_no_authorization(world: Path, model_dir: Path) -> None:
    scorer = Scorer(ClaimRiskModel.load(model_dir), "1", str(model_dir))
    requests = _covered_requests(world)
    assert len(requests) >= 10
    valid = scorer.score([ClaimIn.model_validate(r) for r in requests])
    reversed_ = scorer.score([ClaimIn.model_validate(_reversed(r)) for r in requests])
    named = [any(x.category == "authorization" for x in r.reasons or []) for r in reversed_]
    assert sum(named) >= 0.8 * len(requests)
    assert sum(r.denial_probability for r in reversed_) > 2 * sum(
        v.denial_probability for v in valid
    )


@pytest.mark.parametrize(
    "context",
    [
        {"eligibility": {**EXAMPLE["eligibility"], "coverage_end": "2024-12-31"}},
        {"eligibility": {**EXAMPLE["eligibility"], "checked_on": "2026-10-09"}},
        {"provider_enrollment": {"effective_date": "2024-06-01", "end_date": "2024-01-01"}},
    ],
)
def test_contradictory_context_is_scored(model_dir: Path, context: dict) -> None:
    """Coverage ending before it starts, a check after submission, an enrollment ending
    before it took effect: accepted and scored like any claim."""
    scorer = Scorer(ClaimRiskModel.load(model_dir), "1", str(model_dir))
    (scored,) = scorer.score([ClaimIn.model_validate(claim_json(**context))])
    assert 0.0 <= scored.denial_probability <= 1.0
