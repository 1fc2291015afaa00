"""Practices, providers, patients and their coverage: the facts claims are drawn from."""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from benchmarks.independent_world.catalog import (
    CHRONIC,
    COB_SHARE,
    CREDENTIALING_DAYS,
    PAYERS,
    TERMINATION,
)

FAMILY = {
    "visit": 0.30,
    "visit_labs": 0.20,
    "visit_injection": 0.05,
    "visit_ecg": 0.06,
    "preventive": 0.12,
    "ccm": 0.05,
    "flu": 0.06,
    "skin": 0.05,
    "telehealth": 0.08,
    "visit_xray": 0.03,
}
MSK = {
    "visit": 0.25,
    "visit_injection": 0.22,
    "imaging": 0.16,
    "pt_episode": 0.05,
    "acupuncture": 0.05,
    "telehealth": 0.04,
    "visit_xray": 0.10,
    "skin": 0.03,
}

PROFILES: dict[str, dict[str, float]] = {
    "family": FAMILY,
    "msk": MSK,
    "mixed": {k: 0.6 * FAMILY.get(k, 0.0) + 0.4 * MSK.get(k, 0.0) for k in FAMILY | MSK},
}

PAYER_MIXES: dict[str, dict[str, float]] = {
    "balanced": {
        "MCR01": 0.25,
        "MA001": 0.12,
        "BCX10": 0.20,
        "AET20": 0.12,
        "UHC30": 0.13,
        "MCD77": 0.13,
        "TRI40": 0.05,
    },
    "senior": {
        "MCR01": 0.45,
        "MA001": 0.25,
        "BCX10": 0.10,
        "AET20": 0.07,
        "UHC30": 0.08,
        "MCD77": 0.03,
        "TRI40": 0.02,
    },
    "safety_net": {
        "MCR01": 0.12,
        "MA001": 0.06,
        "BCX10": 0.10,
        "AET20": 0.06,
        "UHC30": 0.08,
        "MCD77": 0.55,
        "TRI40": 0.03,
    },
    "commercial": {
        "MCR01": 0.12,
        "MA001": 0.08,
        "BCX10": 0.30,
        "AET20": 0.20,
        "UHC30": 0.22,
        "MCD77": 0.04,
        "TRI40": 0.04,
    },
}


@dataclass
class Provider:
    npi: str
    joined: date
    modifier_skill: float  # probability the provider's coder adds a needed modifier


@dataclass
class Enrollment:
    npi: str
    payer_id: str
    effective: date  # the payer's truth
    end: date | None
    recorded_effective: date  # what the practice's roster says
    recorded_end: date | None
    on_roster: bool = True


@dataclass
class Practice:
    code: str
    profile: str
    payer_mix: dict[str, float]
    billing_npi: str
    providers: list[Provider]
    check_rate: float  # share of visits with an eligibility check just before
    records_failure: float  # share of records requests the practice fails to answer in time
    attach_rate: float  # share of review-prone claims sent with notes attached
    dotted_dx: bool
    blank_rendering: float
    holds_for_credentialing: bool
    late_share: float  # share of claims billed late (backlogs, lost batches)


@dataclass
class Coverage:
    payer_id: str
    member_id: str
    start: date
    end: date | None = None
    known_on: date | None = None  # when the payer's eligibility response shows the end


@dataclass
class Patient:
    patient_id: str
    practice: int
    birth_date: date
    sex: str
    conditions: list[str]
    coverages: list[Coverage]
    other_primary: Coverage | None = None  # COB: another plan pays first
    billed: int = 0  # index into coverages of the plan the practice bills
    cob_fixed_on: date | None = None
    acupuncture_excluded: bool = False
    weight: float = 1.0
    pt_auth_units: int = 0
    extra: dict[str, date] = field(default_factory=dict)


def npi(rng: np.random.Generator) -> str:
    """A 10-digit NPI with a valid Luhn check digit (prefix 80840, as CMS defines)."""
    body = [int(rng.integers(1, 3))] + [int(d) for d in rng.integers(0, 10, 8)]
    digits = [8, 0, 8, 4, 0, *body]
    total = 0
    for i, d in enumerate(reversed(digits)):
        total += sum(divmod(d * 2, 10)) if i % 2 == 0 else d
    return "".join(map(str, body)) + str((10 - total % 10) % 10)


def member_id(rng: np.random.Generator, style: str) -> str:
    letters = string.ascii_uppercase
    if style == "mbi":
        pattern = "NAXNAXNAANN"
        out = []
        for ch in pattern:
            pool = (
                "123456789"
                if ch == "N"
                else ("ACDEFGHJKMNPQRTUVWXY" if ch == "A" else "0123456789ACDEFGHJKMNPQRTUVWXY")
            )
            out.append(pool[int(rng.integers(len(pool)))])
        return "".join(out)
    if style == "prefix":
        return "".join(rng.choice(list(letters), 3)) + f"{int(rng.integers(10**8)):08d}"
    if style == "numeric8":
        return f"{int(rng.integers(10**8)):08d}"
    if style == "numeric":
        return f"{int(rng.integers(10**9)):09d}"
    return "W" + "".join(rng.choice(list(letters + "0123456789"), 9))


