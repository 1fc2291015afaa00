"""Which coverage the practice bills, and the eligibility checks (270/271) it ran.

After a patient's first coverage ends the practice keeps billing it ("stale registration")
until the patient presents a new card or a check shows the end and someone acts on it. A
check reflects the truth on its day: the end date once the payer knows it (it may know it
weeks ahead, or only after the fact for a retroactive termination). Checks are run at
some encounters, days before or after the visit; a check that showed a problem is sometimes
ignored and the claim goes anyway. A mistyped member id gives ``not_found``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.encounters import Encounters
from simulator.ids import member_typos
from simulator.world import NEVER, World

ACTIVE, INACTIVE, NOT_FOUND = 0, 1, 2


@dataclass
class Checks:
    """eligibility_checks rows (end = NEVER means open-ended / unknown)."""

    member: np.ndarray
    payer: np.ndarray
    day: np.ndarray
    status: np.ndarray
    start: np.ndarray  # NEVER when not shown
    end: np.ndarray

    def __len__(self) -> int:
        return len(self.day)


@dataclass
class Registration:
    """Per encounter: the coverage billed (-1 self-pay: no claim) and the member id used."""

    coverage: np.ndarray
    member: np.ndarray  # member key on the claim (a typo key when mistyped)
    covered: np.ndarray  # the billed payer covers the member on the service date
    not_found: np.ndarray  # member id mistyped on the claim
    checks: Checks


def _check(world: World, cov: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, ...]:
    """What a 271 for coverage span cov says on day t: status, start, end."""
    c = world.coverages
    start, end, known = c.start[cov], c.end[cov], c.known[cov]
    shows_end = t >= known
    active = (t >= start) & ((t <= end) | ~shows_end)
    return (
        np.where(active, ACTIVE, INACTIVE).astype(np.int8),
        start,
        np.where(shows_end, end, NEVER).astype(np.int32),
    )


def register(rng: np.random.Generator, world: World, enc: Encounters) -> Registration:
    """Billed coverage per encounter and the checks run along the way."""
    pats, cov, habits = world.patients, world.coverages, world.practices.habits
    n = len(enc)
    s = enc.service
    c1 = pats.cov1[enc.patient]
    c2 = pats.cov2[enc.patient]
    end1 = cov.end[c1]
    after = s > end1
    has2 = c2 >= 0
    c2s = np.maximum(c2, 0)
    in2 = has2 & (s >= cov.start[c2s])
    true_cov = np.where(~after, c1, np.where(in2, c2, -1))
    # same payer and member id (Medicaid re-enrolment): billing the old span is correct
    same_as_old = in2 & (cov.member[c2s] == cov.member[c1]) & (cov.payer[c2s] == cov.payer[c1])
    can_go_stale = after & ~same_as_old

    checked = rng.random(n) < habits["check_rate"][enc.practice]
    u = rng.random(n)
    lead = np.select(
        [u < 0.5, u < 0.75, u < 0.9],
        [0, rng.integers(1, 4, n), rng.integers(4, 15, n)],
        -rng.integers(1, 6, n),  # run at billing time, after the visit
    )
    t = (s - lead).astype(np.int32)
    reveals = checked & can_go_stale & (t >= cov.known[c1])
    ignored = rng.random(n) < habits["check_ignored"][enc.practice]
    fixed_by_check = reveals & ~ignored
    # without an electronic check the front desk asks for the card more carefully
    card_rate = np.where(checked, habits["new_card_presented"][enc.practice], 0.9)
    card = rng.random(n) < np.where(true_cov >= 0, card_rate, 0.3)
    event = can_go_stale & (fixed_by_check | card)
    # the registration is updated at the first such event and stays updated
    order = np.lexsort((np.arange(n), s, enc.patient))
    ev = event[order].astype(np.int64)
    csum = np.cumsum(ev)
    pat_sorted = enc.patient[order]
    first = np.r_[True, pat_sorted[1:] != pat_sorted[:-1]]
    base = np.maximum.accumulate(np.where(first, csum - ev, 0))
    before = np.empty(n, bool)
    before[order] = (csum - ev - base) > 0
    updated_now = before | event
    stale_at_check = can_go_stale & ~before
    billed = np.where(can_go_stale & ~updated_now, c1, true_cov).astype(np.int32)

    # member id typos at registration; a check shows not_found, sometimes acted upon
    typo = (billed >= 0) & (rng.random(n) < habits["member_typo"][enc.practice])
    typo_caught = typo & checked & ~ignored
    typo_claim = typo & ~typo_caught
    member = np.where(billed >= 0, cov.member[np.maximum(billed, 0)], -1).astype(np.int64)
    typo_rows = np.flatnonzero(typo)
    new_keys = len(world.members) + np.arange(len(typo_rows))
    world.members = np.concatenate([world.members, member_typos(rng, world.members[member[typo]])])
    typo_key = np.full(n, -1, np.int64)
    typo_key[typo_rows] = new_keys
    claim_member = np.where(typo_claim, typo_key, member)

    # check rows: (a) what registration held at check time, (b) the re-check after a fix
    reg_cov = np.where(stale_at_check, c1, billed)
    a = checked & (reg_cov >= 0)
    rc = np.maximum(reg_cov, 0)
    status, start, end = _check(world, rc, t)
    a_member = np.where(typo, typo_key, cov.member[rc])
    status = np.where(typo, NOT_FOUND, status).astype(np.int8)
    start = np.where(typo, NEVER, start)
    end = np.where(typo, NEVER, end)
    b = (fixed_by_check & (billed >= 0) & (billed != c1)) | typo_caught
    bc = np.maximum(billed, 0)
    tb = np.maximum(t, cov.start[bc])
    b_status, b_start, b_end = _check(world, bc, tb)
    checks = Checks(
        member=np.concatenate([a_member[a], cov.member[bc][b]]).astype(np.int64),
        payer=np.concatenate([cov.payer[rc][a], cov.payer[bc][b]]).astype(np.int16),
        day=np.concatenate([t[a], tb[b]]).astype(np.int32),
        status=np.concatenate([status[a], b_status[b]]).astype(np.int8),
        start=np.concatenate([start[a], b_start[b]]).astype(np.int32),
        end=np.concatenate([end[a], b_end[b]]).astype(np.int32),
    )
    covered = (
        (billed >= 0)
        & (true_cov >= 0)
        & (cov.member[bc] == cov.member[np.maximum(true_cov, 0)])
        & (cov.payer[bc] == cov.payer[np.maximum(true_cov, 0)])
    )
    return Registration(billed, claim_member, covered, typo_claim, checks)
