"""835 -> payments and outcome rows; which payment is a claim's first-pass outcome."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from features.labels import label_outcomes
from features.tables import normalize_table
from features.x12 import first_pass, parse_835
from features.x12.firstpass import OutcomeMatcher
from features.x12.remits835 import OUTCOME_COLUMNS
from tests.features.x12.helpers import FIXTURES

REMITTANCE = (FIXTURES / "remittance.835").read_text()


@pytest.fixture(scope="module")
def remits():
    return parse_835(REMITTANCE, "remittance.835")


def test_every_triplet_of_a_six_triplet_cas(remits):
    denied = remits.claims[0]
    assert [a.code for a in denied.adjustments] == [
        "CO-197",
        "CO-16",
        "CO-252",
        "CO-B7",
        "CO-18",
        "CO-204",
    ]
    assert [a.triplet for a in denied.adjustments] == [1, 2, 3, 4, 5, 6]
    assert denied.adjustments[2].quantity == 1.0
    assert sum(a.amount for a in denied.adjustments) == denied.charge - denied.paid


def test_remarks_from_moa_mia_and_lq(remits):
    assert remits.claims[0].all_remarks() == ["N54", "M127", "N130"]  # MOA03-04, then LQ*HE
    assert remits.claims[1].remark_codes == ["MA01", "MA02", "MA03"]  # MIA05, MIA20, MIA21


def test_outcome_rows_one_per_clp_in_file_order(remits):
    rows = remits.outcome_rows()
    assert rows["claim_id"].tolist() == ["A1001", "A1002", "A1002", "A1002", "UNKNOWN9"]
    assert rows["claim_status_code"].tolist() == ["4", "1", "22", "1", "1"]
    assert rows["paid_amount"].tolist() == [0.0, 76.0, -76.0, 80.0, 50.0]
    assert set(rows["adjudication_date"]) == {dt.date(2026, 10, 19)}  # DTM*405 over BPR16
    assert rows["adjustments"].iloc[1] == ["PR-2"]  # line-level CAS counts


def test_adjudication_date_falls_back_to_bpr16():
    text = REMITTANCE.replace("DTM*405*20261019~\n", "")
    assert parse_835(text, "r.835").claims[0].adjudication_date == dt.date(2026, 10, 21)


def test_no_adjudication_date_skips_the_claims_with_the_reason():
    text = REMITTANCE.replace("DTM*405*20261019~\n", "").replace("*20261021~", "~")
    remits = parse_835(text, "r.835")
    assert not remits.claims
    assert remits.skipped[0].error.describe() == (
        "r.835: segment 4 (BPR): no adjudication date: DTM*405 is absent and BPR16 is missing "
        "or not a date"
    )


def test_first_pass_keeps_the_original_and_counts_the_reversal_pair(remits):
    chosen = first_pass(remits.outcome_rows())
    assert chosen.outcomes["claim_id"].tolist() == ["A1001", "A1002", "UNKNOWN9"]
    assert chosen.outcomes["paid_amount"].tolist() == [0.0, 76.0, 50.0]  # not the 80.00
    assert chosen.counts == {"assigned": 3, "reversal": 1, "readjudication": 1}


def test_first_pass_label_of_the_denied_claim(remits):
    chosen = first_pass(remits.outcome_rows()).outcomes
    labels = label_outcomes(normalize_table("outcomes", chosen[OUTCOME_COLUMNS]).frame).labels
    assert labels["denied"].tolist() == [True, False, False]
    assert labels["denial_category"].iloc[0] == "authorization"  # first denial CARC: 197


def test_matcher_sends_later_payments_to_possible_duplicates():
    matcher = OutcomeMatcher()
    matcher.add_claim("X", "X", "1")
    matcher.add_claim("X", "X#2", "1")
    assert matcher.offer("X", "1") == ("assigned", "X")
    assert matcher.offer("X", "4") == ("assigned", "X#2")  # the duplicate's own (CO-18) payment
    assert matcher.offer("X", "1") == ("later", None)
    assert matcher.offer("Y", "1") == ("unmatched", None)


def test_matcher_reversal_before_any_original_consumes_the_readjudication():
    matcher = OutcomeMatcher()
    matcher.add_claim("X", "X", "1")
    assert matcher.offer("X", "22") == ("reversal", None)
    assert matcher.offer("X", "1") == ("readjudication", None)
    assert matcher.offer("X", "2") == ("assigned", "X")


def test_matcher_replacement_ignores_the_payment_of_the_original():
    matcher = OutcomeMatcher()
    matcher.add_claim("X", "X", "7")
    assert matcher.offer("X", "4", "1") == ("replaced_original", None)
    assert matcher.offer("X", "1", "7") == ("assigned", "X")


def test_first_pass_of_an_empty_frame():
    empty = pd.DataFrame(columns=["claim_id", "claim_status_code"])
    assert first_pass(empty).outcomes.empty
