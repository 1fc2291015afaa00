"""837P -> claims, claim_lines and ClaimIn: each contract column from its loop and element."""

from __future__ import annotations

import datetime as dt

import pytest

from features.x12 import UnsupportedTransaction, parse_837p
from features.x12.claims837 import pseudonymous_patient_id
from features.x12.codes import plan_type
from tests.features.x12.helpers import FIXTURES

PROFESSIONAL = (FIXTURES / "professional.837").read_text()


@pytest.fixture(scope="module")
def parsed():
    return parse_837p(PROFESSIONAL, "professional.837")


def test_claims_keep_file_order_and_repeated_clm01(parsed):
    claims = parsed.claims
    assert claims["claim_id"].tolist() == ["A1001", "A1002", "A1001"]
    assert claims["frequency_code"].tolist() == ["1", "1", "7"]
    assert claims["segment"].tolist() == [21, 46, 58]
    assert parsed.claim_lines["claim_index"].tolist() == [0, 0, 1, 2]


def test_dependent_claim_reads_every_loop(parsed):
    row = parsed.claims.iloc[0]
    assert row["billing_npi"] == "1234567893"  # 2010AA NM1*85
    assert row["member_id"] == "XGH448812"  # 2010BA, not the 2330A other subscriber
    assert row["payer_id"] == "60054"  # 2010BB, not the 2330B other payer
    assert row["plan_type"] == "commercial"  # 2000B SBR09 CI, not the 2320 SBR09 MC
    assert (row["patient_birth_date"], row["patient_sex"]) == (dt.date(2015, 3, 9), "F")  # 2010CA
    assert row["patient_id"] == pseudonymous_patient_id("60054", "XGH448812", dt.date(2015, 3, 9))
    assert row["rendering_npi"] == "1679576722"  # 2310B; the 2330D NM1*82 has no NPI
    assert (row["place_of_service"], row["total_charge"]) == ("11", 420.0)
    assert (row["prior_auth_number"], row["referral_number"]) == ("PA99812", "RF123")
    assert row["diagnosis_codes"] == ["M5450", "M5126"]
    assert row["has_attachment"]  # PWK on line 2
    assert row["service_date"] == dt.date(2026, 10, 1)  # earliest DTP*472 of the lines
    assert row["submission_date"] == dt.date(2026, 2, 28)  # BHT04, not GS04


def test_lines_read_sv1_composites(parsed):
    lines = parsed.claim_lines
    first, second, third = (lines.iloc[i] for i in range(3))
    assert (first["line_number"], first["procedure_code"], first["modifiers"]) == (
        1,
        "99214",
        ["25"],
    )
    assert (first["line_charge"], first["units"], first["diagnosis_pointers"]) == (180.0, 1.0, [1])
    assert second["diagnosis_pointers"] == [1, 2]
    assert second["service_date"] == dt.date(2026, 10, 1)
    assert third["modifiers"] == ["95", "GT"]
    assert third["service_date"] == dt.date(2026, 2, 15)  # RD8: the start of the range


def test_subscriber_claim_uses_ref_ea_and_line_rendering(parsed):
    row = parsed.claims.iloc[1]
    assert row["patient_id"] == "MRN-77"  # REF*EA carried by the file
    assert row["rendering_npi"] == "1497758544"  # 2420A when there is no 2310B
    assert (row["patient_birth_date"], row["patient_sex"]) == (dt.date(1950, 1, 2), "M")
    assert row["plan_type"] == "medicare"
    assert not row["has_attachment"]


def test_patient_key_is_stable_and_pseudonymous():
    key = pseudonymous_patient_id("60054", "XGH448812", dt.date(2015, 3, 9))
    assert key == pseudonymous_patient_id("60054", "XGH448812", dt.date(2015, 3, 9))
    assert len(key) == 16 and "XGH" not in key
    assert key != pseudonymous_patient_id("60054", "XGH448812", dt.date(2016, 3, 9))  # sibling


