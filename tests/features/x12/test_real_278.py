"""Real 278 responses nobody here wrote (the X12 TR3 examples 1b, 2b and 3b of 005010X217, as
shipped with the OopFactory X12 parser's tests): ingest gives the contract's ``authorizations``
rows field by field, and what it cannot use is counted or skipped with its segment."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from features.history import load_history
from features.x12 import ingest
from features.x12.auth278 import read_278
from features.x12.context import read_claims_with_context
from tests.features.x12.helpers import FIXTURES

OOP = FIXTURES / "Inteligenz__X12Parser"
REFERRAL = OOP / "Example_3_1_2_Response.txt"  # 1b: a consultation referral certified
ADMISSION = OOP / "Example_3_2_2_Response.txt"  # 2b: an admission modified, its surgery certified
PENDED = OOP / "Example_3_3_2_Response.txt"  # 3b: an admission review pended
REAL_278 = [REFERRAL, ADMISSION, PENDED]


def test_certified_surgery_of_an_admission_field_by_field():
    """BOM, indented lines and a GS08 of another guide (005010X279) around ST03 005010X217."""
    parsed = read_278(ADMISSION)
    assert parsed.skipped == [] and parsed.warnings == []
    [row] = parsed.authorizations.to_dict("records")
    assert row["auth_number"] == "AUTH0002"  # the service's HCR02
    assert row["payer_id"] == "789312"  # NM1*X3 NM109
    assert row["member_id"] == "12345678901"  # NM1*IL NM109
    assert row["procedure_codes"] == ["33510"]  # SV2**HC:33510 (no revenue code)
    assert row["start_date"] == row["end_date"] == dt.date(2005, 5, 16)  # the service's DTP*472
    assert row["provider_npi"] is None  # NM1*SJ and NM1*1P carry an SSN (34), not an NPI (XX)
    assert row["units"] is None  # the event's HSD*DY*5 is days in hospital, not surgery units
    assert row["segment"] == 11  # the event's HL
    assert parsed.decisions == {"A1": 1}  # the service's decision (the event's is A6)


def test_a_referral_certified_for_a_service_type_has_no_code_to_authorise():
    parsed = read_278(REFERRAL)
    assert parsed.authorizations.empty
    [skipped] = parsed.skipped
    assert skipped.error.describe().startswith("Example_3_1_2_Response.txt: segment 11 (HL)")
    assert "no service (SV1/SV2/SV3)" in skipped.error.describe()


def test_a_pended_review_authorises_nothing_and_is_counted():
    parsed = read_278(PENDED)
    assert parsed.authorizations.empty and parsed.skipped == []
    assert parsed.decisions == {"A4": 1}  # HCR*A4**0U


def test_ingest_of_the_real_278s_and_reingest_adds_nothing(tmp_path):
    out = tmp_path / "history"
    report = ingest([], [], out, auths_278=REAL_278)
    assert (report.files_read, report.authorizations_added) == (3, 1)
    assert report.review_decisions == {"A1": 1, "A4": 1}
    assert report.skipped_total == 1  # the referral without a procedure code
    [row] = load_history(out).authorizations.to_dict("records")
    assert row["auth_number"] == "AUTH0002" and list(row["procedure_codes"]) == ["33510"]
    assert (row["payer_id"], row["member_id"]) == ("789312", "12345678901")
    assert pd.Timestamp(row["start_date"]).date() == dt.date(2005, 5, 16)
    stored = pd.read_parquet(out / "authorizations.parquet")
    again = ingest([], [], out, append=True, auths_278=REAL_278)
    assert (again.files_already_ingested, again.files_read, again.authorizations_added) == (3, 0, 0)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "authorizations.parquet"), stored)


def test_a_real_278_concatenated_after_an_837p_gives_its_member_the_authorization():
    """``cat claims.837 auths.278``: the 278 file's BOM lands mid-body, between interchanges."""
    claims = (FIXTURES / "professional.837").read_text()  # its first claim made the 278's member
    claims = claims.replace("MI*XGH448812", "MI*12345678901", 1).replace("PI*60054", "PI*789312", 1)
    body = claims + ADMISSION.read_text(encoding="utf-8")
    assert "\ufeffISA" in body
    found = read_claims_with_context(body, "body")
    assert (found.authorizations, found.problems) == (1, [])
    [authorization] = found.requests[0].claim.authorizations or []
    assert (authorization.auth_number, authorization.procedure_codes) == ("AUTH0002", ["33510"])
    assert all(r.claim.authorizations is None for r in found.requests[1:])  # other members
