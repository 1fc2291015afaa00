"""271 -> eligibility_checks and 278 -> authorizations: field by field, through ingest."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from features.history import load_history
from features.x12 import X12Error, ingest
from features.x12.auth278 import parse_278
from features.x12.eligibility271 import parse_271, read_271
from tests.features.x12.helpers import FIXTURES

LFH = FIXTURES / "LinuxForHealth__x12"
SUBSCRIBER = LFH / "subscriber-health-benefit-check.271"
DEPENDENT = LFH / "dependent-health-benefit-check.271"
REJECTED = LFH / "subscriber-health-benefit-check-error.271"
# A 5010 271 (ST03 005010X279A1) in a 4010 envelope (ISA12 00401, GS08 004010X092A1): ST03
# takes precedence over GS08, so it is read as the 5010 it is.
IMSWEB = FIXTURES / "imsweb__x12-parser" / "x271.txt"

_ISA = (
    "ISA*00*          *00*          *ZZ*PAYER          *ZZ*PROVIDER       *260916*1500*^*00501*"
    "000000404*0*T*:~GS*HI*PAYER*PROVIDER*20260916*1500*404*X*005010X217~"
)

# Written here (no licensed public 278 response was found; see tests/fixtures/x12/PROVENANCE.md):
# a knee arthroscopy certified for two codes, one event per member.
CERTIFIED_278 = (
    _ISA + "ST*278*0001*005010X217~BHT*0007*11*REQ9*20260916*1500*18~"
    "HL*1**20*1~NM1*X3*2*ACME HEALTH PLAN*****PI*ACME01~"
    "HL*2*1*21*1~NM1*1P*2*RIVERSIDE ORTHO*****XX*1234567893~"
    "HL*3*2*22*1~NM1*IL*1*DOE*JANE****MI*MEM88771~"
    "HL*4*3*EV*1~TRN*2*AUTHREQ-4471*1234567893~UM*HS*I*2~HCR*A1*AUTH-99120~"
    "DTP*AAH*RD8*20261001-20261229~HI*ABK:M2341~NM1*SJ*1*SMITH*ANN****XX*1679576722~"
    "HL*5*4*SS*0~SV1*HC:29881*450*UN*1~"
    "HL*6*4*SS*0~SV1*HC:29880*400*UN*1~"
    "SE*19*0001~GE*1*404~IEA*1*000000404~"
)
# A partial decision: the event certified with REF*BB as its number, one service not
# certified (A3), one pended (A4), and a dependent checked under the subscriber's id.
PARTIAL_278 = (
    _ISA + "ST*278*0002*005010X217~BHT*0007*11*REQ10*20260917*0900*18~"
    "HL*1**20*1~NM1*X3*2*OTHER PLAN*****PI*60054~"
    "HL*2*1*21*1~NM1*1P*2*VALLEY CLINIC*****XX*1497758544~"
    "HL*3*2*22*1~NM1*IL*1*ROE*RICHARD****MI*XGH448812~"
    "HL*4*3*23*1~NM1*QC*1*ROE*SAM~"
    "HL*5*4*EV*1~UM*HS*I*1~HCR*A1~REF*BB*PA77~DTP*472*D8*20261020~HSD*VS*6~"
    "HL*6*5*SS*0~SV1*HC:97110*120*UN*6~"
    "HL*7*5*SS*0~SV1*HC:97140*90*UN*4~HCR*A3**0B~"
    "HL*8*5*SS*0~SV1*HC:97530*90*UN*2~HCR*A4~"
    "SE*22*0002~GE*1*404~IEA*1*000000404~"
)


def test_subscriber_271_field_by_field():
    parsed = read_271(SUBSCRIBER)
    assert parsed.skipped == []
    [row] = parsed.checks.to_dict("records")
    assert row["member_id"] == "123456789"  # NM1*IL NM109
    assert row["payer_id"] == "841610001"  # NM1*PR NM109
    assert row["checked_on"] == dt.date(2006, 5, 1)  # BHT04
    assert row["status"] == "active"  # EB*1
    assert row["coverage_start"] == dt.date(2006, 1, 1)  # DTP*346
    assert row["coverage_end"] is None
    assert row["plan"] == "GOLD 123 PLAN"  # EB05
    assert row["segment"] == 9  # the subscriber's HL


def test_dependent_271_is_checked_under_the_subscribers_member_id():
    parsed = read_271(DEPENDENT)
    assert parsed.skipped == []  # the subscriber level only heads the dependent
    [row] = parsed.checks.to_dict("records")
    assert (row["member_id"], row["payer_id"], row["status"]) == (
        "123456789",
        "841610001",
        "active",
    )
    assert row["segment"] == 14  # the dependent's HL (23)
    assert row["coverage_start"] == dt.date(2006, 1, 1)


def test_a_request_rejected_before_any_member_is_skipped_with_its_aaa():
    parsed = read_271(REJECTED)
    assert parsed.checks.empty
    [skipped] = parsed.skipped
    assert "segment 9 (AAA)" in skipped.error.describe()
    assert "'50'" in skipped.error.describe()


def test_inactive_not_found_and_ranges():
    text = SUBSCRIBER.read_text()
    inactive = text.replace("EB*1*", "EB*6*").replace(
        "DTP*346*D8*20060101~", "DTP*291*RD8*20050101-20051231~"
    )
    row = parse_271(inactive, "inactive.271").checks.iloc[0]
    assert row["status"] == "inactive"
    assert (row["coverage_start"], row["coverage_end"]) == (
        dt.date(2005, 1, 1),
        dt.date(2005, 12, 31),
    )
    unknown = text.replace("DMG*D8*19630519*M~", "AAA*Y**75*C~")
    assert parse_271(unknown, "unknown.271").checks.iloc[0]["status"] == "not_found"


def version_4010(tmp_path: Path) -> Path:
    """The imsweb file as a 4010 translator writes it: no ST03, so GS08 (004010X092A1) rules."""
    path = tmp_path / "x271-4010.txt"
    path.write_text(IMSWEB.read_text().replace("ST*271*4321*005010X279A1~", "ST*271*4321~"))
    return path


def test_a_5010_st03_in_a_4010_envelope_is_read_as_5010():
    parsed = read_271(IMSWEB)
    assert parsed.skipped == []
    [row] = parsed.checks.to_dict("records")
    assert (row["member_id"], row["payer_id"], row["plan"]) == (
        "123456789",
        "842610001",
        "GOLD 123 PLAN",
    )
    assert (row["checked_on"], row["status"]) == (dt.date(2006, 5, 1), "active")
    assert (row["coverage_start"], row["coverage_end"]) == (dt.date(2006, 1, 1), None)


def test_wrong_version_names_the_segment(tmp_path):
    with pytest.raises(X12Error, match=r"segment 3 \(ST\).*004010X092A1.*not supported"):
        read_271(version_4010(tmp_path))


def test_truncated_271_names_the_segment():
    text = SUBSCRIBER.read_text()
    cut = text[: text.index("EB*L~")]
    with pytest.raises(X12Error, match=r"segment \d+ \(DTP|EB\).*truncated"):
        parse_271(cut, "cut.271")


def test_a_271_is_not_a_278():
    with pytest.raises(X12Error, match=r"\(ST\): ST01 is a 271 transaction set, not a 278"):
        parse_278(SUBSCRIBER.read_text(), "x.278")


def test_certified_278_field_by_field():
    parsed = parse_278(CERTIFIED_278, "certified.278")
    assert parsed.skipped == []
    [row] = parsed.authorizations.to_dict("records")
    assert row["auth_number"] == "AUTH-99120"  # HCR02
    assert (row["payer_id"], row["member_id"]) == ("ACME01", "MEM88771")
    assert row["procedure_codes"] == ["29881", "29880"]  # two SV1, one number: one row
    assert (row["start_date"], row["end_date"]) == (dt.date(2026, 10, 1), dt.date(2026, 12, 29))
    assert row["provider_npi"] == "1679576722"  # NM1*SJ, not the requester
    assert row["units"] == 1  # SV104
    assert parsed.decisions == {"A1": 2}


def test_partial_278_keeps_only_certified_services():
    parsed = parse_278(PARTIAL_278, "partial.278")
    [row] = parsed.authorizations.to_dict("records")
    assert row["auth_number"] == "PA77"  # REF*BB when HCR02 is empty
    assert row["member_id"] == "XGH448812"  # the dependent under the subscriber's id
    assert row["procedure_codes"] == ["97110"]
    assert row["start_date"] == row["end_date"] == dt.date(2026, 10, 20)  # DTP*472 D8
    assert row["provider_npi"] == "1497758544"  # the requester: no NM1*SJ
    assert row["units"] == 6
    assert parsed.decisions == {"A1": 1, "A3": 1, "A4": 1}


def test_a_certified_service_without_dates_is_skipped_naming_its_segment():
    parsed = parse_278(CERTIFIED_278.replace("DTP*AAH*RD8*20261001-20261229~", ""), "x.278")
    assert parsed.authorizations.empty
    assert parsed.skipped[0].error.describe().startswith("x.278: segment 17 (HL)")


def test_truncated_278_names_the_segment():
    cut = CERTIFIED_278[: CERTIFIED_278.index("HL*6")]
    with pytest.raises(X12Error, match=r"segment \d+ \(SV1\).*truncated"):
        parse_278(cut, "cut.278")


@pytest.fixture()
def context_files(tmp_path: Path) -> tuple[list[Path], list[Path]]:
    auths = []
    for name, text in (("a.278", CERTIFIED_278), ("b.278", PARTIAL_278)):
        (tmp_path / name).write_text(text)
        auths.append(tmp_path / name)
    return [SUBSCRIBER, DEPENDENT, REJECTED], auths


def test_ingest_writes_the_contract_tables_and_reingest_adds_nothing(tmp_path, context_files):
    checks, auths = context_files
    out = tmp_path / "history"
    report = ingest([], [], out, eligibility_271=checks, auths_278=auths)
    assert (report.files_read, report.checks_added, report.authorizations_added) == (5, 2, 2)
    assert report.skipped_total == 1  # the rejected request
    assert report.review_decisions == {"A1": 3, "A3": 1, "A4": 1}
    history = load_history(out)
    eligibility = history.eligibility_checks
    assert eligibility is not None and len(eligibility) == 2
    assert set(eligibility["status"]) == {"active"}
    authorizations = history.authorizations
    assert authorizations is not None
    assert sorted(authorizations["auth_number"]) == ["AUTH-99120", "PA77"]
    assert list(authorizations.set_index("auth_number").loc["AUTH-99120", "procedure_codes"]) == [
        "29881",
        "29880",
    ]
    before = {
        t: pd.read_parquet(out / f"{t}.parquet") for t in ("eligibility_checks", "authorizations")
    }
    again = ingest([], [], out, append=True, eligibility_271=checks, auths_278=auths)
    assert (again.files_already_ingested, again.files_read) == (5, 0)
    assert (again.checks_added, again.authorizations_added) == (0, 0)
    for table, frame in before.items():
        pd.testing.assert_frame_equal(pd.read_parquet(out / f"{table}.parquet"), frame)


def test_ingest_reports_a_wrong_version_file_and_keeps_the_others(tmp_path):
    report = ingest([], [], tmp_path / "h", eligibility_271=[version_4010(tmp_path), SUBSCRIBER])
    assert report.checks_added == 1
    assert "segment 3 (ST)" in report.files_failed["x271-4010.txt"]


def test_ingest_refuses_a_file_of_the_other_kind(tmp_path):
    report = ingest([], [], tmp_path / "h", auths_278=[SUBSCRIBER])
    assert report.files_failed == {SUBSCRIBER.name: "expected an 278 file, found 271"}


def test_the_ingest_command_takes_271_and_278_files(tmp_path, context_files):
    from typer.testing import CliRunner

    from cli import app

    checks, auths = context_files
    out = tmp_path / "history"
    args = ["ingest", "--out", str(out)]
    for path in checks:
        args += ["--eligibility-271", str(path)]
    for path in auths:
        args += ["--auths-278", str(path)]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "eligibility checks added" in result.output
    assert len(pd.read_parquet(out / "authorizations.parquet")) == 2
