"""Dirty context exports: what a PM system's authorization log and eligibility history look
like after years of hand entry. Each function applies one knob of the world's dialect in
place and draws from that knob's own stream; at the default (0) it does nothing.

Only a reversed authorization also changes what the payer sees (it was keyed that way when
requested, so it covers no date) and a mistyped authorization number on a claim is one the
payer cannot match; the other faults are in the export only, the payer adjudicates on the
truth.
"""

from __future__ import annotations

import numpy as np

from simulator.claims import Claims
from simulator.context import Authorizations, EncounterAuth
from simulator.dialects import Dialect, dialect_rng
from simulator.eligibility import ACTIVE, INACTIVE, Checks
from simulator.world import NEVER

AUTH_TYPO = "auth_number_typo"  # claim flag: the claim's authorization number is mistyped


def reverse_auth_dates(seed: int, dialect: Dialect, auths: Authorizations,
                       eauth: EncounterAuth) -> None:  # fmt: skip
    """Authorizations keyed with start and end swapped: an end before the start."""
    if not dialect.reversed_auth_dates or not len(auths):
        return
    rng = dialect_rng(seed, "reversed_auth_dates")
    pick = np.flatnonzero(rng.random(len(auths)) < dialect.reversed_auth_dates)
    auths.start[pick], auths.end[pick] = auths.end[pick].copy(), auths.start[pick].copy()
    eauth.expired[auths.enc[pick]] = True


def mistype_auth_numbers(seed: int, dialect: Dialect, claims: Claims) -> None:
    """Flag claims whose authorization number was mistyped (two digits transposed)."""
    if not dialect.auth_number_typos:
        return
    rng = dialect_rng(seed, "auth_number_typos")
    hit = (claims.auth_number >= 0) & (rng.random(len(claims)) < dialect.auth_number_typos)
    claims.flags[AUTH_TYPO] = hit


def transpose_last_digits(number: str) -> str:
    """'PA10000012' -> 'PA10000021'; equal last digits: the last one is changed."""
    a, b = number[-2], number[-1]
    if a != b:
        return number[:-2] + b + a
    return number[:-1] + str((int(b) + 1) % 10)


def spoil_checks(seed: int, dialect: Dialect, checks: Checks) -> None:
    """Stale answers, missing coverage dates and swapped coverage dates in the export."""
    n = len(checks)
    if dialect.stale_checks:
        rng = dialect_rng(seed, "stale_checks")
        stale = (checks.status == INACTIVE) & (rng.random(n) < dialect.stale_checks)
        checks.status[stale] = ACTIVE
        checks.end[stale] = NEVER
    if dialect.reversed_coverage:
        rng = dialect_rng(seed, "reversed_coverage")
        both = (checks.start != NEVER) & (checks.end != NEVER) & (checks.start < checks.end)
        swap = np.flatnonzero(both & (rng.random(n) < dialect.reversed_coverage))
        checks.start[swap], checks.end[swap] = checks.end[swap].copy(), checks.start[swap].copy()
    if dialect.missing_context:
        rng = dialect_rng(seed, "missing_context")
        blank = rng.random(n) < dialect.missing_context
        checks.start[blank] = NEVER
        checks.end[blank] = NEVER


def blank_auth_units(seed: int, dialect: Dialect, auths: Authorizations) -> None:
    """Authorizations exported without their approved units (the payer still has them)."""
    if not dialect.missing_context or not len(auths):
        return
    rng = dialect_rng(seed, "missing_auth_units")
    auths.units[rng.random(len(auths)) < dialect.missing_context] = 0
