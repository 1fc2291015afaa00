"""Read claim requests one by one: a claim that cannot be read becomes its problems (answered
in its place), so one bad claim never costs the others their scores. Used by the batch and
upload routes and by ``claimrisk score``."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import ValidationError

from features.contract import ClaimIn, ClaimProblem, ReadProblem

Item = ClaimIn | ClaimProblem


def field_problems(error: ValidationError, line: int | None = None) -> list[ReadProblem]:
    """A validation error's problems (no input values: they may hold PHI)."""
    return [
        ReadProblem(loc=list(e["loc"]), msg=e["msg"], line=line)
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
