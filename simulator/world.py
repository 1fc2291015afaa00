"""The world: a billing company's practices and providers, their patients and coverage.

Dates are int32 days since 1970-01-01 throughout the simulator. A patient has at most two
coverage spans: the first may end during the history (job change, Medicaid churn, a switch
between Medicare and Medicare Advantage on 1 January, turning 65, a workers' comp case that
closes) and the second starts then or after a gap. A few patients also have another payer
that is primary for a while (coordination of benefits) until the practice fixes it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simulator.codes import DERM, FM, IM, ORTHO, SPECIALTIES
from simulator.dialects import DEFAULT, Dialect, dialect_rng
from simulator.ids import make_npis, member_ids
from simulator.payers import PAYERS, PolicyChange, policy_changes

EPOCH = dt.date(1970, 1, 1)
NEVER = np.int32(2**31 - 1)  # an open end date
_CYCLE = (FM, ORTHO, IM, DERM, ORTHO)  # the same specialty mix at every scale
_AGE_MEAN = {FM: 47.0, ORTHO: 55.0, IM: 60.0, DERM: 50.0}
_WC_SHARE = {FM: 0.02, ORTHO: 0.08, IM: 0.0, DERM: 0.0}
CLAIMS_PER_PRACTICE = 40_000
ENCOUNTERS_PER_PATIENT = 5.0

PLAN_OF = np.array([p.plan_type for p in PAYERS], dtype=object)
PAYER_IDS = np.array([p.payer_id for p in PAYERS], dtype=object)
PAYER_NAMES = np.array([p.name for p in PAYERS], dtype=object)


def day(date: dt.date) -> int:
    """Days since 1970-01-01."""
    return (date - EPOCH).days


def to_date(days: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(days))


def _payers_of(plan: str) -> tuple[np.ndarray, np.ndarray]:
    idx = np.array([i for i, p in enumerate(PAYERS) if p.plan_type == plan])
    share = np.array([PAYERS[i].market_share for i in idx], float)
    return idx, share / share.sum()


@dataclass
class Practices:
    """One row per practice of the billing company, with its habits."""

    specialty: np.ndarray  # index into SPECIALTIES
    billing_npi: np.ndarray  # int64
    solo: np.ndarray  # bool: one provider billing under the individual NPI
    volume: np.ndarray  # share of encounters
    habits: dict[str, np.ndarray]  # name -> per-practice rate

    def __len__(self) -> int:
        return len(self.specialty)


@dataclass
class Providers:
    """Rendering providers."""

    practice: np.ndarray
    npi: np.ndarray  # int64
    join: np.ndarray  # first day they see patients (int32)
    weight: np.ndarray


@dataclass
class Patients:
    """Patients and their coverage spans (indices into Coverages, -1 none)."""

    practice: np.ndarray
    birth: np.ndarray  # int32 days
    sex: np.ndarray  # true sex: 0 F, 1 M
    registered_sex: np.ndarray  # 0 F, 1 M, 2 U (registration may be wrong)
    weight: np.ndarray  # visit propensity
    cov1: np.ndarray
    cov2: np.ndarray
    cob_start: np.ndarray  # another payer primary from this day ...
    cob_end: np.ndarray  # ... until the practice fixes it (NEVER = no COB issue)


@dataclass
class Coverages:
    """Coverage spans: who the payer covers under which member id, and since when."""

    patient: np.ndarray
    payer: np.ndarray  # index into PAYERS
    member: np.ndarray  # key into World.members
    start: np.ndarray
    end: np.ndarray  # last covered day, NEVER if open
    known: np.ndarray  # from this day an eligibility check shows the end date

    def __len__(self) -> int:
        return len(self.payer)


@dataclass
class World:
    """Everything that exists before the first encounter."""

    seed: int
    start: int  # first history day
    end: int  # last history day
    request_end: int  # last day of the request window
    practices: Practices
    providers: Providers
    patients: Patients
    coverages: Coverages
    members: np.ndarray  # member id strings by key (grows with registration typos)
    policy: tuple[PolicyChange, ...]
    extra: dict[str, Any] = field(default_factory=dict)
    dialect: Dialect = DEFAULT

    @property
    def policy_days(self) -> list[int]:
        return [day(p.effective) for p in self.policy]


def _practices(rng: np.random.Generator, n: int, block: tuple[int, int]) -> Practices:
    specialty = np.array([SPECIALTIES.index(_CYCLE[i % len(_CYCLE)]) for i in range(n)])

    def u(lo: float, hi: float) -> np.ndarray:
        """Stratified: practices take evenly spaced values in random order, so the company's
        average habit (and with it the denial mix) does not swing from seed to seed."""
        return lo + (hi - lo) * (rng.permutation(n) + 0.5) / n

    habits = {
        "check_rate": u(0.3, 0.95),  # share of encounters with an eligibility check
        "check_ignored": u(0.6, 0.9),  # check showed a problem, claim went anyway
        "auth_discipline": u(0.91, 0.985),
        "attach_discipline": u(0.3, 0.68),
        "referral_discipline": u(0.9, 0.98),
        "mod25_omitted": u(0.02, 0.08),
        "mod95_omitted": u(0.04, 0.18),
        "missing_birth_date": u(0.0005, 0.003),
        "missing_sex": u(0.0005, 0.002),
        "npi_typo": u(0.001, 0.004),
        "bad_pointer": u(0.001, 0.003),
        "charge_mismatch": u(0.001, 0.005),
        "outdated_dx": u(0.0, 0.025),  # share of codes that have an outdated form
        "excess_units": u(0.004, 0.012),
        "member_typo": u(0.0015, 0.005),
        "lag_median": u(1.5, 5.0),
        "lag_delayed": u(0.03, 0.08),
        "lag_late": u(0.013, 0.035),
        "markup": u(1.0, 1.35),
        "undotted_dx": (np.arange(n) % 4 == 2).astype(float),  # exports ICD without dots
        "line_dates": (rng.random(n) < 0.5).astype(float),
        "new_card_presented": u(0.35, 0.6),  # patient shows a new card at a visit
    }
    solo = (np.arange(n) >= 3) & (rng.random(n) < 0.15)
    return Practices(
        specialty=specialty,
        billing_npi=make_npis(rng, n, first=2, block=block),  # type 2 (organisation) NPIs
        solo=solo,
        volume=(v := rng.lognormal(0, 0.15, n)) / v.sum(),
        habits=habits,
    )


def _providers(rng: np.random.Generator, practices: Practices, start: int, end: int,
               block: tuple[int, int]) -> Providers:  # fmt: skip
    n_prov = np.where(practices.solo, 1, rng.integers(2, 9, len(practices)))
    practice = np.repeat(np.arange(len(practices)), n_prov)
    npi = make_npis(rng, len(practice), first=1, block=block)
    # the solo provider bills under its own NPI
    first = np.concatenate([[0], np.cumsum(n_prov)[:-1]])
    practices.billing_npi[practices.solo] = npi[first[practices.solo]]
    join = np.full(len(practice), start - 3650, np.int32)
    last = np.cumsum(n_prov) - 1
    joiners = last[n_prov >= 2]  # each group practice hires one provider mid-history
    span = end - start
    join[joiners] = start + rng.integers(int(0.15 * span), int(0.8 * span), len(joiners))
    weight = rng.lognormal(0, 0.35, len(practice))
    weight[joiners] *= 0.7  # a new provider's panel is still filling
    return Providers(practice, npi, join, weight)


def _coverages(
    rng: np.random.Generator, patients_practice: np.ndarray, specialty: np.ndarray,
    birth: np.ndarray, start: int, stop: int, mix: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, Coverages, np.ndarray]:  # fmt: skip
    n = len(birth)
    age0 = (start - birth) / 365.25
    plan = np.empty(n, dtype=object)
    u = rng.random(n)
    old = age0 >= 65
    plan[old] = np.select(
        [u[old] < 0.55, u[old] < 0.95, u[old] < 0.98], ["medicare", "medicare_advantage",
                                                        "medicaid"], "tricare")  # fmt: skip
    wc = np.array([_WC_SHARE[SPECIALTIES[s]] for s in specialty[patients_practice]])
    young = ~old
    uy = u[young]
    plan[young] = np.select(
        [uy < wc[young], uy < 0.7, uy < 0.95], ["workers_comp", "commercial", "medicaid"], "tricare"
    )
    if mix is not None:  # a dialect's payer mix replaces the age-based one
        plan = mix
    payer1 = np.zeros(n, np.int16)
    for name in ("commercial", "medicare", "medicare_advantage", "medicaid", "tricare",
                 "workers_comp"):  # fmt: skip
        idx, share = _payers_of(name)
        sel = plan == name
        payer1[sel] = rng.choice(idx, size=int(sel.sum()), p=share)

    years = (stop - start) / 365.25
    start1 = (start - rng.integers(30, 3000, n)).astype(np.int32)
    end1 = np.full(n, NEVER, np.int32)
    lead = np.zeros(n, np.int32)  # days before the end that a check shows it
    payer2 = np.full(n, -1, np.int16)
    gap = np.zeros(n, np.int32)
    same_member = np.zeros(n, bool)
    when = rng.integers(start - 90, stop, n).astype(np.int32)
    r = rng.random(n)
    plan_of = PLAN_OF[payer1]
    comm, _ = _payers_of("commercial")
    # job change: a new commercial payer (or Medicaid, or nothing)
    job = (plan_of == "commercial") & (rng.random(n) < 0.3 * years)
    end1[job] = when[job] - 1
    retro = rng.random(int(job.sum())) < 0.08  # terminated after the fact
    lead[job] = np.where(
        retro, rng.integers(-15, 0, int(job.sum())), rng.integers(0, 60, int(job.sum()))
    )
    pick = rng.choice(comm, size=n)
    pick = np.where(pick == payer1, comm[(np.searchsorted(comm, pick) + 1) % len(comm)], pick)
    medicaid = _payers_of("medicaid")[0][0]
    payer2[job] = np.where(r[job] < 0.75, pick[job], np.where(r[job] < 0.85, medicaid, -1))
    # turning 65: Medicare or Medicare Advantage from the 1st of the birthday month
    turn65 = birth + int(65 * 365.25)
    ages_in = (plan_of == "commercial") & ~job & (turn65 > start) & (turn65 < stop)
    end1[ages_in] = turn65[ages_in] - 1
    lead[ages_in] = 90
    ma = _payers_of("medicare_advantage")
    mcr = _payers_of("medicare")[0][0]
    payer2[ages_in] = np.where(
        rng.random(int(ages_in.sum())) < 0.55, mcr, rng.choice(ma[0], int(ages_in.sum()), p=ma[1])
    )
    # Medicaid churn: loses coverage at redetermination; often re-enrolled after a gap
    churn = (plan_of == "medicaid") & (rng.random(n) < 0.45 * years)
    end1[churn] = when[churn] - 1
    lead[churn] = rng.integers(20, 75, int(churn.sum()))
    back = churn & (r < 0.55)
    payer2[back] = payer1[back]
    same_member[back] = True
    gap[back] = rng.integers(30, 120, int(back.sum()))
    to_comm = churn & (r >= 0.55) & (r < 0.85)
    payer2[to_comm] = rng.choice(comm, int(to_comm.sum()))
    # Medicare <-> Medicare Advantage on 1 January after the annual enrollment period
    senior = np.isin(plan_of, ["medicare", "medicare_advantage"]) & (rng.random(n) < 0.1 * years)
    jan1 = np.array(
        [day(dt.date(y, 1, 1)) for y in range(1971, 2200) if start < day(dt.date(y, 1, 1)) < stop]
    )
    if len(jan1):
        end1[senior] = rng.choice(jan1, int(senior.sum())) - 1
        lead[senior] = rng.integers(15, 75, int(senior.sum()))
        to_ma = plan_of[senior] == "medicare"
        payer2[senior] = np.where(to_ma, rng.choice(ma[0], int(senior.sum()), p=ma[1]), mcr)
    else:
        senior[:] = False
    # Tricare sponsor leaves service
    tri = (plan_of == "tricare") & (rng.random(n) < 0.06 * years)
    end1[tri] = when[tri] - 1
    lead[tri] = rng.integers(10, 40, int(tri.sum()))
    payer2[tri] = rng.choice(comm, int(tri.sum()))
    # workers' comp: the case closes; the patient's health plan is billed after that
    wcp = plan_of == "workers_comp"
    start1[wcp] = start - rng.integers(0, 200, int(wcp.sum()))
    end1[wcp] = start + rng.integers(60, 500, int(wcp.sum()))
    lead[wcp] = rng.integers(0, 30, int(wcp.sum()))
    payer2[wcp] = rng.choice(comm, int(wcp.sum()))

    start1 = np.minimum(start1, end1.astype(np.int64) - 30)  # a span that ends began before
    has2 = payer2 >= 0
    start2 = end1.astype(np.int64) + 1 + gap
    patient = np.arange(n)
    # coverage table: first spans then second spans
    c_patient = np.concatenate([patient, patient[has2]])
    c_payer = np.concatenate([payer1, payer2[has2]]).astype(np.int16)
    c_start = np.concatenate([start1, start2[has2]]).astype(np.int32)
    c_end = np.concatenate([end1, np.full(int(has2.sum()), NEVER, np.int32)])
    known1 = np.where(end1 == NEVER, NEVER, end1.astype(np.int64) - lead).astype(np.int32)
    c_known = np.concatenate([known1, np.full(int(has2.sum()), NEVER, np.int32)])
    # member ids by payer pattern; a re-enrolled Medicaid member keeps the id
    members = np.empty(len(c_payer), dtype=object)
    for i, payer in enumerate(PAYERS):
        sel = np.flatnonzero(c_payer == i)
        members[sel] = member_ids(rng, payer.member_id_pattern, len(sel))
    c_member = np.arange(len(c_payer), dtype=np.int32)
    second = np.flatnonzero(has2)
    keep = same_member[has2]
    c_member[n + np.flatnonzero(keep)] = second[keep]
    cov2 = np.full(n, -1, np.int32)
    cov2[has2] = n + np.arange(int(has2.sum()))
    coverages = Coverages(c_patient, c_payer, c_member, c_start, c_end, c_known)
    return np.arange(n, dtype=np.int32), cov2, coverages, members


def _month_end(start: dt.date, months: int) -> dt.date:
    """The last day of the ``months``-th month from ``start``'s month."""
    y, m = divmod(start.month - 1 + months, 12)
    return dt.date(start.year + y, m + 1, 1) - dt.timedelta(days=1)


