"""Claims as submitted: originals from encounters (with the practice's data errors and its
submission lag), duplicates sent while the first is in process, corrected claims (frequency 7).

Line fields are (claims x 4) matrices copied from the encounter and then damaged by the
claim's error flags; a corrected claim restores them from the encounter.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from simulator import codes as C
from simulator.context import EncounterAuth
from simulator.eligibility import Registration
from simulator.encounters import Encounters
from simulator.ids import npi_typo
from simulator.payers import PAYERS
from simulator.world import World

ORIGINAL, DUPLICATE, CORRECTED = 0, 1, 2
SEX_MISSING = 3
REFERRAL_REQUIRED = np.array([p.referral_required for p in PAYERS])
ATTACH_CODES = np.array([[c in p.attachment_codes for c in C.CODES] for p in PAYERS])
FLAGS = (
    "missing_birth_date", "missing_sex", "npi_typo", "bad_pointer", "charge_mismatch",
    "outdated_dx", "excess_units", "missing_mod25", "missing_mod95", "missing_auth_number",
)  # fmt: skip


@dataclass
class Claims:
    """One row per claim; lines and diagnoses are (n, 4) matrices."""

    enc: np.ndarray
    kind: np.ndarray
    parent: np.ndarray  # the original claim of a duplicate or correction, -1
    submission: np.ndarray
    adjudication: np.ndarray
    coverage: np.ndarray
    payer: np.ndarray
    member: np.ndarray
    provider: np.ndarray  # the true rendering provider
    rendering_npi: np.ndarray  # 0: empty (the billing provider rendered)
    birth_missing: np.ndarray
    sex: np.ndarray  # 0 F, 1 M, 2 U, 3 missing
    referral_required: np.ndarray
    referral: np.ndarray
    attachment_required: np.ndarray
    attachment: np.ndarray
    auth_number: np.ndarray  # authorization row whose number is on the claim, -1
    dx: np.ndarray
    code: np.ndarray
    units: np.ndarray
    mods: np.ndarray
    ptr: np.ndarray
    charge: np.ndarray
    total: np.ndarray
    flags: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.enc)

    def take(self, idx: np.ndarray) -> Claims:
        columns: dict[str, Any] = {
            f.name: getattr(self, f.name)[idx] for f in fields(self) if f.name != "flags"
        }
        out = Claims(**columns)
        out.flags = {k: v[idx] for k, v in self.flags.items()}
        return out

    @staticmethod
    def concat(parts: list[Claims]) -> Claims:
        names = [f.name for f in fields(Claims) if f.name != "flags"]
        columns: dict[str, Any] = {k: np.concatenate([getattr(p, k) for p in parts]) for k in names}
        out = Claims(**columns)
        out.flags = {k: np.concatenate([p.flags[k] for p in parts]) for k in parts[0].flags}
        return out


def _lag(rng: np.random.Generator, habits: dict[str, np.ndarray], practice: np.ndarray):
    """Days from service to submission: median a few days, a long tail past 200 days."""
    n = len(practice)
    u = rng.random(n)
    late = u < habits["lag_late"][practice]
    delayed = ~late & (u < habits["lag_late"][practice] + habits["lag_delayed"][practice])
    median = np.select([late, delayed], [120.0, 24.0], habits["lag_median"][practice])
    sigma = np.select([late, delayed], [0.55, 0.6], 0.8)
    return np.minimum(np.ceil(median * np.exp(sigma * rng.standard_normal(n))), 420).astype(
        np.int32
    )


def originals(
    rng: np.random.Generator, world: World, enc: Encounters, reg: Registration,
    auth: EncounterAuth, rendering_npi: np.ndarray,
) -> Claims:  # fmt: skip
    """One original claim per billed encounter, as the practice submitted it."""
    assert enc.code is not None and enc.dx is not None and enc.units is not None
    assert enc.mods is not None and enc.ptr is not None
    rows = np.flatnonzero(reg.coverage >= 0)
    n = len(rows)
    h = world.practices.habits
    pr = enc.practice[rows]
    hab = {k: v[pr] for k, v in h.items()}
    r = lambda: rng.random(n)  # noqa: E731
    payer = world.coverages.payer[reg.coverage[rows]].astype(np.int16)
    code = enc.code[rows].copy()
    has = code >= 0
    safe = np.maximum(code, 0)
    dx = enc.dx[rows].copy()
    units = enc.units[rows].copy()
    mods = enc.mods[rows].copy()
    ptr = enc.ptr[rows].copy()
    n_lines = has.sum(1)
    n_dx = (dx >= 0).sum(1)

    flags = {k: np.zeros(n, bool) for k in FLAGS}
    flags["missing_birth_date"] = r() < hab["missing_birth_date"]
    flags["missing_sex"] = r() < hab["missing_sex"]
    rnpi = rendering_npi[rows]
    flags["npi_typo"] = (rnpi > 0) & (r() < hab["npi_typo"])
    rnpi = np.where(flags["npi_typo"], npi_typo(rng, rnpi), rnpi)
    flags["bad_pointer"] = r() < hab["bad_pointer"]
    ptr[:, 0] |= np.where(flags["bad_pointer"], 1 << n_dx, 0).astype(np.uint8)
    outdatable = C.HAS_OUTDATED[np.maximum(dx, 0)] & (dx >= 0)
    flags["outdated_dx"] = outdatable.any(1) & (r() < hab["outdated_dx"])
    dx = np.where(flags["outdated_dx"][:, None] & outdatable, C.DX_OUTDATED[np.maximum(dx, 0)], dx)
    multi = has & C.IS_MULTI_UNIT[safe]
    flags["excess_units"] = multi.any(1) & (r() < hab["excess_units"])
    which = np.argmax(multi, axis=1)
    over = C.MAX_UNITS[safe[np.arange(n), which]] + rng.integers(1, 4, n)
    units[np.arange(n), which] = np.where(flags["excess_units"], over, units[np.arange(n), which])
    has25 = (mods & C.MOD_25) > 0
    flags["missing_mod25"] = has25.any(1) & (r() < hab["mod25_omitted"])
    mods = np.where(flags["missing_mod25"][:, None], mods & ~np.uint8(C.MOD_25), mods)
    has95 = (mods & C.MOD_95) > 0
    flags["missing_mod95"] = has95.any(1) & (r() < hab["mod95_omitted"])
    mods = np.where(flags["missing_mod95"][:, None], mods & ~np.uint8(C.MOD_95), mods)

    fee = np.round(C.FEES[safe] * hab["markup"][:, None])
    charge = np.where(has, fee * units, 0.0)
    total = charge.sum(1)
    flags["charge_mismatch"] = r() < hab["charge_mismatch"]
    last = charge[np.arange(n), np.maximum(n_lines - 1, 0)]
    off = np.where(n_lines > 1, -last, rng.integers(5, 60, n).astype(float))
    total = np.where(flags["charge_mismatch"], total + off, total)

    specialist = world.practices.specialty[pr] != C.SPECIALTIES.index(C.FM)
    referral_required = REFERRAL_REQUIRED[payer] & specialist
    referral = np.where(referral_required, r() < hab["referral_discipline"], r() < 0.05)
    attachment_required = (has & ATTACH_CODES[payer[:, None], safe]).any(1)
    attachment = np.where(attachment_required, r() < hab["attach_discipline"], r() < 0.04)
    auth_row = auth.row[rows]
    flags["missing_auth_number"] = (auth_row >= 0) & (r() < 0.06)
    sex = world.patients.registered_sex[enc.patient[rows]].astype(np.int8)
    sex = np.where(flags["missing_sex"], SEX_MISSING, sex).astype(np.int8)
    submission = enc.service[rows] + _lag(rng, h, pr)
    return Claims(
        enc=rows.astype(np.int32),
        kind=np.zeros(n, np.int8),
        parent=np.full(n, -1, np.int32),
        submission=submission.astype(np.int32),
        adjudication=np.full(n, -1, np.int32),
        coverage=reg.coverage[rows],
        payer=payer,
        member=reg.member[rows],
        provider=enc.provider[rows],
        rendering_npi=rnpi,
        birth_missing=flags["missing_birth_date"],
        sex=sex,
        referral_required=referral_required,
        referral=referral,
        attachment_required=attachment_required,
        attachment=attachment,
        auth_number=np.where(flags["missing_auth_number"], -1, auth_row).astype(np.int32),
        dx=dx,
        code=code,
        units=units,
        mods=mods,
        ptr=ptr,
        charge=charge,
        total=total,
        flags=flags,
    )


def adjudication_dates(rng: np.random.Generator, claims: Claims) -> None:
    """835 date: 5 to 45 days after submission, by payer speed."""
    lo = np.array([p.adjudication_days[0] for p in PAYERS])[claims.payer]
    med = np.array([p.adjudication_days[1] for p in PAYERS])[claims.payer]
    scale = np.maximum(med - lo, 1) / 1.68
    lag = np.clip(np.round(lo + rng.gamma(2.0, scale)), 5, 45).astype(np.int32)
    claims.adjudication = claims.submission + lag


def duplicates(rng: np.random.Generator, claims: Claims, rate: float = 0.006,
               quick: bool = False) -> Claims:  # fmt: skip
    """The same encounter sent again as a new original while the first is in process: a week
    or more later, or (``quick``) one to three days later, before any answer could come."""
    in_process = claims.adjudication - claims.submission
    pick = np.flatnonzero(
        (claims.kind == ORIGINAL) & ((in_process >= 10) | quick) & (rng.random(len(claims)) < rate)
    )
    dup = claims.take(pick)
    dup.kind[:] = DUPLICATE
    dup.parent = pick.astype(np.int32)
    if quick:
        dup.submission = dup.submission + rng.integers(1, 4, len(pick)).astype(np.int32)
    else:
        dup.submission = dup.submission + rng.integers(7, np.maximum(in_process[pick], 8))
    adjudication_dates(rng, dup)
    return dup


def corrections(
    rng: np.random.Generator, world: World, enc: Encounters, claims: Claims, pick: np.ndarray,
    auth_row: np.ndarray, rendering_npi: np.ndarray,
) -> Claims:  # fmt: skip
    """Frequency-7 replacements of denied claims, with every data and coding error fixed."""
    assert enc.code is not None and enc.dx is not None and enc.units is not None
    assert enc.mods is not None and enc.ptr is not None
    fix = claims.take(pick)
    e = fix.enc
    fix.kind[:] = CORRECTED
    fix.parent = pick.astype(np.int32)
    fix.submission = claims.adjudication[pick] + rng.integers(3, 30, len(pick)).astype(np.int32)
    fix.rendering_npi = rendering_npi[e]
    fix.birth_missing[:] = False
    fix.sex = world.patients.sex[enc.patient[e]].astype(np.int8)
    fix.referral = fix.referral | fix.referral_required
    fix.attachment = fix.attachment | fix.attachment_required
    fix.auth_number = auth_row[e]
    fix.dx, fix.units, fix.mods, fix.ptr = enc.dx[e], enc.units[e], enc.mods[e], enc.ptr[e]
    fix.charge = np.where(fix.code >= 0, fix.charge / np.maximum(fix.units, 1) * enc.units[e], 0)
    fix.total = fix.charge.sum(1)
    fix.flags = {k: np.zeros(len(pick), bool) for k in fix.flags}
    adjudication_dates(rng, fix)
    return fix