@pytest.mark.parametrize(
    ("code", "plan"),
    [
        ("MB", "medicare"),
        ("MA", "medicare"),
        ("16", "medicare_advantage"),
        ("MC", "medicaid"),
        ("CH", "tricare"),
        ("WC", "workers_comp"),
        ("CI", "commercial"),
        ("BL", "commercial"),
        ("HM", "commercial"),
        ("12", "commercial"),
        ("15", "commercial"),
        ("VA", "other"),
        ("ZZ", "other"),
        ("", "other"),
    ],
)
def test_sbr09_plan_types(code, plan):
    assert plan_type(code) == plan
    text = PROFESSIONAL.replace("SBR*P*18*******MB~", f"SBR*P*18*******{code}~")
    assert parse_837p(text, "p.837").claims["plan_type"].iloc[1] == plan


def test_claim_requests_in_file_order(parsed):
    requests = parsed.claim_requests()
    assert [(r.position, r.claim_id, r.problem) for r in requests] == [
        (21, "A1001", None),
        (46, "A1002", None),
        (58, "A1001", None),
    ]
    claim = requests[0].claim
    assert claim is not None
    assert claim.diagnosis_codes == ["M5450", "M5126"]
    assert [line.procedure_code for line in claim.lines] == ["99214", "72148"]
    assert claim.eligibility is None  # context a file does not carry stays unknown


def test_claim_requests_report_contract_problems_and_skips():
    text = PROFESSIONAL.replace("CLM*A1002*95.50*", "CLM*A1002*lots*").replace(
        "NM1*85*2*TEST PRACTICE*****XX*1234567893", "NM1*85*2*TEST PRACTICE*****XX*12345"
    )
    requests = parse_837p(text, "p.837").claim_requests()
    assert [r.claim_id for r in requests] == ["A1001", "A1002", "A1001"]
    assert requests[1].problem == "p.837: segment 46 (CLM): CLM02 is not a number ('lots')"
    assert requests[0].problem is not None and requests[0].problem.startswith("billing_npi:")
    assert all(r.claim is None for r in requests)
    not_a_number = parse_837p(text.replace("*lots*", "*NaN*"), "p.837").claim_requests()
    assert not_a_number[1].problem == "p.837: segment 46 (CLM): CLM02 is not a number ('NaN')"


def test_line_without_sv1_skips_the_claim():
    text = PROFESSIONAL.replace("SV1*HC:99213:95:GT*95.50*UN*1***1~\n", "")
    parsed = parse_837p(text, "p.837")
    (skipped,) = parsed.skipped
    assert skipped.claim_id == "A1002"
    assert (
        skipped.error.describe()
        == "p.837: segment 49 (LX): SV1 is missing: the service line has no SV1"
    )


def test_bad_subscriber_date_skips_the_claims_under_it():
    parsed = parse_837p(PROFESSIONAL.replace("DMG*D8*19500102*M", "DMG*D8*19501302*M"), "p.837")
    assert parsed.claims["claim_id"].tolist() == ["A1001", "A1001"]
    assert parsed.skipped[0].error.describe() == (
        "p.837: segment 44 (DMG): DMG02 is not a date CCYYMMDD"
    )


def test_institutional_content_in_a_professional_envelope_is_refused():
    with pytest.raises(UnsupportedTransaction, match="CLM05-2 'A' is an institutional"):
        parse_837p(PROFESSIONAL.replace("02:B:1", "13:A:1"), "p.837")
    text = PROFESSIONAL.replace("SV1*HC:99213:95:GT*95.50*UN*1***1", "SV2*0450*HC:99213*95.50*UN*1")
    with pytest.raises(UnsupportedTransaction, match=r"segment 50 \(SV2\)"):
        parse_837p(text, "p.837")


def test_an_835_is_not_an_837():
    with pytest.raises(Exception, match="is a 835 transaction set, not an 837P"):
        parse_837p((FIXTURES / "remittance.835").read_text(), "r.835")
