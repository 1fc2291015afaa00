"""Prior authorizations (278) and provider enrollments: the context tables beside eligibility.

Authorizations follow each payer's auth-required codes (and the policy change): the practice
obtains one with its own discipline; some name the wrong provider, expire before the service,
or approve fewer units than billed. Enrollments: established providers are enrolled with every
payer long before the history; a provider who joins mid-history is enrolled with one payer only
weeks after starting to see patients.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator import codes as C
from simulator.encounters import Encounters
from simulator.payers import PAYER_INDEX, PAYERS
from simulator.world import NEVER, World, day

AUTH_CODES = np.array([[c in p.auth_codes for c in C.CODES] for p in PAYERS])  # [payer, code]
POLICY_RAMP_DAYS = 45.0  # how fast practices learn a new auth requirement


@dataclass
class Authorizations:
    """authorizations rows; enc = the encounter it was obtained for."""

    enc: np.ndarray
    payer: np.ndarray
    member: np.ndarray
    codes: np.ndarray  # (n, 4) code index, -1 empty
    start: np.ndarray
    end: np.ndarray
    provider_npi: np.ndarray  # int64
    units: np.ndarray

    def __len__(self) -> int:
        return len(self.enc)


@dataclass
class EncounterAuth:
    """Per encounter: which lines need an authorization and what was obtained."""

    required: np.ndarray  # (n, 4) bool
    row: np.ndarray  # index into Authorizations, -1 none
    expired: np.ndarray
    wrong_provider: np.ndarray
    approved: np.ndarray  # units the authorization approved (0 without one)


def auth_required(world: World, enc: Encounters, payer: np.ndarray) -> np.ndarray:
    """(n, 4) lines whose code the billed payer wants authorized on the service date."""
    code = enc.code
    assert code is not None
    has = (code >= 0) & (payer[:, None] >= 0)
    req = has & AUTH_CODES[np.maximum(payer, 0)[:, None], np.maximum(code, 0)]
    for change in world.policy:
        on = (payer == PAYER_INDEX[change.payer_id]) & (enc.service >= day(change.effective))
        req |= on[:, None] & (code == C.CODE_INDEX[change.procedure_code])
    for rule in world.dialect.rules_of("prior_authorization_required"):
        on = (payer == PAYER_INDEX[rule.payer_id]) & (
            enc.service >= rule.effective(world.start, world.end)
        )
        req |= on[:, None] & (code == C.CODE_INDEX[rule.procedure_code])
    return req


def _unknown_rule_lines(world: World, enc: Encounters, payer: np.ndarray) -> np.ndarray:
    """Encounters with a line only an authorization rule the practice was not told about
    covers: its auth log never gets one."""
    assert enc.code is not None
    hit = np.zeros(len(enc), bool)
    for rule in world.dialect.rules_of("prior_authorization_required"):
        payer_rule = payer == PAYER_INDEX[rule.payer_id]
        on = payer_rule & (enc.service >= rule.effective(world.start, world.end))
        hit |= on & (enc.code == C.CODE_INDEX[rule.procedure_code]).any(1)
    return hit


def make_authorizations(
    rng: np.random.Generator, world: World, enc: Encounters, payer: np.ndarray,
    member: np.ndarray, rendering_npi: np.ndarray,
) -> tuple[Authorizations, EncounterAuth]:  # fmt: skip
    """Authorizations obtained for the encounters that need one."""
    assert enc.code is not None and enc.units is not None
    n = len(enc)
    required = auth_required(world, enc, payer)
    need = required.any(1)
    p = world.practices.habits["auth_discipline"][enc.practice].copy()
    for change in world.policy:
        eff = day(change.effective)
        line = (enc.code == C.CODE_INDEX[change.procedure_code]) & required
        on = line.any(1) & (payer == PAYER_INDEX[change.payer_id]) & (enc.service >= eff)
        ramp = 0.03 + 0.97 * (1 - np.exp(-(enc.service - eff) / POLICY_RAMP_DAYS))
        p = np.where(on, np.minimum(p, p * ramp), p)
    obtained = need & (rng.random(n) < p)
    if world.dialect.rules:
        obtained &= ~_unknown_rule_lines(world, enc, payer)
    rows = np.flatnonzero(obtained)
    m = len(rows)
    s = enc.service[rows]
    start = s - rng.integers(2, 30, m)
    end = start + rng.choice([30, 60, 90], m)
    end = np.where(end < s, s + rng.integers(5, 30, m), end)
    u = rng.random(m)
    expired = u < 0.03
    end = np.where(expired, s - rng.integers(1, 20, m), end)
    start = np.where(
        expired, np.minimum(start, end - 30), start
    )  # it ran out; it did not end first
    wrong = (u >= 0.03) & (u < 0.055)
    # another provider of the practice (or one outside it) was authorized
    prov = world.providers
    other = rng.integers(0, len(prov.npi), m)
    npi = np.where(wrong, prov.npi[other], rendering_npi[rows])
    npi = np.where(wrong & (npi == rendering_npi[rows]), prov.npi[(other + 1) % len(prov.npi)], npi)
    units = np.where(required[rows], enc.units[rows], 0).max(1).astype(np.int16)
    short = (units >= 2) & (rng.random(m) < 0.1)
    approved = np.where(short, units - 1, units)
    codes = np.where(required[rows], enc.code[rows], -1)
    order = np.argsort(codes < 0, axis=1, kind="stable")
    codes = np.take_along_axis(codes, order, 1)
    auths = Authorizations(
        enc=rows.astype(np.int32),
        payer=payer[rows].astype(np.int16),
        member=member[rows],
        codes=codes.astype(np.int16),
        start=start.astype(np.int32),
        end=end.astype(np.int32),
        provider_npi=npi.astype(np.int64),
        units=approved,
    )
    row = np.full(n, -1, np.int32)
    row[rows] = np.arange(m)
    e_expired = np.zeros(n, bool)
    e_expired[rows] = expired
    e_wrong = np.zeros(n, bool)
    e_wrong[rows] = wrong
    e_approved = np.zeros(n, np.int16)
    e_approved[rows] = approved
    return auths, EncounterAuth(required, row, e_expired, e_wrong, e_approved)


@dataclass
class Enrollments:
    """provider_enrollments rows (npi x payer); a lapsed enrollment is its ended row (with
    ``renewed``, the day it starts again) plus a renewal row (provider -1)."""

    npi: np.ndarray
    payer: np.ndarray
    effective: np.ndarray
    provider: np.ndarray  # provider index, -1 for a group billing NPI (or a renewal row)
    end: np.ndarray | None = None  # last enrolled day, NEVER open; None: every row open
    renewed: np.ndarray | None = None  # per row: the day a lapse ends, NEVER none


def make_enrollments(rng: np.random.Generator, world: World) -> Enrollments:
    prov, pr = world.providers, world.practices
    n_pay = len(PAYERS)
    n = len(prov.npi)
    eff = world.start - rng.integers(60, 3000, (n, n_pay))
    joiner = prov.join > world.start
    jn = int(joiner.sum())
    eff[joiner] = prov.join[joiner, None] - rng.integers(0, 45, (jn, n_pay))
    checking = np.flatnonzero([p.checks_rendering_enrollment for p in PAYERS])
    late = checking[(rng.integers(0, len(checking)) + np.arange(jn)) % len(checking)]
    eff[np.flatnonzero(joiner), late] = prov.join[joiner] + rng.integers(20, 60, jn)
    groups = np.flatnonzero(~pr.solo)
    g_eff = world.start - rng.integers(365, 5000, (len(groups), n_pay))
    return Enrollments(
        npi=np.concatenate([np.repeat(prov.npi, n_pay), np.repeat(pr.billing_npi[groups], n_pay)]),
        payer=np.tile(np.arange(n_pay, dtype=np.int16), n + len(groups)),
        effective=np.concatenate([eff.ravel(), g_eff.ravel()]).astype(np.int32),
        provider=np.concatenate([np.repeat(np.arange(n), n_pay), np.full(len(groups) * n_pay, -1)]),
    )


def lapse_enrollments(rng: np.random.Generator, world: World, enr: Enrollments) -> Enrollments:
    """A share of providers' enrollments with payers that check lapse for 30 to 120 days (a
    missed re-credentialing) and are then renewed; the roster shows both rows."""
    checks = np.array([p.checks_rendering_enrollment for p in PAYERS])
    own = np.flatnonzero((enr.provider >= 0) & checks[enr.payer])
    pick = own[rng.random(len(own)) < world.dialect.credential_lapses]
    begin = rng.integers(world.start + 60, world.request_end - 20, len(pick))
    begin = np.maximum(begin, enr.effective[pick] + 60)
    pick, begin = pick[begin < world.request_end], begin[begin < world.request_end]
    renewed = begin + rng.integers(30, 120, len(pick))
    n = len(enr.npi)
    end = np.full(n, NEVER, np.int32)
    end[pick] = begin - 1
    again = np.full(n, NEVER, np.int32)
    again[pick] = renewed
    return Enrollments(
        npi=np.concatenate([enr.npi, enr.npi[pick]]),
        payer=np.concatenate([enr.payer, enr.payer[pick]]),
        effective=np.concatenate([enr.effective, renewed]).astype(np.int32),
        provider=np.concatenate([enr.provider, np.full(len(pick), -1)]),
        end=np.concatenate([end, np.full(len(pick), NEVER, np.int32)]),
        renewed=np.concatenate([again, np.full(len(pick), NEVER, np.int32)]),
    )


def enrollment_effective(enr: Enrollments, n_providers: int, provider: np.ndarray,
                         payer: np.ndarray, service: np.ndarray) -> np.ndarray:  # fmt: skip
    """Effective date of each (provider, payer) enrollment in force on the service day: in
    a lapse, the renewal's (which is after the service)."""
    table = np.zeros((n_providers, len(PAYERS)), np.int32)
    own = enr.provider >= 0
    table[enr.provider[own], enr.payer[own]] = enr.effective[own]
    effective = table[provider, payer]
    if enr.end is None or enr.renewed is None:
        return effective
    ends = np.full_like(table, NEVER)
    ends[enr.provider[own], enr.payer[own]] = enr.end[own]
    renewals = np.full_like(table, NEVER)
    renewals[enr.provider[own], enr.payer[own]] = enr.renewed[own]
    lapsed = (service > ends[provider, payer]) & (service < renewals[provider, payer])
    return np.where(lapsed, renewals[provider, payer], effective)
