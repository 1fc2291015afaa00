"""Read a batch claim by claim: a claim that cannot be read is answered in its place with its
problems, and every other claim is scored. Used by the batch and upload routes and by
``claimrisk score``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
from pydantic import ValidationError

from features.contract import ClaimIn
from serving.schemas import ClaimProblem, FieldProblem, ScoreOut

if TYPE_CHECKING:
    from serving.scorer import Scorer

Item = ClaimIn | ClaimProblem


def field_problems(error: ValidationError, line: int | None = None) -> list[FieldProblem]:
    """A validation error's problems (no input values: they may hold PHI)."""
    return [
        FieldProblem(loc=list(e["loc"]), msg=e["msg"], line=line)
        for e in error.errors(include_url=False, include_input=False)
    ]


def claim_id_of(value: Any) -> str | None:
    """The claim_id of something meant as a claim request, when it has a readable one."""
    claim_id = value.get("claim_id") if isinstance(value, dict) else None
    return (claim_id.strip() or None) if isinstance(claim_id, str) else None


def read_value(value: Any, line: int | None = None) -> Item:
    """A claim request from a decoded JSON value, or its problems."""
    try:
        return ClaimIn.model_validate(value)
    except ValidationError as error:
        return ClaimProblem(claim_id=claim_id_of(value), line=line, problems=field_problems(error))


def read_json(text: str, line: int | None = None) -> Item:
    """A claim request from one JSON document, or its problems."""
    try:
        return ClaimIn.model_validate_json(text)
    except ValidationError as error:
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            value = None
        return ClaimProblem(claim_id=claim_id_of(value), line=line, problems=field_problems(error))


def score_in_place(
    scorer: Scorer, items: Sequence[Item], explain: str = "all"
) -> tuple[list[ScoreOut | ClaimProblem], list[ScoreOut], np.ndarray]:
    """Every readable claim scored; the answers in input order, the scores alone, and the
    feature matrix of the scored claims (for the prediction store)."""
    claims = [item for item in items if isinstance(item, ClaimIn)]
    scored, features = scorer.score_with_features(claims, explain=explain)
    results = iter(scored)
    answers = [next(results) if isinstance(item, ClaimIn) else item for item in items]
    return answers, scored, features
