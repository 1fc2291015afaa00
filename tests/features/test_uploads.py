"""Uploaded batches: a claim that cannot be read stays in its place with its problems, each
naming its own line and field; nothing is silently lost."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from features.contract import ClaimIn, ClaimProblem
from features.uploads import UploadError, parse_upload
from tests.claims import claim_json

HEADER = (
    "claim_id,patient_id,member_id,payer_id,plan_type,billing_npi,place_of_service,"
    "frequency_code,service_date,submission_date,total_charge,diagnosis_codes,"
    "line_number,procedure_code,modifiers,units,line_charge,diagnosis_pointers,line_service_date\n"
)
CLAIM = "X1,P1,M1,60054,commercial,1234567893,11,1,2026-10-02,2026-10-05,420,M54.50|M51.26,"


def _refused(text: str, format: str = "csv") -> list[dict]:
    """The problems of a file that cannot be read as a whole."""
    with pytest.raises(UploadError) as raised:
        parse_upload(text, format)
    return raised.value.problems


def _problems(text: str, format: str = "csv") -> list[dict]:
    """The problems of the file's unreadable claims, as the API answers them."""
    return [
        problem.model_dump(exclude_none=True)
        for item in parse_upload(text, format)
        if isinstance(item, ClaimProblem)
        for problem in item.problems
    ]


def test_csv_rows_of_a_claim_become_its_lines_with_their_own_service_dates():
    text = HEADER + CLAIM + "1,99214,25,1,180,1,\n" + CLAIM + "2,72148,,1,240,1|2,2026-10-03\n"
    (claim,) = parse_upload(text, "csv")
    assert [line.procedure_code for line in claim.lines] == ["99214", "72148"]
    assert [line.service_date for line in claim.lines] == [None, dt.date(2026, 10, 3)]
    assert claim.lines[1].diagnosis_pointers == [1, 2]


def test_csv_rows_of_one_claim_must_agree_on_its_fields():
    other_payer = CLAIM.replace("60054", "87726")
    problems = _problems(
        HEADER + CLAIM + "1,99214,,1,180,1,\n" + other_payer + "2,72148,,1,240,1,\n"
    )
    assert problems == [{"line": 3, "loc": ["payer_id"], "msg": "differs from row 2 of this claim"}]


def test_bad_claims_stay_in_place_and_good_ones_are_read():
    good = CLAIM + "1,99214,,1,180,1,\n"
    bad = CLAIM.replace("X1", "X2") + "1,99214,,-1,180,1,\n"
    items = parse_upload(HEADER + good + bad + good.replace("X1", "X3"), "csv")
    assert [type(i) for i in items] == [ClaimIn, ClaimProblem, ClaimIn]
    assert isinstance(items[1], ClaimProblem)
    assert items[1].claim_id == "X2" and items[1].line == 3
    jsonl = [json.dumps(claim_json(claim_id="J1")), "{not json", json.dumps(claim_json(lines=[]))]
    read = parse_upload("\n".join(jsonl), "jsonl")
    assert isinstance(read[0], ClaimIn)
    assert isinstance(read[1], ClaimProblem) and read[1].line == 2 and read[1].claim_id is None
    assert isinstance(read[2], ClaimProblem) and read[2].claim_id == "A1001"


def test_csv_problems_name_the_row_of_the_bad_line():
    rows = [CLAIM + f"{n},99214,,{units},90,1,\n" for n, units in ((1, 1), (2, 1), (3, -2))]
    problems = _problems(HEADER + "".join(rows))
    assert [(p["line"], p["loc"]) for p in problems] == [(4, ["lines", 2, "units"])]


def test_an_oversized_csv_field_is_a_problem_not_a_crash():
    problems = _problems("claim_id\n" + "A" * 140_000 + "\n")
    assert problems[0]["line"] == 2 and "field larger than field limit" in problems[0]["msg"]


def test_jsonl_lines_break_on_newlines_only_and_a_byte_order_mark_is_ignored():
    odd = json.dumps(claim_json(claim_id="A\u2028B\x0cC"), ensure_ascii=False)
    text = "\ufeff" + odd + "\n" + json.dumps(claim_json(claim_id="B2"))
    claims = parse_upload(text, "jsonl")
    assert [c.claim_id for c in claims] == ["A\u2028B\x0cC", "B2"]
    csv_with_bom = "\ufeff" + HEADER + CLAIM + "1,99214,,1,180,1,\n"
    assert parse_upload(csv_with_bom, "csv")[0].claim_id == "X1"


def test_csv_cells_must_fill_the_header_exactly_once():
    row = CLAIM + "1,99214,,1,180,1,"
    repeated = _refused(HEADER.replace("units", "claim_id") + row + "\n")
    assert repeated == [{"line": 1, "loc": ["claim_id"], "msg": "column given more than once"}]
    ragged = _problems(HEADER + row + ",EXTRA\n\n" + row.rsplit(",", 2)[0] + "\n")
    assert [(p["line"], p["msg"]) for p in ragged] == [
        (2, "20 cells for the header's 19 columns"),
        (4, "17 cells for the header's 19 columns"),
    ]


def test_csv_cells_are_trimmed_so_one_claim_stays_one():
    spaced = CLAIM.replace("X1,", " X1 ,", 1) + "2,72148,,1,240, 1 | 2 ,\n"
    (claim,) = parse_upload(HEADER + CLAIM + "1,99214,,1,180,1,\n" + spaced, "csv")
    assert claim.claim_id == "X1" and claim.lines[1].diagnosis_pointers == [1, 2]


def test_a_quoted_multi_line_record_is_reported_at_its_first_line():
    quoted = CLAIM.replace("P1", '"P\n1"', 1) + "1,99214,,0,180,1,\n"
    problems = _problems(HEADER + CLAIM + "1,99214,,1,180,1,\n" + quoted)
    assert {(p["line"], tuple(p["loc"])) for p in problems} == {
        (3, ("patient_id",)),
        (3, ("lines", 1, "units")),
    }


def test_only_a_file_unreadable_as_a_whole_is_refused():
    assert _refused("a,b\n" + "1,2\n" * 500)[0]["loc"] == ["claim_id"]
    assert _refused("\n\n", "jsonl")[0]["msg"] == "no claims in the upload"
    problems = _problems("claim_id\n" + "".join(f"X{n}\n" for n in range(500)))
    assert len([p for p in problems if p["loc"] == ["patient_id"]]) == 500  # one per claim
