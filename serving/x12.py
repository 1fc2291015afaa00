"""Score an 837P file, with any 271 / 278 responses sent beside it: one answer per CLM segment,
in file order, problems included."""

from __future__ import annotations

import numpy as np

from features.x12 import X12Error
from features.x12.context import read_claims_with_context
from scoring.scorer import Earlier, Scorer
from serving.schemas import X12Context, X12Result


def score_837p(
    scorer: Scorer,
    text: str,
    source: str,
    explain: str = "all",
    max_claims: int | None = None,
    earlier: Earlier | None = None,
) -> tuple[list[X12Result], X12Context | None, np.ndarray]:
    """Every claim of an 837P scored with the context of the 271s and 278s beside it; the
    context read (``None`` when the text had none); the feature rows of the scored claims.

    Raises ``X12Error`` (broken file, a transaction other than 837P / 271 / 278, or more than
    ``max_claims`` CLM) or ``UnsupportedTransaction`` (an 837I)."""
    found = read_claims_with_context(text, source)
    requests = found.requests
    if max_claims is not None and len(requests) > max_claims:
        raise X12Error(
            source,
            f"{len(requests):,} claims; at most {max_claims:,} per call (split the file, "
            "or score it offline with `claimrisk score`)",
        )
    claims = [request.claim for request in requests if request.claim is not None]
    scores, features = scorer.score_with_features(claims, explain=explain, earlier=earlier)
    scored = iter(scores)
    results = [
        X12Result(
            position=request.position,
            claim_id=request.claim_id,
            result=next(scored) if request.claim is not None else None,
            problem=request.problem,
        )
        for request in requests
    ]
    context = None
    if found.has_context:
        context = X12Context(
            eligibility_checks=found.checks,
            authorizations=found.authorizations,
            problems=found.problems,
        )
    return results, context, features
