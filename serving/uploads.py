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


MAX_PROBLEMS = 100  # a file with a wrong header has a problem per row: the first ones tell it


class UploadError(ValueError):
    def __init__(self, problems: list[dict[str, Any]]) -> None:
        self.problems = problems[:MAX_PROBLEMS]
        if len(problems) > MAX_PROBLEMS:
            more = f"... and {len(problems) - MAX_PROBLEMS:,} more problems"
            self.problems.append({"line": 0, "loc": [], "msg": more})
        super().__init__(f"{len(problems)} problem(s) in the upload")


def _too_many(count: int) -> None:
    if count > MAX_BATCH:
        raise UploadError([{"line": 0, "loc": [], "msg": f"more than {MAX_BATCH:,} claims"}])


def _problems(line: int, error: ValidationError) -> list[dict[str, Any]]:
    return [
        {"line": line, "loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]}
        for e in error.errors(include_url=False, include_input=False)
    ]


def _jsonl(text: str) -> list[ClaimIn]:
    claims, problems = [], []
    # Split on newlines only: U+2028 or a form feed inside a JSON string is not a line break.
    lines = [(number, line) for number, line in enumerate(text.split("\n"), 1) if line.strip()]
    _too_many(len(lines))
    for number, line in lines:
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


def _cell(column: str, text: str) -> Any:
    text = text.strip()
    if column in _LIST_FIELDS:
        return [item.strip() for item in text.split("|")] if text else []
    return text or None


def _csv_rows(text: str) -> list[tuple[int, dict[str, Any]]]:
    """(line where the record starts, its cells); every record must fill the header exactly."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = [column.strip() for column in next(reader, [])]
    except csv.Error as error:  # a bare CR, a cell over the csv module's 128 KiB limit
        raise UploadError(
            [{"line": 1, "loc": [], "msg": f"header not readable: {error}"}]
        ) from error
    repeated = sorted({column for column in header if header.count(column) > 1})
    if repeated:
        raise UploadError([{"line": 1, "loc": repeated, "msg": "column given more than once"}])
    if "claim_id" not in header:
        msg = "no claim_id column: the header names the claim request's fields"
        raise UploadError([{"line": 1, "loc": ["claim_id"], "msg": msg}])
    rows, problems, start = [], [], reader.line_num + 1
    try:
        for record in reader:
            if len(record) == len(header):
                cells = {c: _cell(c, v) for c, v in zip(header, record, strict=True) if c}
                rows.append((start, cells))
            elif record:  # a blank line is no record
                msg = f"{len(record)} cells for the header's {len(header)} columns"
                problems.append({"line": start, "loc": [], "msg": msg})
            start = reader.line_num + 1
    except csv.Error as error:
        problems.append({"line": start, "loc": [], "msg": f"not readable as CSV: {error}"})
    if problems:
        raise UploadError(problems)
    return rows


def _csv(text: str) -> list[ClaimIn]:
    grouped: dict[str, _CsvClaim] = {}
    problems: list[dict[str, Any]] = []
    rows = _csv_rows(text)
    _too_many(len({values.get("claim_id") for _, values in rows}))
    for number, values in rows:
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
    return claims
