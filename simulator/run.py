"""Run the world forward: encounters, claims, context, adjudication, then split the result
into the history (submitted by the history end) and the request window after it."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, fields

import numpy as np

from simulator.adjudicate import Adjudication, adjudicate
from simulator.causes import CAUSE_INDEX, FIXABLE, cause_matrix
from simulator.claims import (
    DUPLICATE,
    ORIGINAL,
    Claims,
    adjudication_dates,
    corrections,
)
from simulator.claims import duplicates as make_duplicates
from simulator.claims import originals as make_originals
from simulator.context import (
    Authorizations,
    EncounterAuth,
    Enrollments,
    enrollment_effective,
    lapse_enrollments,
    make_authorizations,
    make_enrollments,
)
from simulator.dialects import DEFAULT, Dialect, dialect_rng
from simulator.eligibility import Registration, register
from simulator.encounters import Encounters, make_encounters, make_lines
from simulator.exports import (
    blank_auth_units,
    mistype_auth_numbers,
    reverse_auth_dates,
    spoil_checks,
)
from simulator.world import World, build_world

OVERSHOOT = 1.04  # encounters per wanted history claim; the excess is trimmed
REQUEST_OVERSHOOT = 1.5  # encounters in the request window per wanted request
CORRECTED_SHARE = 0.35  # denied claims with a fixable cause that are corrected (frequency 7)
_FIXABLE = np.array(sorted(CAUSE_INDEX[c] for c in FIXABLE))


@dataclass
class Simulation:
    """Everything the writers need: the world, its encounters and context, and the claims
    kept (history first, then requests) with their adjudication."""

    world: World
    enc: Encounters
    reg: Registration
    auths: Authorizations
    eauth: EncounterAuth
    enrollments: Enrollments
    rendering_npi: np.ndarray  # per encounter, 0 = empty
    claims: Claims
    adj: Adjudication
    history: np.ndarray  # bool per kept claim
    claim_number: np.ndarray  # unique number behind claim_id
    patient_number: np.ndarray  # per patient, behind patient_id
    auth_number: np.ndarray  # per authorization, behind auth_number
    referral_number: np.ndarray  # per encounter, behind referral_number


def _concat_adj(parts: list[Adjudication]) -> Adjudication:
    return Adjudication(
        **{
            f.name: np.concatenate([getattr(p, f.name) for p in parts])
            for f in fields(Adjudication)
        }
    )


def _take_adj(adj: Adjudication, idx: np.ndarray) -> Adjudication:
    return Adjudication(**{f.name: getattr(adj, f.name)[idx] for f in fields(Adjudication)})


def run(
    seed: int, claims: int, requests: int, start: dt.date, months: int,
    progress: Callable[[str], None] | None = None, dialect: Dialect = DEFAULT,
    block: tuple[int, int] = (0, 1),
) -> Simulation:  # fmt: skip
    say = progress or (lambda _msg: None)
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(17)]
    claims = dialect.claims or claims
    n_hist = math.ceil(claims * OVERSHOOT)
    # The requests come at the practice's own pace: as many months after the history as its
    # monthly volume needs to hold them (a window packed tighter brings the same patients
    # back for the same codes far more often than the history ever shows).
    monthly = n_hist / months
    request_months = max(1, math.ceil(requests * REQUEST_OVERSHOOT / monthly))
    world = build_world(
        rngs[0], seed, n_hist, start, months, claims, dialect, block, request_months
    )
    n_req = math.ceil(monthly * request_months)
    say(f"world: {len(world.practices)} practices, {len(world.providers.npi)} providers, "
        f"{len(world.patients.birth)} patients")  # fmt: skip
    enc = make_encounters(
        rngs[1],
        world,
        [(world.start, world.end, n_hist), (world.end + 1, world.request_end, n_req)],
    )
    reg = register(rngs[2], world, enc)
    spoil_checks(seed, dialect, reg.checks)
    cov = world.coverages
    billed = reg.coverage >= 0
    payer = np.where(billed, cov.payer[np.maximum(reg.coverage, 0)], -1).astype(np.int16)
    make_lines(rngs[3], world, enc, payer)
    solo = world.practices.solo[enc.practice]
    rendering_npi = np.where(solo, 0, world.providers.npi[enc.provider]).astype(np.int64)
    acting_npi = world.providers.npi[enc.provider]  # the provider an authorization names
    true_member = np.where(billed, cov.member[np.maximum(reg.coverage, 0)], -1)
    auths, eauth = make_authorizations(rngs[4], world, enc, payer, true_member, acting_npi)
    reverse_auth_dates(seed, dialect, auths, eauth)
    blank_auth_units(seed, dialect, auths)
    enrollments = make_enrollments(rngs[5], world)
    if dialect.credential_lapses:
        enrollments = lapse_enrollments(dialect_rng(seed, "credential_lapses"), world, enrollments)
    say(f"encounters: {len(enc):,}; authorizations {len(auths):,}; checks {len(reg.checks):,}")

    first = make_originals(rngs[6], world, enc, reg, eauth, rendering_npi)
    adjudication_dates(rngs[7], first)
    mistype_auth_numbers(seed, dialect, first)
    dups = make_duplicates(rngs[8], first, dialect.duplicate_rate, quick=dialect.quick_duplicates)
    batch = Claims.concat([first, dups])

    def judge(rng: np.random.Generator, c: Claims) -> Adjudication:
        enrolled = enrollment_effective(
            enrollments,
            len(world.providers.npi),
            c.provider,
            c.payer.astype(np.intp),
            enc.service[c.enc],
        )
        cm = cause_matrix(world, enc, reg, eauth, enrolled, c)
        return adjudicate(rng, c, cm, enc.service[c.enc])

    adj = judge(rngs[9], batch)
    fixable = (
        (batch.kind == ORIGINAL)
        & np.isin(adj.top, _FIXABLE)
        & (rngs[10].random(len(batch)) < CORRECTED_SHARE)
    )
    fixed = corrections(
        rngs[11], world, enc, batch, np.flatnonzero(fixable), eauth.row, rendering_npi
    )
    all_claims = Claims.concat([batch, fixed])
    all_adj = _concat_adj([adj, judge(rngs[12], fixed)])
    say(f"adjudicated {len(all_claims):,} claims")

    # split: history = submitted by the history end; requests = submitted in the window after
    sub = all_claims.submission
    history = sub <= world.end
    candidates = np.flatnonzero((sub > world.end) & (sub <= world.request_end))
    excess = int(history.sum()) - claims
    keep = history.copy()
    if excess > 0:
        has_child = np.zeros(len(all_claims), bool)
        has_child[all_claims.parent[all_claims.parent >= 0]] = True
        droppable = np.flatnonzero(history & ~has_child & (all_claims.kind == ORIGINAL))
        keep[rngs[13].choice(droppable, size=excess, replace=False)] = False
    chosen = np.sort(
        rngs[14].choice(candidates, size=min(requests, len(candidates)), replace=False)
    )
    if dialect.quick_duplicates:  # a resubmission's first copy is another recent request
        parents = all_claims.parent[chosen]
        firsts = parents[(all_claims.kind[chosen] == DUPLICATE) & (parents >= 0)]
        chosen = np.union1d(chosen, firsts[~history[firsts]])
    hist_idx = np.flatnonzero(keep)
    hist_idx = hist_idx[np.lexsort((hist_idx, sub[hist_idx]))]
    idx = np.concatenate([hist_idx, chosen[np.lexsort((chosen, sub[chosen]))]])
    kept = all_claims.take(idx)
    # parents now point into the kept order (or -1 when the parent was not kept)
    where = np.full(len(all_claims), -1, np.int64)
    where[idx] = np.arange(len(idx))
    kept.parent = np.where(kept.parent >= 0, where[np.maximum(kept.parent, 0)], -1).astype(np.int32)
    number = rngs[15].permutation(len(idx)) + 10_000_000
    return Simulation(
        world=world,
        enc=enc,
        reg=reg,
        auths=auths,
        eauth=eauth,
        enrollments=enrollments,
        rendering_npi=rendering_npi,
        claims=kept,
        adj=_take_adj(all_adj, idx),
        history=np.arange(len(idx)) < len(hist_idx),
        claim_number=number,
        patient_number=rngs[16].permutation(len(world.patients.birth)) + 1_000_000,
        auth_number=rngs[16].permutation(len(auths)) + 10_000_000,
        referral_number=rngs[16].permutation(len(enc)) + 10_000_000,
    )
