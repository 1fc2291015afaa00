"""The tolerant segment reader: delimiters, envelopes, positions, and errors that name them."""

from __future__ import annotations

import pytest

from features.x12 import X12Error, decode, parse_835, parse_837p, read_document, sniff
from tests.features.x12.helpers import FIXTURES

PROFESSIONAL = (FIXTURES / "professional.837").read_text()
REMITTANCE = (FIXTURES / "remittance.835").read_text()


def claim_ids(text: str) -> list[str]:
    return parse_837p(text, "t.837").claims["claim_id"].tolist()


def redelimit(text: str, element: str, component: str, repetition: str, terminator: str) -> str:
    """The same interchange with other delimiters (the fixture's data has none of them)."""
    table = str.maketrans({"*": element, ":": component, "^": repetition, "~": terminator})
    return text.replace("~\n", "~").translate(table)


def test_positions_count_every_segment_from_isa():
    document = read_document(PROFESSIONAL, "p.837")
    transaction = document.transactions[0]
    assert document.segment_count == 66
    assert [s.position for s in transaction.segments[:2]] == [3, 4]
    assert transaction.segments[0].tag == "ST" and transaction.segments[-1].tag == "SE"
    assert transaction.version == "005010X222A1"
    assert not document.warnings


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(lambda t: t.replace("~\n", "~"), id="no line breaks"),
        pytest.param(lambda t: t.replace("~\n", "~\r\n"), id="CRLF after terminators"),
        pytest.param(lambda t: "\ufeff" + t, id="UTF-8 BOM"),
        pytest.param(lambda t: t.replace("~\n", "\n"), id="newline as terminator"),
        pytest.param(lambda t: redelimit(t, "|", "<", "}", "!"), id="non-default delimiters"),
        pytest.param(lambda t: redelimit(t, "^", ">", "{", "\n"), id="caret elements"),
    ],
)
def test_the_same_claims_whatever_the_layout(variant):
    assert claim_ids(variant(PROFESSIONAL)) == ["A1001", "A1002", "A1001"]


def test_several_interchanges_in_one_file_keep_counting_positions():
    text = PROFESSIONAL + redelimit(PROFESSIONAL, "|", "<", "}", "\n")
    parsed = parse_837p(text, "two.837")
    assert parsed.claims["claim_id"].tolist() == ["A1001", "A1002", "A1001"] * 2
    assert parsed.transactions == 2
    first, second = parsed.claims["segment"].iloc[[0, 3]]
    assert second - first == 66  # positions run on through the second ISA


def test_bare_transaction_without_envelope_uses_defaults_and_bht_date():
    lines = PROFESSIONAL.splitlines()
    bare = "\n".join(line for line in lines if not line.startswith(("ISA", "GS", "GE", "IEA")))
    parsed = parse_837p(bare, "bare.837")
    assert parsed.claims["claim_id"].tolist() == ["A1001", "A1002", "A1001"]
    assert str(parsed.claims["submission_date"].iloc[0]) == "2026-02-28"
    assert parsed.claims["segment"].iloc[0] == 19  # ST is segment 1 now


def test_bare_transaction_with_newline_terminators():
    lines = PROFESSIONAL.replace("~", "").splitlines()
    bare = "\n".join(line for line in lines if not line.startswith(("ISA", "GS", "GE", "IEA")))
    assert claim_ids(bare) == ["A1001", "A1002", "A1001"]


def test_4010_professional_claims_are_mapped():
    text = (
        PROFESSIONAL.replace("*^*00501*", "*U*00401*")
        .replace("005010X222A1", "004010X098A1")
        .replace("ST*837*0001*004010X098A1~", "ST*837*0001~")
        .replace("ABK:", "BK:")
        .replace("ABF:", "BF:")
    )
    document = read_document(text, "old.837")
    assert document.transactions[0].is_4010
    assert document.transactions[0].delimiters.repetition is None
    parsed = parse_837p(text, "old.837")
    assert parsed.claims["claim_id"].tolist() == ["A1001", "A1002", "A1001"]
    assert parsed.claims["icd9"].all()  # 4010 claims carry ICD-9: read, flagged for the contract
    requests = parsed.claim_requests()
    assert {r.problem for r in requests} == {
        "diagnosis codes are ICD-9-CM (HI qualifier BK/BF); the contract takes ICD-10-CM (ABK/ABF)"
    }


def test_envelope_count_mismatch_is_a_warning_not_an_error():
    parsed = parse_837p(PROFESSIONAL.replace("SE*62*0001", "SE*61*0001"), "p.837")
    assert parsed.warnings == [
        "p.837: segment 64 (SE): SE01 says '61' segments in the transaction set, found 62"
    ]
    assert len(parsed.claims) == 3


# --- malformed input: exact error text ----------------------------------------------------


def test_truncated_file_names_the_last_segment_and_the_open_transaction():
    cut = PROFESSIONAL[: PROFESSIONAL.index("HI*ABK:I10")]
    with pytest.raises(X12Error) as error:
        read_document(cut, "cut.837")
    assert str(error.value) == (
        "cut.837: segment 47 (REF): the file ends inside the transaction set started at "
        "segment 3 (ST 837) without SE: the file looks truncated"
    )