def build_world(
    rng: np.random.Generator, seed: int, n_encounters: int, start: dt.date, months: int,
    claims: int, dialect: Dialect = DEFAULT, block: tuple[int, int] = (0, 1),
    request_months: int = 1,
) -> World:  # fmt: skip
    """Practices, providers, patients and coverage for about n_encounters encounters over
    ``months`` of history and the ``request_months`` after it; the practices of ``block``
    (k, blocks) of a world simulated in blocks (their own NPIs)."""
    s, e, r = (
        day(start),
        day(_month_end(start, months)),
        day(_month_end(start, months + request_months)),
    )

    practices = _practices(
        rng, dialect.practices or max(3, round(claims / CLAIMS_PER_PRACTICE)), block
    )
    providers = _providers(rng, practices, s, e, block)
    n_pat = np.maximum(
        50, np.round(practices.volume * n_encounters / ENCOUNTERS_PER_PATIENT)
    ).astype(int)
    practice = np.repeat(np.arange(len(practices)), n_pat)
    n = len(practice)
    spec = practices.specialty[practice]
    mean_age = np.array([_AGE_MEAN[SPECIALTIES[i]] for i in spec])
    age = np.clip(rng.normal(mean_age, 17.0), 18, 95)
    birth = (s - age * 365.25 - rng.integers(0, 365, n)).astype(np.int32)
    sex = (rng.random(n) < 0.45).astype(np.int8)
    registered = sex.copy()
    wrong = rng.random(n)
    registered[wrong < 0.004] = 1 - sex[wrong < 0.004]
    registered[(wrong >= 0.004) & (wrong < 0.007)] = 2
    mix = None
    if dialect.plan_mix:
        plans, shares = zip(*dialect.plan_mix.items(), strict=True)
        share = np.array(shares, float)
        pick = dialect_rng(seed, "plan_mix").choice(len(plans), size=n, p=share / share.sum())
        mix = np.array(plans, dtype=object)[pick]
    cov1, cov2, coverages, members = _coverages(
        rng, practice, practices.specialty, birth, s, r, mix
    )
    cob = rng.random(n) < 0.009
    cob_start = np.where(cob, rng.integers(s - 60, r, n), NEVER).astype(np.int32)
    cob_end = np.where(cob, cob_start + rng.integers(45, 300, n), NEVER).astype(np.int32)
    patients = Patients(
        practice=practice,
        birth=birth,
        sex=sex,
        registered_sex=registered,
        weight=rng.gamma(1.3, 1.0, n),
        cov1=cov1,
        cov2=cov2,
        cob_start=cob_start,
        cob_end=cob_end,
    )
    return World(
        seed=seed,
        start=s,
        end=e,
        request_end=r,
        practices=practices,
        providers=providers,
        patients=patients,
        coverages=coverages,
        members=members,
        policy=policy_changes(start, months) if dialect.policy_change else (),
        dialect=dialect,
    )