def _pick(rng: np.random.Generator, weights: dict[str, float]) -> str:
    keys = list(weights)
    p = np.array([weights[k] for k in keys], dtype=float)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def make_practice(
    rng: np.random.Generator,
    idx: int,
    profile: str,
    mix: str,
    n_providers: int,
    start: date,
    days: int,
) -> Practice:
    providers = [
        Provider(
            npi(rng),
            start - timedelta(days=int(rng.integers(400, 4000))),
            float(rng.uniform(0.85, 0.97)),
        )
        for _ in range(n_providers)
    ]
    providers[0].modifier_skill = 0.8  # every practice has the provider who forgets modifiers
    for _ in range(1 + int(n_providers > 4)):
        providers.append(
            Provider(
                npi(rng),
                start + timedelta(days=int(rng.integers(90, days - 90))),
                float(rng.uniform(0.75, 0.95)),
            )
        )
    return Practice(
        code=f"{idx + 1:02d}",
        profile=profile,
        payer_mix=PAYER_MIXES[mix],
        billing_npi=npi(rng),
        providers=providers,
        check_rate=float(rng.uniform(0.35, 0.8)),
        records_failure=float(rng.uniform(0.35, 0.7)),
        attach_rate=float(rng.uniform(0.05, 0.3)),
        dotted_dx=bool(rng.random() < 0.7),
        blank_rendering=float(rng.choice([0.0, 0.12])),
        holds_for_credentialing=bool(rng.random() < 0.5),
        late_share=float(rng.uniform(0.03, 0.08)),
    )


def enrollments(
    rng: np.random.Generator,
    practice: Practice,
    start: date,
    days: int,
) -> list[Enrollment]:
    out: list[Enrollment] = []
    for payer_id in PAYERS:
        out.append(
            Enrollment(
                practice.billing_npi, payer_id, date(2012, 1, 1), None, date(2012, 1, 1), None
            )
        )
    lapse_done = False
    for prov in practice.providers:
        new = prov.joined > start
        for payer_id in PAYERS:
            if not new:
                eff = prov.joined + timedelta(days=30)
                out.append(Enrollment(prov.npi, payer_id, eff, None, eff, None))
                if payer_id == "MCR01" and not lapse_done and rng.random() < 0.35:
                    # a Medicare revalidation missed: billing privileges deactivated a while
                    lapse_done = True
                    d1 = start + timedelta(days=int(rng.integers(60, days - 120)))
                    d2 = d1 + timedelta(days=int(rng.integers(45, 100)))
                    known = rng.random() < 0.4
                    out[-1].end = d1
                    out[-1].recorded_end = d1 if known else None
                    out.append(Enrollment(prov.npi, payer_id, d2, None, d2, None, on_roster=known))
                continue
            applied = prov.joined - timedelta(days=int(rng.integers(0, 30)))
            lo, hi = CREDENTIALING_DAYS[payer_id]
            turnaround = int(rng.integers(lo, hi))
            if rng.random() < 0.04:  # the application that got lost
                turnaround += int(rng.integers(120, 250))
            eff = applied + timedelta(days=turnaround)
            optimistic = rng.random() < 0.25  # the roster was filled in on the application date
            out.append(
                Enrollment(prov.npi, payer_id, eff, None, applied if optimistic else eff, None)
            )
    return out


def _age_range(plan_type: str, rng: np.random.Generator) -> tuple[int, int]:
    if plan_type in ("medicare", "medicare_advantage"):
        return (30, 64) if rng.random() < 0.1 else (65, 92)
    if plan_type == "tricare":
        return (19, 80)
    return (18, 64)


def make_patient(
    rng: np.random.Generator,
    pid: str,
    practice_idx: int,
    practice: Practice,
    start: date,
    days: int,
) -> Patient:
    payer_id = _pick(rng, practice.payer_mix)
    payer = PAYERS[payer_id]
    lo, hi = _age_range(payer.plan_type, rng)
    age = int(rng.integers(lo, hi + 1))
    birth = start - timedelta(days=age * 365 + int(rng.integers(0, 365)))
    n_cond = int(rng.poisson(0.6 + age / 40))
    pool = [*CHRONIC, "prediabetes", "shoulder", "headache", "skin"]
    conditions = sorted({str(c) for c in rng.choice(pool, size=min(n_cond, 5), replace=False)})
    cov_start = start - timedelta(days=int(rng.integers(30, 2000)))
    if rng.random() < 0.15:
        cov_start = start + timedelta(days=int(rng.integers(0, days)))
    cov = Coverage(payer_id, member_id(rng, payer.member_id_style), cov_start)
    coverages = [cov]
    share, mode = TERMINATION[payer_id]
    if rng.random() < share:
        end = max(start, cov_start) + timedelta(days=int(rng.integers(30, days + 60)))
        cov.end = end
        cov.known_on = (
            end + timedelta(days=int(rng.integers(0, 60)))
            if mode == "retro"
            else (end - timedelta(days=int(rng.integers(0, 45))))
        )
        nxt = (
            payer_id
            if (payer_id == "MCD77" and rng.random() < 0.5)
            else ("MCR01" if payer_id == "MA001" else _pick(rng, practice.payer_mix))
        )
        new_id = cov.member_id if nxt == payer_id else member_id(rng, PAYERS[nxt].member_id_style)
        gap = int(rng.integers(0, 45)) if rng.random() < 0.5 else 0
        coverages.append(Coverage(nxt, new_id, end + timedelta(days=gap + 1)))
    other = None
    if rng.random() < COB_SHARE[payer_id]:
        prim = str(rng.choice(["BCX10", "AET20", "UHC30"]))
        if prim == payer_id:
            prim = "BCX10" if payer_id != "BCX10" else "AET20"
        other = Coverage(prim, member_id(rng, PAYERS[prim].member_id_style), cov_start)
    return Patient(
        patient_id=pid,
        practice=practice_idx,
        birth_date=birth,
        sex=str(rng.choice(["F", "M"])),
        conditions=conditions or ["acute"],
        coverages=coverages,
        other_primary=other,
        acupuncture_excluded=bool(rng.random() < 0.4),
        weight=float(rng.gamma(1.2, 1.0)) * (1.0 + 0.3 * len(conditions)),
        pt_auth_units=int(rng.choice([6, 8, 12])),
    )
