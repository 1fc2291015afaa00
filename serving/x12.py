"""Score an 837P file: one answer per CLM segment, in file order, problems included."""

from __future__ import annotations

from features.x12 import X12Error, parse_837p
from scoring.scorer import Scorer
from serving.schemas import X12Result


def score_837p(
    scorer: Scorer, text: str, source: str, explain: str = "all", max_claims: int | None = None
) -> list[X12Result]:
    """Raises ``X12Error`` (broken file, or more than ``max_claims`` CLM) or
    ``UnsupportedTransaction`` (an 837I)."""
    requests = parse_837p(text, source).claim_requests()
    if max_claims is not None and len(requests) > max_claims:
        raise X12Error(
            source,
            f"{len(requests):,} claims; at most {max_claims:,} per call (split the file, "
            "or score it offline with `claimrisk score`)",
        )
    claims = [request.claim for request in requests if request.claim is not None]
    scored = iter(scorer.score(claims, explain=explain))
    return [
        X12Result(
            position=request.position,
            claim_id=request.claim_id,
            result=next(scored) if request.claim is not None else None,
            problem=request.problem,
        )
        for request in requests
    ]
