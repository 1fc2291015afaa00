"""Parse an uploaded batch: JSONL (one claim request per line) or CSV (one service line per
row, claim fields repeated, lists joined with ``|``). Every bad line is reported with its
number and field; nothing is silently dropped."""

from __future__ import annotations

import csv
import io
from typing import Any

from pydantic import ValidationError

from features.contract import ClaimIn, ClaimLineIn
from serving.schemas import MAX_BATCH

# Columns of a CSV upload: claim fields as ClaimIn names them, line fields as ClaimLineIn does,
# except the line's own service date, which is ``line_service_date``.
_CLAIM_FIELDS = set(ClaimIn.model_fields)
_LINE_FIELDS = (set(ClaimLineIn.model_fields) - {"service_date"}) | {"line_service_date"}
_LIST_FIELDS = {"modifiers", "diagnosis_pointers", "diagnosis_codes"}


class UploadError(ValueError):
    def __init__(self, problems: list[dict[str, Any]]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in the upload")


def _problems(line: int, error: ValidationError) -> list[dict[str, Any]]:
    return [
        {"line": line, "loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]}
        for e in error.errors(include_url=False, include_input=False)
    ]


def _jsonl(text: str) -> list[ClaimIn]:
    claims, problems = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            claims.append(ClaimIn.model_validate_json(line))
        except ValidationError as error:
            problems += _problems(number, error)
    if problems:
        raise UploadError(problems)
    return claims


def _csv(text: str) -> list[ClaimIn]:
    grouped: dict[str, dict[str, Any]] = {}
    first_row: dict[str, int] = {}
    reader = csv.DictReader(io.StringIO(text))
    for number, row in enumerate(reader, start=2):
        values = {
            k: (v.split("|") if k in _LIST_FIELDS and v else v or None) for k, v in row.items() if k
        }
        claim_id = values.get("claim_id") or f"row {number}"
        claim = grouped.setdefault(
            str(claim_id), {k: v for k, v in values.items() if k not in _LINE_FIELDS}
        )
        first_row.setdefault(str(claim_id), number)
        line = {k: v for k, v in values.items() if k in _LINE_FIELDS}
        line["modifiers"] = line.get("modifiers") or []
        claim.setdefault("lines", []).append(line)
    claims, problems = [], []
    for claim_id, body in grouped.items():
        try:
            claims.append(ClaimIn.model_validate(body))
        except ValidationError as error:
            problems += _problems(first_row[claim_id], error)
    if problems:
        raise UploadError(problems)
    return claims


def parse_upload(text: str, format: str) -> list[ClaimIn]:
    claims = _jsonl(text) if format == "jsonl" else _csv(text)
    if not claims:
        raise UploadError([{"line": 0, "loc": [], "msg": "no claims in the upload"}])
    if len(claims) > MAX_BATCH:
        raise UploadError([{"line": 0, "loc": [], "msg": f"more than {MAX_BATCH} claims"}])
    return claims
