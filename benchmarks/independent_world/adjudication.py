"""The payer's side: which edits a claim trips, with what probability, and the 835 it gets back.

Every cause is a fact about the claim (some hidden from the practice) with the probability that
the payer denies for it. Causes are independent given the facts, so the claim's true denial
probability is 1 - prod(1 - p). The 835 reports claim-level denials (front-end edits stop the
claim) or else every line-level edit that fired, in the payer's edit order.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from benchmarks.independent_world.catalog import (
    EM_CODES,
    FEES,
    LCD_SUPPORT,
    NCCI_PAIRS,
    PAYERS,
    PREVENTIVE,
    Payer,
)
from benchmarks.independent_world.encounters import age_on, supports
from benchmarks.independent_world.population import Enrollment
from benchmarks.independent_world.records import Cause, Claim

# contract section 3: CARC -> category (the denial set)
CATEGORY_BY_CARC: dict[str, str] = {
    **dict.fromkeys(["26", "27", "31", "32", "33", "140", "177", "200"], "eligibility"),
    **dict.fromkeys(["15", "39", "62", "197", "198", "243"], "authorization"),
    **dict.fromkeys(
        [
            "4",
            "5",
            "6",
            "7",
            "8",
            "9",
            "10",
            "11",
            "58",
            "97",
            "146",
            "151",
            "181",
            "182",
            "189",
            "236",
        ],
        "coding",
    ),
    **dict.fromkeys(["16", "163", "164", "226", "227", "252"], "documentation"),
    "29": "timely_filing",
    **dict.fromkeys(["170", "185", "242", "B7"], "credentialing"),
    "18": "duplicate",
    **dict.fromkeys(["50", "55", "56", "167"], "medical_necessity"),
    **dict.fromkeys(["19", "20", "21", "22", "109"], "coordination_of_benefits"),
    **dict.fromkeys(["35", "49", "96", "119", "149", "204"], "non_covered"),
    **dict.fromkeys(["13", "40", "188"], "other"),
}

ACUPUNCTURE_BACK = ("M54", "M51")
PT_YEAR_CAP = {"BCX10": 20, "AET20": 25}
RECORDS_REVIEW = {  # (payer, trigger) -> share of such claims the payer asks records for
    ("AET20", "99215"): 0.12,
    ("UHC30", "99215"): 0.12,
    ("MCR01", "20610"): 0.08,
    ("MA001", "20610"): 0.06,
    ("BCX10", "59"): 0.12,
    ("MCR01", "59"): 0.05,
    ("MA001", "70551"): 0.10,
    ("MA001", "70553"): 0.10,
    ("MCD77", "97530"): 0.10,
    ("MCR01", "99490"): 0.05,
}
GLITCH_WINDOW = ("AET20", 380, 420, 0.07)  # a claims-system migration: days into the history
# payers that report some denials under group OA (other adjustment) rather than CO
OA_GROUP = frozenset(
    {
        ("MCR01", "duplicate_resubmission"),
        ("BCX10", "duplicate_resubmission"),
        ("UHC30", "cob_other_primary"),
        ("TRI40", "cob_other_primary"),
    }
)
# payers whose 835 carries a fully denied claim as CLP02 1 with nothing paid
PAID_ZERO_STATUS = frozenset({"BCX10", "UHC30"})
TELEHEALTH_95 = frozenset({"UHC30", "MCD77", "AET20"})


@dataclass
class Ledger:
    """What the payers have processed so far (they see all practices' claims)."""

    paid: dict[tuple[str, str, str], list[date]] = field(default_factory=lambda: defaultdict(list))
    enrollments: dict[tuple[str, str], list[Enrollment]] = field(
        default_factory=lambda: defaultdict(list)
    )


def auth_list(payer: Payer, day: date, start: date) -> frozenset[str]:
    codes = payer.auth_codes
    if payer.auth_change and (day - start).days >= payer.auth_change[0]:
        codes = (codes | payer.auth_change[1]) - payer.auth_change[2]
    return codes


def filing_limit(payer: Payer, received: date, start: date) -> int:
    if payer.filing_change and (received - start).days >= payer.filing_change[0]:
        return payer.filing_change[1]
    return payer.filing_limit


def _enrolled(ledger: Ledger, npi: str, payer_id: str, day: date) -> bool:
    return any(
        e.effective <= day and (e.end is None or day < e.end)
        for e in ledger.enrollments[(npi, payer_id)]
    )


def _count_paid(ledger: Ledger, key: tuple[str, str, str], since: date, until: date) -> int:
    return sum(since <= d <= until for d in ledger.paid.get(key, []))


def evaluate(claim: Claim, ledger: Ledger, start: date) -> list[Cause]:
    """Every edit this claim trips, in the payer's edit order, with its denial probability."""
    payer = PAYERS[claim.coverage.payer_id]
    out: list[Cause] = []

    def add(name: str, p: float, claim_level: bool, line: int | None = None) -> None:
        carc, rarc = payer.dialect[name]
        out.append(Cause(name, p, carc, rarc, claim_level, line))

    cov, s = claim.coverage, claim.service_date
    patient = claim.patient
    if claim.typo_member:
        add("member_id_mismatch", 0.95, True)
    elif (cov.end is not None and s > cov.end) or s < cov.start:
        add("eligibility_terminated", 0.97, True)
    lag = (claim.receipt_date - s).days
    limit = filing_limit(payer, claim.receipt_date, start)
    if lag > limit:
        add("timely_filing", 0.96, True)
    first = claim.duplicate_of
    if first is not None:
        settled_denied = (
            first.denied and first.adjudicated_on and (first.adjudicated_on < claim.receipt_date)
        )
        add("duplicate_resubmission", 0.35 if settled_denied else 0.92, True)
    npi = claim.rendering_npi or claim.billing_npi
    if not _enrolled(ledger, npi, payer.payer_id, s):
        add("credentialing_gap", 0.93, True)
    if patient.other_primary is not None and cov is not patient.other_primary:
        add("cob_other_primary", 0.9, True)
    if payer.payer_id == "MCD77" and claim.rendering_npi is None:
        add("missing_rendering_npi", 0.9, True)
    glitch_payer, g0, g1, gp = GLITCH_WINDOW
    if payer.payer_id == glitch_payer and g0 <= (claim.receipt_date - start).days < g1:
        add("payer_system_glitch", gp, True)

    # authorization: one finding per claim, the first the payer's auth check meets
    required = auth_list(payer, s, start)
    for i, ln in enumerate(claim.lines):
        if ln.code not in required:
            continue
        auth = claim.line_auth.get(i)
        if auth is None:
            add("auth_missing", 0.92, False, i)
        elif auth.reversed_entry:
            add("auth_expired_or_window", 0.6, False, i)
        elif not auth.start <= s <= auth.end:
            add("auth_expired_or_window", 0.9, False, i)
        elif ln.code not in auth.codes:
            add("auth_other_codes", 0.85, False, i)
        elif payer.checks_auth_provider and auth.provider_npi != claim.provider_npi:
            add("auth_other_provider", 0.7, False, i)
        elif auth.units is not None and auth.used >= auth.units:
            add("auth_units_exhausted", 0.9, False, i)
        elif claim.auth_number_state != "ok":
            add(
                "auth_number_unmatched",
                0.7 if claim.auth_number_state == "mistyped" else 0.45,
                False,
                i,
            )
        else:
            continue
        break
    if (
        payer.payer_id == "TRI40"
        and patient.extra.get("prime") is not None
        and claim.referral_number is None
        and claim.specialty
    ):
        add("referral_missing", 0.85, False, 0)

    codes = [ln.code for ln in claim.lines]
    for col1, col2, mods in NCCI_PAIRS:
        if col1 not in codes:
            continue
        for i, ln in enumerate(claim.lines):
            hit = ln.code in EM_CODES if col2 == "EM" else ln.code == col2
            if hit and not mods & set(ln.modifiers):
                add("ncci_pair_modifier", 0.93, False, i)
    for i, ln in enumerate(claim.lines):
        mue = FEES[ln.code][1] * (2 if "50" in ln.modifiers else 1)
        if ln.units > mue:
            add("mue_units", 0.9, False, i)
    age = age_on(patient, s)
    medicare_like = payer.plan_type in ("medicare", "medicare_advantage")
    for i, ln in enumerate(claim.lines):
        band = PREVENTIVE.get(ln.code)
        if band and not medicare_like and not band[0] <= age <= band[1]:
            add("age_code_mismatch", 0.95, False, i)
        if (
            claim.place_of_service in ("02", "10")
            and ln.code in EM_CODES
            and payer.payer_id in TELEHEALTH_95
            and "95" not in ln.modifiers
        ):
            add("telehealth_modifier", 0.85, False, i)
        if (ln.code == "90471" and medicare_like) or (ln.code == "G0008" and not medicare_like):
            add("wrong_payer_code", 0.95, False, i)
    for i, ln in enumerate(claim.lines):
        if ln.code in LCD_SUPPORT:
            pointed = [claim.diagnoses[p - 1] for p in ln.pointers if p <= len(claim.diagnoses)]
            if not any(supports(ln.code, d) for d in pointed):
                add("diagnosis_not_supported", payer.enforces_lcd, False, i)
    for i, ln in enumerate(claim.lines):
        key = (payer.payer_id, cov.member_id, ln.code)
        exceeded = False
        if ln.code in PREVENTIVE and not medicare_like:
            exceeded = _count_paid(ledger, key, date(s.year, 1, 1), s) >= 1
        elif ln.code == "G0439":
            exceeded = _count_paid(ledger, key, s - timedelta(days=334), s) >= 1
        elif ln.code == "83036" and medicare_like:
            exceeded = _count_paid(ledger, key, s - timedelta(days=365), s) >= 4
        elif ln.code == "97110" and payer.payer_id in PT_YEAR_CAP:
            exceeded = (
                _count_paid(ledger, key, date(s.year, 1, 1), s) >= PT_YEAR_CAP[payer.payer_id]
            )
        if exceeded or (claim.seen_elsewhere and (ln.code in PREVENTIVE or ln.code == "G0439")):
            add("frequency_limit", 0.95, False, i)
    for i, ln in enumerate(claim.lines):
        if ln.code in PREVENTIVE and payer.plan_type == "medicare":
            add("non_covered_plan", 0.97, False, i)
        if ln.code == "97810":
            back = any(d.startswith(ACUPUNCTURE_BACK) for d in claim.diagnoses)
            if (
                payer.payer_id in ("MCD77", "TRI40")
                or (medicare_like and not back)
                or (payer.plan_type == "commercial" and patient.acupuncture_excluded)
            ):
                add("non_covered_plan", 0.95, False, i)
    review, reviewed = 0.0, 0
    for i, ln in enumerate(claim.lines):
        rate = RECORDS_REVIEW.get((payer.payer_id, ln.code), 0.0)
        if {"59", "XU", "XS"} & set(ln.modifiers):
            rate = max(rate, RECORDS_REVIEW.get((payer.payer_id, "59"), 0.0))
        if rate > review:
            review, reviewed = rate, i
    if review:
        p = review * claim.records_failure * (0.2 if claim.has_attachment else 1.0)
        add("records_request_unanswered", p, False, reviewed)
    add("random_noise", payer.noise, True)
    return out


def decide(rng: np.random.Generator, claim: Claim) -> None:
    """Draws which causes fire; the claim's oracle probability is 1 - prod(1 - p)."""
    claim.probability = 1.0 - math.prod(1.0 - c.p for c in claim.causes)
    draws = rng.random(len(claim.causes))
    claim.fired = [c for c, u in zip(claim.causes, draws, strict=True) if u < c.p]


def remit(rng: np.random.Generator, claim: Claim, ledger: Ledger) -> None:
    """The 835 for the claim: status, paid amount, CAS adjustments and remarks."""
    payer = PAYERS[claim.coverage.payer_id]
    days = max(3.0, rng.gamma(4.0, payer.adjudication_days / 4.0))
    if payer.plan_type == "medicare":
        days = max(days, 14.0)
    if any(c.name == "records_request_unanswered" for c in claim.fired):
        days += float(rng.integers(30, 50))
    claim.adjudicated_on = claim.receipt_date + timedelta(days=round(days))
    adjustments: list[str] = []
    remarks: list[str] = []
    claim_level = [c for c in claim.fired if c.claim_level]
    if claim_level:
        c = claim_level[0]
        if c.name == "random_noise" and rng.random() < 0.4:
            c.carc, c.rarc = "A1", "N350"
        denied_lines = set(range(len(claim.lines)))
        reported = [c]
    else:
        reported = list(claim.fired)
        denied_lines = {c.line for c in reported if c.line is not None}
    claim.reported = reported
    for c in reported:
        group = "OA" if (payer.payer_id, c.name) in OA_GROUP else "CO"
        adjustments.append(f"{group}-{c.carc}")
        if c.rarc:
            remarks.append(c.rarc)
    paid = 0.0
    for i, (ln, charge) in enumerate(zip(claim.lines, claim.charges, strict=True)):
        if i in denied_lines:
            continue
        allowed = round(charge * payer.allowed_share, 2)
        patient_share = 0.0
        if payer.plan_type in ("medicare", "medicare_advantage", "tricare"):
            patient_share = round(allowed * 0.2, 2)
            adjustments.append("PR-2")
        elif payer.plan_type == "commercial":
            if claim.service_date.month <= 3 and rng.random() < 0.5:
                patient_share = min(allowed, round(allowed * 0.6, 2))
                adjustments.append("PR-1")
            elif ln.code in EM_CODES:
                patient_share = min(allowed, 30.0)
                adjustments.append("PR-3")
        adjustments.append("CO-45")
        pay = allowed - patient_share
        if payer.plan_type == "medicare":
            pay *= 0.98
            adjustments.append("CO-253")
        paid += pay
        ledger.paid[(payer.payer_id, claim.coverage.member_id, ln.code)].append(claim.service_date)
        auth = claim.line_auth.get(i)
        if auth is not None and ln.code in ("97110", "73721", "72148", "70551"):
            auth.used += 1
    status = "4" if len(denied_lines) == len(claim.lines) else "1"
    if (
        status == "4"
        and payer.payer_id in PAID_ZERO_STATUS
        and reported[0].carc in CATEGORY_BY_CARC
    ):
        status = "1"  # processed as primary, paid nothing: the CAS says why
    claim.outcome = {
        "adjudication_date": claim.adjudicated_on,
        "claim_status_code": status,
        "paid_amount": round(paid, 2),
        "adjustments": list(dict.fromkeys(adjustments)),
        "remark_codes": list(dict.fromkeys(remarks)),
    }


def category(carc: str) -> str:
    return CATEGORY_BY_CARC.get(carc, "other")
