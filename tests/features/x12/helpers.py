"""Shared paths and small inputs for the X12 tests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from features.tables import normalize_table

REPO = Path(__file__).resolve().parents[3]
EXTERNAL = REPO.parent / "shared" / "external"
FIXTURES = REPO / "tests" / "fixtures" / "x12"
LFH = EXTERNAL / "LinuxForHealth__x12" / "src" / "tests" / "resources"
EDI835 = EXTERNAL / "keironstoddart__edi-835-parser" / "tests"

needs_external = pytest.mark.skipif(
    not (EXTERNAL / "PROVENANCE.md").exists(),
    reason=f"real X12 samples not found at {EXTERNAL} (shared/external is outside the repo)",
)


def external(relative: str) -> Path:
    return EXTERNAL / relative


def history_tables() -> dict[str, pd.DataFrame]:
    """A small hand-made history in normalised form: every contract field in use."""
    claims = pd.DataFrame(
        {
            "claim_id": ["C1", "C2", "C3", "C4"],
            "patient_id": ["P1", "P2", "P3", "P1"],
            "member_id": ["M1", "M2", "M3", "M1"],
            "patient_birth_date": ["1960-01-02", "1985-07-30", "1990-05-06", "1960-01-02"],
            "patient_sex": ["F", "M", "M", "F"],
            "payer_id": ["00431", "60054", "04412", "87726"],
            "payer_name": ["STATE MEDICAID", "ACME HEALTH", "MEDICARE PART B", "WORKCOMP MUTUAL"],
            "plan_type": ["medicaid", "commercial", "medicare", "workers_comp"],
            "billing_npi": ["1234567893", "1234567893", "1497758544", "1234567893"],
            "rendering_npi": ["1679576722", "", "1679576722", ""],
            "place_of_service": ["02", "11", "11", "22"],
            "frequency_code": ["1", "1", "7", "1"],
            "service_date": ["2026-01-05", "2026-01-06", "2026-01-07", "2026-02-01"],
            "submission_date": ["2026-01-07", "2026-01-08", "2026-01-08", "2026-02-03"],
            "total_charge": ["120.00", "300", "80.5", "1234.56"],
            "prior_auth_number": ["", "PA1", "", "PA-77"],
            "referral_number": ["", "", "RF9", ""],
            "diagnosis_codes": ["M54.50|M51.26", "Z23", "I10", "S39.012A|M54.50|E11.9"],
            "has_attachment": ["false", "true", "false", "false"],
        }
    )
    lines = pd.DataFrame(
        {
            "claim_id": ["C1", "C1", "C2", "C3", "C4", "C4", "C4"],
            "line_number": ["1", "2", "1", "1", "1", "2", "3"],
            "procedure_code": ["99214", "72148", "90686", "93000", "97110", "97140", "J3301"],
            "modifiers": ["25", "", "", "", "GP|59", "GP|XU|KX|76", ""],
            "units": ["1", "1", "1", "1", "4", "2", "1.5"],
            "line_charge": ["40", "80", "300", "80.5", "600", "400.06", "234.50"],
            "diagnosis_pointers": ["1", "1|2", "1", "1", "1|2|3", "2", "1"],
            "service_date": [
                "2026-01-05",
                "2026-01-06",
                "2026-01-06",
                "2026-01-07",
                "2026-02-01",
                "2026-02-01",
                "2026-02-02",
            ],
        }
    )
    outcomes = pd.DataFrame(
        {
            "claim_id": ["C1", "C2", "C4"],
            "adjudication_date": ["2026-01-20", "2026-01-25", "2026-03-01"],
            "claim_status_code": ["4", "1", "1"],
            "paid_amount": ["0", "250", "900.12"],
            "adjustments": ["CO-197", "CO-45|PR-2", "CO-45|PR-1|PR-2|CO-59|OA-23|PI-97|CO-45"],
            "remark_codes": ["N54", "", "N130|M127|MA01|N20|N19|M80|N362"],
        }
    )
    return {
        name: normalize_table(name, frame).frame
        for name, frame in (("claims", claims), ("claim_lines", lines), ("outcomes", outcomes))
    }


def sorted_frame(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.sort_values(keys).reset_index(drop=True)


def assert_tables_equal(left: pd.DataFrame, right: pd.DataFrame, keys: list[str]) -> None:
    """Equal row for row after sorting by ``keys`` (lists compared as lists)."""
    a, b = sorted_frame(left, keys), sorted_frame(right, keys)
    assert list(a.columns) == list(b.columns)
    assert len(a) == len(b)
    for column in a.columns:
        for row, (x, y) in enumerate(zip(a[column].tolist(), b[column].tolist(), strict=True)):
            if isinstance(x, list) or isinstance(y, list):
                same = list(x) == list(y)
            elif pd.isna(x) or pd.isna(y):
                same = bool(pd.isna(x) and pd.isna(y))
            else:
                same = bool(x == y)
            if not same:
                where = dict(zip(keys, a.loc[row, keys], strict=True))
                raise AssertionError(f"{column} differs at {where}: {x!r} != {y!r}")


SUBSCRIBER_271 = FIXTURES / "LinuxForHealth__x12" / "subscriber-health-benefit-check.271"


def eligibility_271(member_id: str, payer_id: str, checked_on: str, status: str) -> str:
    """A real 271 (LinuxForHealth's subscriber example) answering for another member: its
    member id, payer id and date (BHT04, CCYYMMDD) replaced, EB*1 made EB*6 for inactive."""
    text = SUBSCRIBER_271.read_text()
    text = text.replace("PI*841610001~", f"PI*{payer_id}~").replace(
        "MI*123456789~", f"MI*{member_id}~"
    )
    text = text.replace("*20060501*1319~", f"*{checked_on}*1319~")
    text = text.replace("DTP*346*D8*20060101~", "DTP*346*D8*20200101~")
    return text.replace("EB*1*", "EB*6*") if status == "inactive" else text


def authorization_278(member_id: str, payer_id: str, codes: list[str], start: str, end: str) -> str:
    """A 278 response (written here: see tests/fixtures/x12/PROVENANCE.md) certifying ``codes``
    for the member with the payer from ``start`` to ``end`` (CCYYMMDD)."""
    services = "".join(f"HL*{5 + n}*4*SS*0~SV1*HC:{code}*100*UN*1~" for n, code in enumerate(codes))
    body = (
        "BHT*0007*11*REQ1*20260916*1500*18~HL*1**20*1~NM1*X3*2*PLAN*****PI*"
        f"{payer_id}~HL*2*1*21*1~NM1*1P*2*CLINIC*****XX*1234567893~HL*3*2*22*1~"
        f"NM1*IL*1*DOE*JANE****MI*{member_id}~HL*4*3*EV*1~UM*HS*I*2~HCR*A1*AUTH-{member_id}~"
        f"DTP*AAH*RD8*{start}-{end}~{services}"
    )
    count = body.count("~") + 2
    return (
        "ISA*00*          *00*          *ZZ*PAYER          *ZZ*PROVIDER       *260916*1500*^*"
        "00501*000000404*0*T*:~GS*HI*PAYER*PROVIDER*20260916*1500*404*X*005010X217~"
        f"ST*278*0001*005010X217~{body}SE*{count}*0001~GE*1*404~IEA*1*000000404~"
    )
