"""Parse an uploaded batch: JSONL (one claim request per line) or CSV (one service line per
row, claim fields repeated, lists joined with ``|``). A claim that cannot be read stays in
its place as a ``ClaimProblem`` naming its line and field; only a file that cannot be read as
a whole (a CSV header without claim_id, too many claims, no claims) is refused."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from features.contract import (
    MAX_BATCH,
    ClaimBase,
    ClaimIn,
    ClaimLineIn,
    ClaimProblem,
    ReadProblem,
)
from features.reading import Item, claim_id_of, field_problems, read_json

# Columns of a CSV upload: claim fields as ClaimIn names them, line fields as ClaimLineIn does,
# except the line's own service date, which is ``line_service_date``.
_CLAIM_FIELDS = set(ClaimIn.model_fields)
_LINE_FIELDS = (set(ClaimLineIn.model_fields) - {"service_date"}) | {"line_service_date"}
_LIST_FIELDS = {"modifiers", "diagnosis_pointers", "diagnosis_codes"}


class UploadError(ValueError):
    """The file as a whole cannot be read."""

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in the upload")


def _too_many(count: int) -> None:
    if count > MAX_BATCH:
        raise UploadError([{"line": 0, "loc": [], "msg": f"more than {MAX_BATCH:,} claims"}])


def _jsonl(text: str) -> list[Item]:
    # Split on newlines only: U+2028 or a form feed inside a JSON string is not a line break.
    lines = [(number, line) for number, line in enumerate(text.split("\n"), 1) if line.strip()]
    _too_many(len(lines))
    return [read_json(line, number) for number, line in lines]


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


def _csv_rows(text: str) -> tuple[list[tuple[int, dict[str, Any]]], list[ClaimProblem]]:
    """(line where the record starts, its cells) of every record that fills the header
    exactly, and a problem for each one that does not (it cannot be read as any claim)."""
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
    rows, unreadable, start = [], [], reader.line_num + 1

    def refuse(msg: str) -> None:
        problem = ReadProblem(loc=[], msg=msg, line=start)
        unreadable.append(ClaimProblem(claim_id=None, line=start, problems=[problem]))

    try:
        for record in reader:
            if len(record) == len(header):
                cells = {c: _cell(c, v) for c, v in zip(header, record, strict=True) if c}
                rows.append((start, cells))
            elif record:  # a blank line is no record
                refuse(f"{len(record)} cells for the header's {len(header)} columns")
            start = reader.line_num + 1
    except csv.Error as error:
        refuse(f"not readable as CSV: {error}")
    return rows, unreadable


def _csv_claim(claim: _CsvClaim, disagreements: list[ReadProblem]) -> Item:
    """The claim of a CSV group, or its problems: rows that disagree, invalid fields."""
    problems = list(disagreements)
    try:
        read = ClaimIn.model_validate({**claim.fields, "lines": claim.lines})
    except ValidationError as error:
        problems += [
            problem.model_copy(update={"line": claim.row_of(tuple(problem.loc))})
            for problem in field_problems(error)
        ]
    if problems:
        problems.sort(key=lambda problem: problem.line or 0)
        return ClaimProblem(
            claim_id=claim_id_of(claim.fields), line=claim.rows[0], problems=problems
        )
    return read


def _csv(text: str) -> list[Item]:
    grouped: dict[str, _CsvClaim] = {}
    disagreements: dict[str, list[ReadProblem]] = {}
    rows, unreadable = _csv_rows(text)
    _too_many(len({values.get("claim_id") for _, values in rows}) + len(unreadable))
    for number, values in rows:
        claim_fields = {k: v for k, v in values.items() if k not in _LINE_FIELDS}
        key = str(values.get("claim_id") or f"row {number}")
        claim = grouped.setdefault(key, _CsvClaim(claim_fields))
        differs = f"differs from row {claim.rows[0]} of this claim" if claim.rows else ""
        disagreements.setdefault(key, []).extend(  # a claim's fields repeat on each of its rows
            ReadProblem(loc=[k], msg=differs, line=number)
            for k, v in claim_fields.items()
            if claim.rows and claim.fields.get(k) != v
        )
        line = {k: v for k, v in values.items() if k in _LINE_FIELDS}
        line["modifiers"] = line.get("modifiers") or []
        if "line_service_date" in line:
            line["service_date"] = line.pop("line_service_date")
        claim.lines.append(line)
        claim.rows.append(number)
    placed: list[tuple[int, Item]] = [
        (claim.rows[0], _csv_claim(claim, disagreements[key])) for key, claim in grouped.items()
    ]
    placed += [(problem.line or 0, problem) for problem in unreadable]
    return [item for _, item in sorted(placed, key=lambda pair: pair[0])]


def parse_upload(text: str, format: str) -> list[Item]:
    """The file's claims in file order, each a ``ClaimIn`` or the ``ClaimProblem`` that says
    why it could not be read. Raises ``UploadError`` when the file as a whole cannot be."""
    text = text.removeprefix("\ufeff")  # Excel's "CSV UTF-8" starts with a byte order mark
    items = _jsonl(text) if format == "jsonl" else _csv(text)
    if not items:
        raise UploadError([{"line": 0, "loc": [], "msg": "no claims in the upload"}])
    return items


# The template's one example claim (the contract's, without the context a CSV cannot carry).
_EXAMPLE_CLAIM = {
    "claim_id": "A1001", "patient_id": "P77", "member_id": "XGH448812",
    "patient_birth_date": "1961-03-09", "patient_sex": "F", "payer_id": "60054",
    "payer_name": "Example Health Plan", "plan_type": "commercial",
    "billing_npi": "1234567893", "rendering_npi": "1679576722", "place_of_service": "11",
    "frequency_code": "1", "service_date": "2026-10-02", "submission_date": "2026-10-05",
    "total_charge": "420.00", "prior_auth_number": "PA99812", "referral_number": "",
    "diagnosis_codes": "M54.50|M51.26", "has_attachment": "",
}  # fmt: skip
_EXAMPLE_LINES = (
    {"line_number": "1", "procedure_code": "99214", "modifiers": "25", "units": "1",
     "line_charge": "180.00", "diagnosis_pointers": "1", "line_service_date": ""},
    {"line_number": "2", "procedure_code": "72148", "modifiers": "", "units": "1",
     "line_charge": "240.00", "diagnosis_pointers": "1|2", "line_service_date": ""},
)  # fmt: skip


def template_csv() -> str:
    """A CSV upload to start from: every column the upload reads (the claim's, then the
    line's), and one example claim of two service lines."""
    claim_columns = list(ClaimBase.model_fields)
    line_columns = [
        "line_service_date" if name == "service_date" else name for name in ClaimLineIn.model_fields
    ]
    out = io.StringIO()
    writer = csv.DictWriter(out, claim_columns + line_columns, lineterminator="\r\n")
    writer.writeheader()
    for line in _EXAMPLE_LINES:
        writer.writerow({**_EXAMPLE_CLAIM, **line})
    return out.getvalue()
