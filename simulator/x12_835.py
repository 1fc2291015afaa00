"""Contract ``outcomes`` (+ ``claims`` for charges) -> 835 (005010X221A1) text.

One transaction set per (adjudication date, payer): BPR16 and DTM*405 carry the date. Every
adjustment is written as a claim-level CAS in list order (consecutive codes of one group share
a segment, at most six triplets), so it reads back in the same order. Remarks go to MOA03-07;
beyond five, the rest ride as LQ*HE on one service line.

What X12 cannot carry from ``outcomes`` alone: adjustment amounts and line attribution (the
contract keeps neither). The writer spreads CLP03 - CLP04 over the adjustments so that the
claim balances; without a ``claims`` row, CLP03 is the paid amount.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pandas as pd

from features.x12.codes import PLAN_FILING_INDICATOR
from features.x12.segments import paused_gc
from simulator.x12_envelope import (
    Parties,
    d8,
    interchange,
    money,
    present,
    records,
    segment,
)

GUIDE = "005010X221A1"


def _listed(value: object) -> list[str]:
    if value is None or (isinstance(value, float) and value != value):
        return []
    if isinstance(value, str):
        return [v for v in value.split("|") if v]
    return [str(v) for v in value]  # type: ignore[attr-defined]


def _spread(total: float, parts: int) -> list[float]:
    """``total`` in ``parts`` cent-exact shares, the remainder on the last."""
    if parts == 0:
        return []
    cents = round(total * 100)
    share = int(cents / parts)
    shares = [share] * parts
    shares[-1] += cents - share * parts
    return [s / 100 for s in shares]


def _cas_segments(codes: list[str], amounts: list[float]) -> list[str]:
    out: list[str] = []
    batch: list[str] = []
    group = ""
    for code, value in zip(codes, amounts, strict=True):
        code_group, _, reason = code.partition("-")
        if batch and (code_group != group or len(batch) == 18):
            out.append(segment("CAS", group, *batch))
            batch = []
        group = code_group
        batch += [reason, money(value), ""]
    if batch:
        out.append(segment("CAS", group, *batch))
    return out


def _claim_segments(
    outcome: dict[str, Any], claim: dict[str, Any] | None, number: int
) -> list[str]:
    paid = float(outcome["paid_amount"])
    charge = float(claim["total_charge"]) if claim else paid
    filing = PLAN_FILING_INDICATOR[claim["plan_type"]] if claim else "ZZ"
    frequency = claim["frequency_code"] if claim else ""
    codes = _listed(outcome.get("adjustments"))
    remarks = _listed(outcome.get("remark_codes"))
    out = [
        segment(
            "CLP",
            outcome["claim_id"],
            outcome["claim_status_code"],
            money(charge),
            money(paid),
            "",
            filing,
            f"PCN{number:010d}",
            "",
            frequency,
        ),
        *_cas_segments(codes, _spread(charge - paid, len(codes))),
    ]
    member = claim["member_id"] if claim else ""
    out.append(segment("NM1", "QC", "1", "PATIENT", "", "", "", "", "MI" if member else "", member))
    if remarks:
        out.append(segment("MOA", "", "", *remarks[:5]))
    if len(remarks) > 5:
        out.append(segment("SVC", "HC:99499", money(charge), money(paid)))
        out += [segment("LQ", "HE", r) for r in remarks[5:]]
    return out


def _transactions(
    outcomes: list[dict[str, Any]], claims: dict[str, dict[str, Any]]
) -> Iterator[list[str]]:
    batches: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for outcome in outcomes:
        claim = claims.get(str(outcome["claim_id"]))
        payer = str(claim["payer_id"]) if claim else "UNKNOWN"
        batches.setdefault((d8(outcome["adjudication_date"]), payer), []).append(outcome)
    number = 0
    for (date, payer), batch in sorted(batches.items()):
        total = sum(float(o["paid_amount"]) for o in batch)
        first = claims.get(str(batch[0]["claim_id"]))
        payee = str(first["billing_npi"]) if first else "0000000000"
        body = [
            segment(
                "BPR",
                "I" if total > 0 else "H",
                money(max(total, 0.0)),
                "C",
                "NON",
                *[""] * 11,
                date,
            ),
            segment("TRN", "1", f"{date}{len(batch):06d}", "1000000000"),
            segment("DTM", "405", date),
            segment("N1", "PR", f"PAYER {payer}"[:60]),
            segment("N3", "UNKNOWN"),
            segment("N4", "UNKNOWN", "XX", "000000000"),
            segment("REF", "2U", payer),
            segment("PER", "BL", "PAYER", "TE", "0000000000"),
            segment("N1", "PE", "PAYEE", "XX", payee),
            segment("LX", "1"),
        ]
        for outcome in batch:
            number += 1
            body += _claim_segments(outcome, claims.get(str(outcome["claim_id"])), number)
        yield body


def write_835(
    outcomes: pd.DataFrame,
    claims: pd.DataFrame | None = None,
    *,
    parties: Parties | None = None,
    created: dt.datetime | None = None,
    control: int = 1,
) -> str:
    """835 text for an ``outcomes`` table; ``claims`` supplies CLP03, CLP06, CLP09 and payer."""
    with paused_gc():
        rows = records(outcomes)
        by_id = {str(c["claim_id"]): c for c in records(claims)} if claims is not None else {}
        if created is None:
            dates = [d8(o["adjudication_date"]) for o in rows if present(o["adjudication_date"])]
            created = dt.datetime.strptime(max(dates, default="20000101") + "1800", "%Y%m%d%H%M")
        return interchange(
            _transactions(rows, by_id),
            functional_code="HP",
            guide=GUIDE,
            parties=parties or Parties(),
            created=created,
            control=control,
        )
