"""Contract ``claims`` + ``claim_lines`` -> 837P (005010X222A1) text.

For round-trip tests and demos: what the contract carries is written where ``claims837`` reads
it back; what an 837P requires and the contract does not hold (names, addresses, tax id) is
filled with placeholders. ``patient_id`` travels as REF*EA (medical record number).

What X12 cannot carry exactly (read back differently):
- ``has_attachment`` unknown (empty) is written as no PWK and reads back ``False``;
- ``patient_sex`` unknown with a known birth date is written DMG03 ``U``; a sex without a birth
  date cannot be written (DMG02 is required) and reads back empty;
- a line ``service_date`` left empty is written with the claim's date (DTP*472 is required on
  every line) and reads back as that date;
- amounts are written with two decimals, units with three;
- the claims of one transaction set share one BHT04, so ``submission_date`` groups them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pandas as pd

from features.contract import normalize_diagnosis
from features.x12.codes import PLAN_FILING_INDICATOR
from features.x12.segments import paused_gc
from simulator.x12_envelope import (
    COMPONENT,
    Parties,
    d8,
    interchange,
    money,
    present,
    quantity,
    records,
    segment,
)

GUIDE = "005010X222A1"
MAX_CLAIMS_PER_TRANSACTION = 5000  # the TR3's recommended limit


def _lines_by_claim(lines: pd.DataFrame) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for line in records(lines):
        grouped.setdefault(str(line["claim_id"]), []).append(line)
    for claim_lines in grouped.values():
        claim_lines.sort(key=lambda ln: int(ln["line_number"]))
    return grouped


def _listed(value: object) -> list[Any]:
    if value is None or (isinstance(value, float) and value != value):
        return []
    if isinstance(value, str):
        return [v for v in value.split("|") if v]
    return list(value)  # type: ignore[call-overload]


def _claim_segments(
    claim: dict[str, Any], lines: list[dict[str, Any]], hl: int, parent: int
) -> list[str]:
    out = [
        segment("HL", hl, parent, "22", "0"),
        segment(
            "SBR", "P", "18", "", "", "", "", "", "", PLAN_FILING_INDICATOR[claim["plan_type"]]
        ),
        segment("NM1", "IL", "1", "MEMBER", "", "", "", "", "MI", claim["member_id"]),
        segment("N3", "UNKNOWN"),
        segment("N4", "UNKNOWN", "XX", "000000000"),
    ]
    birth, sex = claim.get("patient_birth_date"), claim.get("patient_sex")
    if present(birth):
        out.append(segment("DMG", "D8", d8(birth), sex if present(sex) else "U"))
    name = claim.get("payer_name")
    name = re.sub(r"[*~:^]", " ", str(name)) if present(name) else "PAYER"  # no delimiter in it
    out.append(segment("NM1", "PR", "2", name, "", "", "", "", "PI", claim["payer_id"]))
    place = f"{claim['place_of_service']}{COMPONENT}B{COMPONENT}{claim['frequency_code']}"
    out.append(
        segment(
            "CLM",
            claim["claim_id"],
            money(claim["total_charge"]),
            "",
            "",
            place,
            "Y",
            "A",
            "Y",
            "Y",
        )
    )
    if claim.get("has_attachment") is True:
        out.append(segment("PWK", "OZ", "AA"))
    for qualifier, column in (("9F", "referral_number"), ("G1", "prior_auth_number")):
        if present(claim.get(column)):
            out.append(segment("REF", qualifier, claim[column]))
    out.append(segment("REF", "EA", claim["patient_id"]))
    codes = [normalize_diagnosis(str(c)) for c in _listed(claim["diagnosis_codes"])]
    if codes:
        qualified = [f"ABK{COMPONENT}{codes[0]}"] + [f"ABF{COMPONENT}{c}" for c in codes[1:12]]
        out.append(segment("HI", *qualified))
    if present(claim.get("rendering_npi")):
        out.append(
            segment("NM1", "82", "1", "RENDERING", "", "", "", "", "XX", claim["rendering_npi"])
        )
    for line in lines:
        modifiers = [str(m) for m in _listed(line.get("modifiers"))][:4]
        procedure = COMPONENT.join(["HC", str(line["procedure_code"]), *modifiers])
        pointers = COMPONENT.join(str(int(p)) for p in _listed(line["diagnosis_pointers"])[:4])
        date = line.get("service_date")
        out += [
            segment("LX", int(line["line_number"])),
            segment(
                "SV1",
                procedure,
                money(line["line_charge"]),
                "UN",
                quantity(line["units"]),
                "",
                "",
                pointers,
            ),
            segment("DTP", "472", "D8", d8(date if present(date) else claim["service_date"])),
        ]
    return out


def _transactions(
    claims: list[dict[str, Any]], lines: dict[str, list[dict[str, Any]]], per_transaction: int
) -> Iterator[list[str]]:
    by_date: dict[str, list[dict[str, Any]]] = {}
    for claim in claims:
        by_date.setdefault(d8(claim["submission_date"]), []).append(claim)
    reference = 0
    for date in sorted(by_date):
        batch = by_date[date]
        for start in range(0, len(batch), per_transaction):
            reference += 1
            chunk = batch[start : start + per_transaction]
            body = [
                segment("BHT", "0019", "00", f"CR{reference:08d}", date, "1200", "CH"),
                segment("NM1", "41", "2", "CLAIMRISK", "", "", "", "", "46", "CLAIMRISK"),
                segment("PER", "IC", "CLAIMRISK", "TE", "0000000000"),
                segment("NM1", "40", "2", "RECEIVER", "", "", "", "", "46", "RECEIVER"),
            ]
            by_provider: dict[str, list[dict[str, Any]]] = {}
            for claim in chunk:
                by_provider.setdefault(str(claim["billing_npi"]), []).append(claim)
            hl = 0
            for npi, provider_claims in by_provider.items():
                hl += 1
                parent = hl
                body += [
                    segment("HL", hl, "", "20", "1"),
                    segment("NM1", "85", "2", "BILLING PROVIDER", "", "", "", "", "XX", npi),
                    segment("N3", "UNKNOWN"),
                    segment("N4", "UNKNOWN", "XX", "000000000"),
                    segment("REF", "EI", "000000000"),
                ]
                for claim in provider_claims:
                    hl += 1
                    body += _claim_segments(
                        claim, lines.get(str(claim["claim_id"]), []), hl, parent
                    )
            yield body


def write_837p(
    claims: pd.DataFrame,
    claim_lines: pd.DataFrame,
    *,
    parties: Parties | None = None,
    created: dt.datetime | None = None,
    control: int = 1,
    claims_per_transaction: int = MAX_CLAIMS_PER_TRANSACTION,
) -> str:
    """837P text for contract tables (raw CSV-like or normalised frames).

    One interchange, one functional group, one transaction set per submission date (split
    at ``claims_per_transaction``). ``created`` (ISA09/GS04) defaults to noon of the latest
    submission date, so the same tables always give the same text.
    """
    with paused_gc():
        rows = records(claims)
        if created is None:
            latest = max((d8(c["submission_date"]) for c in rows), default="20000101")
            created = dt.datetime.strptime(latest + "1200", "%Y%m%d%H%M")
        return interchange(
            _transactions(rows, _lines_by_claim(claim_lines), claims_per_transaction),
            functional_code="HC",
            guide=GUIDE,
            parties=parties or Parties(),
            created=created,
            control=control,
        )
