"""Contract tables -> 837P + 835 -> ingest -> the same tables (on what X12 carries)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from features.history import load_history
from features.x12 import ingest, parse_835, parse_837p, read_document, sniff
from simulator.x12_835 import write_835
from simulator.x12_837 import write_837p
from tests.features.x12.helpers import assert_tables_equal, history_tables

KEYS = {
    "claims": ["claim_id"],
    "claim_lines": ["claim_id", "line_number"],
    "outcomes": ["claim_id"],
}


def write_and_ingest(tables: dict[str, pd.DataFrame], folder: Path) -> Path:
    claims_file, remits_file = folder / "claims.837", folder / "remits.835"
    claims_file.write_text(write_837p(tables["claims"], tables["claim_lines"]))
    remits_file.write_text(write_835(tables["outcomes"], tables["claims"]))
    ingest([claims_file], [remits_file], folder / "history")
    return folder / "history"


def test_hand_made_history_round_trips_exactly(tmp_path):
    tables = history_tables()
    history = load_history(write_and_ingest(tables, tmp_path))
    for name, keys in KEYS.items():
        assert_tables_equal(history.table(name), tables[name], keys)


def test_written_envelopes_are_valid_and_counted():
    tables = history_tables()
    text = write_837p(tables["claims"], tables["claim_lines"], claims_per_transaction=1)
    document = read_document(text, "w.837")
    assert not document.warnings  # SE01, GE01, IEA01 and control numbers all agree
    assert len(document.transactions) == 4  # one per claim here; dates split them too
    assert sniff(text) == "837P"
    remit_text = write_835(tables["outcomes"], tables["claims"])
    assert not read_document(remit_text, "w.835").warnings
    assert sniff(remit_text) == "835"
    lines = text.splitlines()
    assert lines[0].startswith("ISA*00*") and len(lines[0]) == 106
    assert lines[-1] == "IEA*1*000000001~"


def test_writing_is_deterministic():
    tables = history_tables()
    assert write_837p(tables["claims"], tables["claim_lines"]) == write_837p(
        tables["claims"], tables["claim_lines"]
    )


def test_remarks_beyond_five_and_adjustment_order_survive():
    tables = history_tables()
    remits = parse_835(write_835(tables["outcomes"], tables["claims"]), "w.835")
    by_id = {c.claim_id: c for c in remits.claims}
    c4 = by_id["C4"]
    assert [a.code for a in c4.all_adjustments()] == [
        "CO-45",
        "PR-1",
        "PR-2",
        "CO-59",
        "OA-23",
        "PI-97",
        "CO-45",
    ]
    assert c4.all_remarks() == ["N130", "M127", "MA01", "N20", "N19", "M80", "N362"]
    assert round(sum(a.amount for a in c4.all_adjustments()), 2) == round(c4.charge - c4.paid, 2)


def test_what_x12_cannot_carry():
    tables = history_tables()
    claims, lines = tables["claims"].copy(), tables["claim_lines"].copy()
    claims.loc[0, "patient_sex"] = pd.NA  # birth date known: DMG03 must be written, as U
    claims.loc[1, ["patient_birth_date"]] = pd.NaT  # sex known but DMG02 is required
    claims.loc[2, "has_attachment"] = pd.NA  # unknown: no PWK, reads back False
    lines.loc[0, "service_date"] = pd.NaT  # DTP*472 is required on every line
    back = parse_837p(write_837p(claims, lines), "w.837")
    read = back.claims.set_index("claim_id")
    assert read.loc["C1", "patient_sex"] == "U"
    assert pd.isna(read.loc["C2", "patient_sex"])
    attachment = read.loc["C3", "has_attachment"]
    assert not pd.isna(attachment) and not attachment
    first = back.claim_lines.iloc[0]
    assert str(first["service_date"]) == "2026-01-05"  # the claim's service date


def _simulator_available() -> bool:
    if importlib.util.find_spec("simulator") is None:
        return False
    import simulator as simulator

    return hasattr(simulator, "simulate")


@pytest.mark.skipif(not _simulator_available(), reason="simulator.simulate not found")
def test_simulated_history_round_trips_on_what_x12_carries(tmp_path):
    from simulator import simulate

    simulate(tmp_path / "world", 2000, seed=11, requests=0)
    original = load_history(tmp_path / "world" / "history")
    folder = tmp_path / "x12"
    folder.mkdir()
    back = load_history(
        write_and_ingest(
            {name: original.table(name) for name in KEYS},
            folder,
        )
    )
    assert len(back.claims) == len(original.claims) == 2000
    expected_claims = original.claims.copy()
    # DMG: unknown sex with a known birth date is written U; sex without a birth date is lost.
    birth = expected_claims["patient_birth_date"].notna()
    sex = expected_claims["patient_sex"]
    expected_claims["patient_sex"] = sex.mask(birth & sex.isna(), "U").mask(~birth, pd.NA)
    expected_claims["has_attachment"] = expected_claims["has_attachment"].fillna(False)
    assert_tables_equal(back.claims, expected_claims, ["claim_id"])
    expected_lines = original.claim_lines.merge(
        original.claims[["claim_id", "service_date"]], on="claim_id", suffixes=("", "_claim")
    )
    expected_lines["service_date"] = expected_lines["service_date"].fillna(
        expected_lines.pop("service_date_claim")
    )
    assert_tables_equal(back.claim_lines, expected_lines, ["claim_id", "line_number"])
    assert_tables_equal(back.outcomes, original.outcomes, ["claim_id"])
    assert back.labels.labels["denied"].sum() == original.labels.labels["denied"].sum()
