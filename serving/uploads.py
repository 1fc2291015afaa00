"""Parse an uploaded batch: JSONL (one claim request per line) or CSV (one service line per
row, claim fields repeated, lists joined with ``|``). Every bad line is reported with its
number and field; nothing is silently dropped."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
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
    # Split on newlines only: U+2028 or a form feed inside a JSON string is not a line break.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            claims.append(ClaimIn.model_validate_json(line))
        except ValidationError as error:
            problems += _problems(number, error)
    if problems:
        raise UploadError(problems)
    return claims


@dataclass
class _CsvClaim:
    """One claim gathered from its CSV rows: claim fields (from its first row), lines, rows."""

    fields: dict[str, Any]
    lines: list[dict[str, Any]] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)

    def row_of(self, loc: tuple[int | str, ...]) -> int:
        """The CSV row a validation error is about: its line's row, else the claim's first."""
        if len(loc) > 1 and loc[0] == "lines" and isinstance(loc[1], int):
            return self.rows[loc[1]]
        return self.rows[0]


def _csv_rows(text: str) -> list[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text))
    rows = []
    try:
        for row in reader:
            values = {
                k: (v.split("|") if k in _LIST_FIELDS and v else v or None)
                for k, v in row.items()
                if k
            }
            rows.append((reader.line_num, values))
    except csv.Error as error:  # raised before the reader counts the line it was reading
        problem = {"line": reader.line_num + 1, "loc": [], "msg": str(error)}
        raise UploadError([problem]) from error
    return rows


def _csv(text: str) -> list[ClaimIn]:
    grouped: dict[str, _CsvClaim] = {}
    problems: list[dict[str, Any]] = []
    for number, values in _csv_rows(text):
        claim_fields = {k: v for k, v in values.items() if k not in _LINE_FIELDS}
        claim = grouped.setdefault(
            str(values.get("claim_id") or f"row {number}"), _CsvClaim(claim_fields)
        )
        problems += [  # a claim's fields repeat on each of its rows: they must agree
            {"line": number, "loc": [k], "msg": f"differs from row {claim.rows[0]} of this claim"}
            for k, v in claim_fields.items()
            if claim.rows and claim.fields.get(k) != v
        ]
        line = {k: v for k, v in values.items() if k in _LINE_FIELDS}
        line["modifiers"] = line.get("modifiers") or []
        if "line_service_date" in line:
            line["service_date"] = line.pop("line_service_date")
        claim.lines.append(line)
        claim.rows.append(number)
    claims = []
    for claim in grouped.values():
        try:
            claims.append(ClaimIn.model_validate({**claim.fields, "lines": claim.lines}))
        except ValidationError as error:
            problems += [
                {**problem, "line": claim.row_of(tuple(problem["loc"]))}
                for problem in _problems(claim.rows[0], error)
            ]
    if problems:
        raise UploadError(sorted(problems, key=lambda problem: problem["line"]))
    return claims


def parse_upload(text: str, format: str) -> list[ClaimIn]:
    text = text.removeprefix("\ufeff")  # Excel's "CSV UTF-8" starts with a byte order mark
    claims = _jsonl(text) if format == "jsonl" else _csv(text)
    if not claims:
        raise UploadError([{"line": 0, "loc": [], "msg": "no claims in the upload"}])
    if len(claims) > MAX_BATCH:
        raise UploadError([{"line": 0, "loc": [], "msg": f"more than {MAX_BATCH} claims"}])
    return claims
