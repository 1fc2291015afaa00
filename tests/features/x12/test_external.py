"""Every real X12 file under ../shared/external is read, and agrees with what is known of it:
the counts PROVENANCE.md lists, and the golden CSVs of edi-835-parser."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from features.labels import label_outcomes
from features.tables import normalize_table
from features.x12 import UnsupportedTransaction, ingest, read_835, read_837p, read_document
from features.x12.claims837 import ICD9_PROBLEM
from features.x12.remits835 import OUTCOME_COLUMNS, RemitClaim
from tests.features.x12.helpers import EDI835, EXTERNAL, needs_external

pytestmark = needs_external


@dataclass(frozen=True)
class Listed:
    """One file row of PROVENANCE.md and the counts its columns state."""

    path: Path
    kind: str
    claims: int
    notable: str

    def count(self, label: str) -> int:
        found = re.search(rf"{label}×(\d+)", self.notable)
        return int(found.group(1)) if found else 0

    def pairs(self, label: str) -> Counter[str]:
        found = re.search(rf"{label} ((?:[\w-]+:\d+ ?)+)", self.notable)
        if not found:
            return Counter()
        return Counter({k: int(v) for k, v in (p.split(":") for p in found.group(1).split())})


def listed_files() -> list[Listed]:
    text = (EXTERNAL / "PROVENANCE.md").read_text() if EXTERNAL.exists() else ""
    rows, local = [], None
    for line in text.splitlines():
        where = re.match(r"- Local dir: `shared/external/([^`]+)`", line)
        if where:
            local = EXTERNAL / where.group(1)
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if local is None or len(cells) != 5 or not cells[0].startswith("`"):
            continue
        kind = cells[2].split(" /")[0]
        if kind in ("837P", "837I", "835"):
            path = local / cells[0].strip("`")
            rows.append(Listed(path, kind, int(cells[3]), cells[4]))
    return rows


LISTED = listed_files()


def of_kind(kind: str) -> list[Listed]:
    return [f for f in LISTED if f.kind == kind]


def test_provenance_lists_every_x12_file_on_disk():
    on_disk = {p for p in EXTERNAL.rglob("*") if p.suffix in (".837", ".835", ".837i", ".txt")}
    assert on_disk == {f.path for f in LISTED}
    assert Counter(f.kind for f in LISTED) == {"837P": 18, "837I": 4, "835": 8}


@pytest.mark.parametrize("listed", of_kind("837P"), ids=lambda f: f.path.name)
def test_837p_claims_and_service_lines_as_listed(listed):
    parsed = read_837p(listed.path)
    assert not parsed.skipped
    assert len(parsed.claims) == listed.claims
    assert len(parsed.claim_lines) == listed.count("SV1")
    claims = parsed.claims
    assert claims["billing_npi"].str.fullmatch(r"\d{10}").all()
    assert claims["member_id"].notna().all() and claims["payer_id"].notna().all()
    assert claims["diagnosis_codes"].map(len).ge(1).all()
    assert claims["service_date"].notna().all() and claims["submission_date"].notna().all()
    # 2300 NM1*82 only: a 2330D other-payer NM1*82 (no NPI) never becomes the rendering NPI
    assert claims["rendering_npi"].isna().sum() + claims["rendering_npi"].str.fullmatch(
        r"\d{10}"
    ).sum() == len(claims)


@pytest.mark.parametrize("listed", of_kind("837I"), ids=lambda f: f.path.name)
def test_837i_is_recognised_and_not_supported(listed):
    with pytest.raises(UnsupportedTransaction) as error:
        read_837p(listed.path)
    assert error.value.kind == "837I"
    assert "837I is not supported" in str(error.value)
    assert str(error.value).startswith(listed.path.name)


@pytest.mark.parametrize("listed", of_kind("835"), ids=lambda f: f.path.name)
def test_835_payments_adjustments_and_remarks_as_listed(listed):
    remits = read_835(listed.path)
    assert not remits.skipped
    claims = remits.claims
    assert len(claims) == listed.claims
    assert sum(len(c.lines) for c in claims) == listed.count("SVC")
    assert Counter(c.status for c in claims) == listed.pairs("CLP02")
    assert Counter(a.code for c in claims for a in c.all_adjustments()) == listed.pairs("CAS")
    assert Counter(r for c in claims for r in c.all_remarks()) == listed.pairs("RARC")


def test_the_specific_details_of_the_samples():
    medicare = read_835(
        EXTERNAL / "LinuxForHealth__x12/src/tests/resources/835_005010X221A1/medicare-part-a.835"
    )
    assert [c.remark_codes for c in medicare.claims] == [[], ["MA02"]]  # MOA03
    managed = read_835(
        EXTERNAL / "LinuxForHealth__x12/src/tests/resources/835_005010X221A1/managed-care.835"
    )
    assert str(managed.claims[0].adjudication_date) == "2002-03-14"  # DTM*405; BPR16 is not a date
    assert managed.warnings == [
        "managed-care.835: segment 4 (BPR): BPR16 is not a date CCYYMMDD; "
        "DTM*405 is used when present"
    ]
    example9 = read_837p(
        EXTERNAL / "LinuxForHealth__x12/src/tests/resources/837_005010X222A2/demo.example9.837"
    )
    assert example9.claim_lines["diagnosis_pointers"].tolist() == [[1]]  # SV107 '1.00'
    assert any("written as a decimal" in w for w in example9.warnings)
    cob = read_837p(
        EXTERNAL
        / "LinuxForHealth__x12/src/tests/resources/837_005010X222A2/demo.cob.example3.C.837"
    )
    row = cob.claims.iloc[0]
    # 2010BA/2010BB, not the other payer's 2330A/2330B names that follow the claim
    assert (row["member_id"], row["payer_id"], row["plan_type"]) == (
        "22233444",
        "567890",
        "commercial",
    )
    assert row["rendering_npi"] == "1999996666"


# --- the golden CSVs of edi-835-parser ------------------------------------------------------


def golden(name: str) -> pd.DataFrame:
    return pd.read_csv(EDI835 / "output" / f"{name}.csv", dtype=str, keep_default_na=False)


def golden_adjustments(row: pd.Series) -> list[tuple[str, str, float]]:
    found = []
    for k in range(6):
        group = row.get(f"adj_{k}_group", "")
        if group:
            found.append((group, row[f"adj_{k}_code"], float(row[f"adj_{k}_amount"])))
    return found


def number(text: str) -> float | None:
    return float(text) if text else None


GOLDEN = ["blue_cross_nc_sample", "emedny_sample", "united_healthcare_legacy_sample"]


@pytest.mark.parametrize("name", GOLDEN)
def test_service_lines_match_the_golden_csv(name):
    """Line by line: code, modifier, charge, paid, adjustments and remarks.

    edi-835-parser keeps only the first triplet of each CAS segment; ours keeps all six, so
    the golden adjustments are compared with our first triplets, and the extra triplets are
    shown to be real by the line balance (charge - paid = sum of the line's adjustments).
    """
    expected = golden(name)
    claims = read_835(EDI835 / "test_edi_835_files" / f"{name}.txt").claims
    lines = [line for claim in claims for line in claim.lines]
    assert len(lines) == len(expected)
    for line, (_, row) in zip(lines, expected.iterrows(), strict=True):
        assert line.procedure_code == row["code"]
        assert (line.modifiers[:1] or [""])[0] == row["modifier"]
        assert line.charge == number(row["charge_amount"])
        assert line.paid == number(row["paid_amount"])
        firsts = [(a.group, a.reason, a.amount) for a in line.adjustments if a.triplet == 1]
        assert firsts == golden_adjustments(row)
        assert (line.remark_codes[:1] or [""])[0] == row.get("rem_0_code", "")
        if line.charge is not None and line.paid is not None:
            total = sum(a.amount for a in line.adjustments)
            assert round(line.charge - line.paid - total, 2) == 0


@pytest.mark.parametrize("name", GOLDEN)
def test_claims_match_the_golden_csv(name):
    """Per claim: the multiset of GROUP-CARC codes and the paid amount."""
    expected = golden(name)
    claims: list[RemitClaim] = read_835(EDI835 / "test_edi_835_files" / f"{name}.txt").claims
    owner = [i for i, claim in enumerate(claims) for _ in claim.lines]
    expected = expected.assign(claim=owner)
    for index, claim in enumerate(claims):
        rows = expected[expected["claim"] == index]
        golden_codes = Counter(
            f"{g}-{c}" for _, row in rows.iterrows() for g, c, _ in golden_adjustments(row)
        )
        later_triplets = Counter(a.code for a in claim.all_adjustments() if a.triplet > 1)
        assert Counter(a.code for a in claim.all_adjustments()) == golden_codes + later_triplets
        assert round(sum(number(p) or 0.0 for p in rows["paid_amount"]), 2) == claim.paid
        assert set(rows["marker"]) == {claim.claim_id}


def test_only_the_uhc_sample_has_a_second_triplet():
    claims = read_835(EDI835 / "test_edi_835_files" / "united_healthcare_legacy_sample.txt").claims
    extra = [
        (c.claim_id, a.code, a.amount) for c in claims for a in c.all_adjustments() if a.triplet > 1
    ]
    assert extra == [("001-18604-358", "PR-1", 110.0)]


# --- labels -------------------------------------------------------------------------------


def test_denial_labels_of_every_real_payment():
    frames = [read_835(f.path).outcome_rows() for f in of_kind("835")]
    rows = pd.concat(frames, ignore_index=True)
    outcomes = normalize_table("outcomes", rows[OUTCOME_COLUMNS])
    assert not outcomes.issues
    labels = label_outcomes(outcomes.frame)
    denied = labels.labels[labels.labels["denied"]]
    # Only eMedNY's second payment is a denial: CO-29 on both lines, timely filing.
    assert denied["denial_category"].tolist() == ["timely_filing"]
    assert denied["denial_carc"].tolist() == ["29"]
    assert rows.loc[denied.index, "source"].tolist() == ["emedny_sample.txt"]
    assert labels.unlisted_carcs == Counter({"251": 2})  # CO-251 is not in the category table


def test_ingest_of_every_real_file_counts_what_it_cannot_use(tmp_path):
    claims = [f.path for f in LISTED if f.kind in ("837P", "837I")]
    remits = [f.path for f in of_kind("835")]
    report = ingest(claims, remits, tmp_path / "history")
    assert len(report.unsupported_837i) == 4
    # demo.example6.837 and demo.cob.2ndary.example4.837 are the same bytes
    assert report.files_already_ingested == 1
    assert report.files_read == 17 + 8
    assert report.claims_read == 17
    # The TR3 examples predate ICD-10: every claim is skipped for its ICD-9 codes, counted.
    assert report.skipped[ICD9_PROBLEM] == 17
    assert report.claims_added == 0
    assert report.remits_read == 14 and report.unmatched_remits == 14
    for listed in LISTED:
        read_document(listed.path.read_text(), listed.path.name)  # every file reads