def test_truncated_inside_a_segment():
    cut = PROFESSIONAL[: PROFESSIONAL.index("*420.00***11:B:7")]
    with pytest.raises(X12Error, match=r"^cut.837: segment 58 \(CLM\): the file ends inside"):
        read_document(cut, "cut.837")


def test_missing_iea_is_truncation():
    cut = PROFESSIONAL[: PROFESSIONAL.index("IEA")]
    with pytest.raises(X12Error) as error:
        read_document(cut, "cut.837")
    assert str(error.value) == (
        "cut.837: segment 65 (GE): the interchange started at segment 1 (ISA) ends without "
        "IEA: the file looks truncated"
    )


def test_truncated_isa():
    with pytest.raises(X12Error) as error:
        read_document(PROFESSIONAL[:60], "tiny.837")
    assert str(error.value) == (
        "tiny.837: segment 1 (ISA): ISA is incomplete: expected 16 elements separated by '*' "
        "(file truncated or wrong delimiter?)"
    )


def test_wrong_element_separator_is_named():
    first, rest = PROFESSIONAL.split("\n", 1)
    text = first.replace("*", "|") + "\n" + rest  # ISA declares '|', the rest uses '*'
    with pytest.raises(X12Error) as error:
        read_document(text, "wrong.837")
    assert str(error.value) == (
        "wrong.837: segment 2: cannot read a segment id from 'GS*HC*…': wrong delimiter? "
        "(the envelope declares element '|', component ':', segment terminator '~')"
    )


def test_wrong_segment_terminator_is_named():
    text = PROFESSIONAL.replace("~\n", "'\n").replace("'", "~", 1)  # only ISA ends in '~'
    with pytest.raises(X12Error) as error:
        read_document(text, "wrong.837")
    assert str(error.value) == (
        "wrong.837: segment 1 (ISA): the segment terminator '~' declared here hardly occurs in "
        "the file: wrong delimiter? (declared element '*', component ':', segment terminator "
        "'~')"
    )


def test_missing_clm01_skips_that_claim_only():
    parsed = parse_837p(PROFESSIONAL.replace("CLM*A1002*", "CLM**"), "claims.837")
    assert parsed.claims["claim_id"].tolist() == ["A1001", "A1001"]
    (skipped,) = parsed.skipped
    assert skipped.error.describe() == "claims.837: segment 46 (CLM): CLM01 is missing"
    assert skipped.position == 46


def test_cas_with_an_incomplete_triplet_names_the_element():
    text = REMITTANCE.replace("CAS*PR*2*19.50~", "CAS*PR*2*19.50**45~")
    remits = parse_835(text, "remit.835")
    (skipped,) = remits.skipped
    assert skipped.error.describe() == (
        "remit.835: segment 25 (CAS): CAS06 is missing: adjustment reason 45 has no amount"
    )
    assert [c.claim_id for c in remits.claims] == ["A1001", "A1002", "A1002", "UNKNOWN9"]


@pytest.mark.parametrize(
    ("cas", "message"),
    [
        ("CAS*CO*45~", "CAS03 is missing: adjustment reason 45 has no amount"),
        ("CAS*CO~", "CAS02 is missing"),
        ("CAS**45*10~", "CAS01 is missing"),
        ("CAS*XX*45*10~", "CAS01 'XX' is not a claim adjustment group code"),
        ("CAS*CO*45*ten~", "CAS03 is not a number ('ten')"),
        (
            "CAS*CO*45*10***5.00~",
            "CAS05 is missing: an adjustment amount is given without its reason",
        ),
    ],
)
def test_cas_errors(cas, message):
    text = REMITTANCE.replace("CAS*PR*2*19.50~", cas)
    (skipped,) = parse_835(text, "r.835").skipped
    assert skipped.error.describe() == f"r.835: segment 25 (CAS): {message}"


def test_not_x12_at_all():
    with pytest.raises(X12Error, match=r"^notes\.txt: file does not start with ISA, GS or ST"):
        read_document("hello", "notes.txt")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (PROFESSIONAL, "837P"),
        (REMITTANCE, "835"),
        ("\ufeff" + PROFESSIONAL.replace("~\n", "~\r\n"), "837P"),
        (PROFESSIONAL.replace("005010X222A1", "005010X223A3"), "837I"),
        (PROFESSIONAL.replace("005010X222A1", "").replace("11:B:1", "13:A:1"), "837I"),
        ('{"claim_id": "A1"}\n{"claim_id": "A2"}\n', "jsonl"),
        ("claim_id,patient_id\n", "unknown"),
        ("ISA*00*x~GS*FA*1~ST*999*0001~", "unknown"),
    ],
)
def test_sniff(text, kind):
    assert sniff(text) == kind


@pytest.mark.parametrize(
    ("data", "text"),
    [
        ("PAYÉ “X1”".encode(), "PAYÉ “X1”"),
        ("\ufeffPAYÉ".encode(), "PAYÉ"),
        ("PAYÉ “X1”".encode("cp1252"), "PAYÉ “X1”"),  # Excel's plain "CSV" on Windows
        ("PAYÉ".encode("utf-16"), "PAYÉ"),  # Excel's "Unicode text", with its byte order mark
        (b"PAY\xc9 \x81", "PAYÉ \x81"),  # a byte Windows-1252 leaves undefined: Latin-1
    ],
)
def test_file_bytes_decode_in_the_encodings_practices_send(data: bytes, text: str):
    assert decode(data) == text
