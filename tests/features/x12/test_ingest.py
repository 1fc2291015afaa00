"""Ingest: idempotent by content, corrections replace, duplicates are flagged, nothing is lost."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from rich.table import Table

from features.history import load_history
from features.x12 import IngestError, ingest
from features.x12.ingest import ICD9_PROBLEM
from simulator.x12_835 import write_835
from simulator.x12_837 import write_837p
from tests.features.x12.helpers import FIXTURES, history_tables


def claims_file(folder: Path, name: str, claims: pd.DataFrame, lines: pd.DataFrame) -> Path:
    path = folder / name
    path.write_text(write_837p(claims, lines))
    return path


def remits_file(folder: Path, name: str, outcomes: pd.DataFrame, claims: pd.DataFrame) -> Path:
    path = folder / name
    path.write_text(write_835(outcomes, claims))
    return path


@pytest.fixture()
def tables():
    return history_tables()


@pytest.fixture()
def first(tmp_path, tables):
    """The hand-made history ingested once: (folder, claim file, remit file, report)."""
    c = claims_file(tmp_path, "a.837", tables["claims"], tables["claim_lines"])
    r = remits_file(tmp_path, "a.835", tables["outcomes"], tables["claims"])
    out = tmp_path / "history"
    return out, c, r, ingest([c], [r], out)


def test_output_is_a_history_in_the_contract_format(first):
    out, _, _, report = first
    history = load_history(out)
    assert (len(history.claims), len(history.claim_lines), len(history.outcomes)) == (4, 7, 3)
    schema = pq.read_schema(out / "claims.parquet")
    assert str(schema.field("place_of_service").type) == "string"
    assert str(schema.field("service_date").type) == "date32[day]"
    assert str(schema.field("diagnosis_codes").type) == "list<element: string>"
    assert str(pq.read_schema(out / "claim_lines.parquet").field("diagnosis_pointers").type) == (
        "list<element: int64>"
    )
    assert history.claims.set_index("claim_id").loc["C1", "place_of_service"] == "02"
    assert (report.files_read, report.claims_added, report.lines_added) == (2, 4, 7)
    assert (report.outcomes_added, report.skipped_total) == (3, 0)
    assert report.totals == {"claims": 4, "claim_lines": 7, "outcomes": 3}


def test_reingesting_the_same_files_adds_nothing(first):
    out, c, r, _ = first
    before = {
        t: pd.read_parquet(out / f"{t}.parquet") for t in ("claims", "claim_lines", "outcomes")
    }
    again = ingest([c], [r], out, append=True)
    assert again.files_already_ingested == 2 and again.files_read == 0
    assert (again.claims_added, again.lines_added, again.outcomes_added) == (0, 0, 0)
    for table, frame in before.items():
        pd.testing.assert_frame_equal(pd.read_parquet(out / f"{table}.parquet"), frame)
    manifest = json.loads((out / "_ingested.json").read_text())
    assert sorted(f["name"] for f in manifest["files"].values()) == ["a.835", "a.837"]


def test_an_existing_history_needs_append(first):
    out, c, r, _ = first
    with pytest.raises(
        IngestError, match="already holds claims, claim_lines, outcomes; pass append=True"
    ):
        ingest([c], [r], out)


def test_a_replacement_replaces_the_claim_its_lines_and_its_first_outcome(first, tables, tmp_path):
    out, _, _, _ = first
    claims = tables["claims"].iloc[[0]].copy()  # C1 was denied CO-197 (no authorization)
    claims["frequency_code"] = "7"
    claims["prior_auth_number"] = "PA-NEW"
    claims["total_charge"] = 40.0
    lines = tables["claim_lines"].iloc[[0]].copy()
    report = ingest([claims_file(tmp_path, "b.837", claims, lines)], [], out, append=True)
    assert (report.claims_replaced, report.claims_added, report.lines_added) == (1, 0, -1)
    assert report.outcomes_dropped_with_replacement == 1
    history = load_history(out)
    c1 = history.claims.set_index("claim_id").loc["C1"]
    assert (c1["prior_auth_number"], c1["frequency_code"], c1["total_charge"]) == (
        "PA-NEW",
        "7",
        40.0,
    )
    assert history.claim_lines[history.claim_lines["claim_id"] == "C1"]["line_number"].tolist() == [
        1
    ]
    assert "C1" not in set(history.outcomes["claim_id"])  # pending until its own payment
    paid = pd.DataFrame(
        {
            "claim_id": ["C1", "C1"],
            "adjudication_date": ["2026-02-10", "2026-02-11"],
            "claim_status_code": ["1", "1"],
            "paid_amount": [35.0, 36.0],
            "adjustments": [["CO-45"], ["CO-45"]],
            "remark_codes": [[], []],
        }
    )
    remits = remits_file(tmp_path, "b.835", paid, claims)
    report = ingest([], [remits], out, append=True)
    assert (report.outcomes_added, report.later_adjudications_ignored) == (1, 1)
    outcome = load_history(out).outcomes.set_index("claim_id").loc["C1"]
    assert outcome["paid_amount"] == 35.0


def test_a_replacement_in_the_same_file_keeps_only_the_replacement(tmp_path):
    out = tmp_path / "history"
    report = ingest([FIXTURES / "professional.837"], [FIXTURES / "remittance.835"], out)
    assert (report.claims_read, report.claims_added, report.claims_replaced) == (3, 2, 1)
    history = load_history(out)
    a1001 = history.claims.set_index("claim_id").loc["A1001"]
    assert (a1001["frequency_code"], a1001["prior_auth_number"]) == ("7", "PA99813")
    assert len(history.claim_lines[history.claim_lines["claim_id"] == "A1001"]) == 1
    # CLP09 = 1: the payer adjudicated the original, not this replacement
    assert report.replaced_original_adjudications == 1
    assert (report.reversals, report.readjudications_ignored) == (1, 1)
    assert report.unmatched_remits == 1  # UNKNOWN9 is parked
    assert history.outcomes["claim_id"].tolist() == ["A1002"]
    assert history.outcomes["paid_amount"].tolist() == [76.0]  # first pass, not the 80.00


def test_an_original_sent_again_is_a_flagged_possible_duplicate(first, tables, tmp_path):
    out, _, _, _ = first
    again = tables["claims"].iloc[[1]].copy()  # C2, frequency 1, sent a second time
    again["submission_date"] = pd.Timestamp("2026-01-20")
    lines = tables["claim_lines"][tables["claim_lines"]["claim_id"] == "C2"]
    report = ingest([claims_file(tmp_path, "dup.837", again, lines)], [], out, append=True)
    assert report.possible_duplicates == {"C2#2": "C2"}
    assert report.claims_added == 1
    denial = pd.DataFrame(
        {
            "claim_id": ["C2"],
            "adjudication_date": ["2026-02-01"],
            "claim_status_code": ["4"],
            "paid_amount": [0.0],
            "adjustments": [["CO-18"]],
            "remark_codes": [[]],
        }
    )
    ingest([], [remits_file(tmp_path, "dup.835", denial, again)], out, append=True)
    history = load_history(out)
    assert history.outcomes.set_index("claim_id").loc["C2#2", "adjustments"] == ["CO-18"]
    labels = history.labels.labels.set_index("claim_id")
    assert labels.loc["C2#2", "denial_category"] == "duplicate"
    assert not labels.loc["C2", "denied"]
    # the mapping survives: a third copy is #3
    again["submission_date"] = pd.Timestamp("2026-02-20")
    report = ingest([claims_file(tmp_path, "dup3.837", again, lines)], [], out, append=True)
    assert report.possible_duplicates == {"C2#3": "C2"}


def test_a_void_of_a_known_claim_changes_nothing(first, tables, tmp_path):
    out, _, _, _ = first
    void = tables["claims"].iloc[[3]].copy()
    void["frequency_code"] = "8"
    lines = tables["claim_lines"][tables["claim_lines"]["claim_id"] == "C4"]
    report = ingest([claims_file(tmp_path, "void.837", void, lines)], [], out, append=True)
    assert (report.voids, report.claims_added, report.claims_replaced) == (1, 0, 0)
    assert load_history(out).claims.set_index("claim_id").loc["C4", "frequency_code"] == "1"


def test_payments_before_their_claims_are_parked_then_matched(tmp_path, tables):
    out = tmp_path / "history"
    remits = remits_file(tmp_path, "early.835", tables["outcomes"], tables["claims"])
    report = ingest([], [remits], out)
    assert (report.outcomes_added, report.unmatched_remits) == (0, 3)
    assert (out / "_unmatched_remits.parquet").exists()
    claims = claims_file(tmp_path, "late.837", tables["claims"], tables["claim_lines"])
    report = ingest([claims], [], out, append=True)
    assert (report.parked_matched, report.outcomes_added, report.unmatched_remits) == (3, 3, 0)
    assert not (out / "_unmatched_remits.parquet").exists()
    assert len(load_history(out).outcomes) == 3


MISSING_MEMBER = (
    "claims patient_id: required value is missing; claims member_id: required value is missing"
)


def test_one_bad_claim_does_not_lose_the_others(tmp_path):
    text = (FIXTURES / "professional.837").read_text()
    broken = tmp_path / "broken.837"
    broken.write_text(
        text.replace("CLM*A1002*95.50*", "CLM*A1002*lots*").replace(
            "NM1*IL*1*POE*ED****MI*MA123~", "NM1*IL*1*POE*ED~"
        )
    )
    report = ingest([broken], [], tmp_path / "history")
    assert report.claims_read == 3 and report.claims_added == 1
    assert report.skipped == {
        "CLM: CLM02 is not a number ('lots')": 1,
        MISSING_MEMBER: 1,
    }
    assert report.skipped_examples == [
        "broken.837: segment 46 (CLM): CLM02 is not a number ('lots') [claim A1002]",
        f"broken.837: segment 58 (CLM): {MISSING_MEMBER} [claim A1001]",
    ]
    assert load_history(tmp_path / "history").claims["claim_id"].tolist() == ["A1001"]


def test_files_that_cannot_be_read_are_counted_and_can_come_back(tmp_path, tables):
    good = claims_file(tmp_path, "good.837", tables["claims"], tables["claim_lines"])
    text = good.read_text()
    cut = tmp_path / "cut.837"
    cut.write_text(text[: len(text) // 2])
    institutional = tmp_path / "inst.837"
    institutional.write_text(text.replace("005010X222A1", "005010X223A3"))
    out = tmp_path / "history"
    report = ingest([cut, institutional, good, FIXTURES / "remittance.835"], [], out)
    assert report.unsupported_837i == ["inst.837"]
    assert set(report.files_failed) == {"cut.837", "remittance.835"}
    assert "the file looks truncated" in report.files_failed["cut.837"]
    assert report.files_failed["remittance.835"] == "expected an 837P file, found 835"
    assert report.claims_added == 4
    cut.write_text(text.replace("C1", "C9"))  # fixed: a different file now
    again = ingest([cut], [], out, append=True)
    assert again.claims_added == 3  # C9, and C2 and C4 again: possible duplicates
    assert again.possible_duplicates == {"C2#2": "C2", "C4#2": "C4"}
    assert again.claims_replaced == 1  # C3 is a frequency 7


def test_icd9_claims_are_skipped_with_their_reason(tmp_path):
    text = (FIXTURES / "professional.837").read_text().replace("ABK:", "BK:").replace("ABF:", "BF:")
    path = tmp_path / "old.837"
    path.write_text(text)
    report = ingest([path], [], tmp_path / "history")
    assert report.skipped == {ICD9_PROBLEM: 3}


def test_report_renders(first):
    _, _, _, report = first
    assert isinstance(report.render(), Table)
    text = str(report)
    assert "claims added" in text and "outcomes added" in text
    assert "XGH" not in text  # no member ids


def test_first_pass_follows_adjudication_dates_not_file_order(tmp_path, tables):
    out = tmp_path / "history"
    claims = claims_file(tmp_path, "a.837", tables["claims"], tables["claim_lines"])

    def payment(date: str, status: str, adjustments: list[str]) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "claim_id": ["C2"],
                "adjudication_date": [date],
                "claim_status_code": [status],
                "paid_amount": [0.0 if status == "4" else 250.0],
                "adjustments": [adjustments],
                "remark_codes": [[]],
            }
        )

    late = remits_file(
        tmp_path, "late.835", payment("2026-03-01", "4", ["CO-18"]), tables["claims"]
    )
    early = remits_file(
        tmp_path, "early.835", payment("2026-01-25", "1", ["CO-45"]), tables["claims"]
    )
    report = ingest([claims], [late, early], out)
    assert (report.outcomes_added, report.later_adjudications_ignored) == (1, 1)
    assert load_history(out).outcomes.set_index("claim_id").loc["C2", "adjustments"] == ["CO-45"]


def test_a_clm01_that_looks_like_a_generated_duplicate_id_stays_unique(first, tables, tmp_path):
    out, _, _, _ = first
    c2 = tables["claims"].iloc[[1]].copy()
    lines = tables["claim_lines"][tables["claim_lines"]["claim_id"] == "C2"].copy()
    ingest([claims_file(tmp_path, "again.837", c2, lines)], [], out, append=True)  # C2#2
    c2["claim_id"], lines["claim_id"] = "C2#2", "C2#2"  # a PM system really sends "C2#2"
    report = ingest([claims_file(tmp_path, "odd.837", c2, lines)], [], out, append=True)
    assert report.possible_duplicates == {"C2#2#2": "C2#2"}
    assert load_history(out).claims["claim_id"].is_unique
