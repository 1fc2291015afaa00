"""Encounters: who was seen, when, by whom, for what; then their diagnoses and service lines.

Service lines live in fixed-width (encounter x 4) matrices: code index (-1 empty), units,
modifier bits, diagnosis-pointer bits (bit k = pointer k+1). Diagnoses likewise (x 4).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator import codes as C
from simulator.world import PLAN_OF, World

MAX_LINES = 4
MAX_DX = 4
_AGE_EDGES = np.array([21, 40, 45, 50, 65])
_PREVENTIVE_SLOT = -2


@dataclass
class Encounters:
    """One row per encounter; line and diagnosis matrices are (n, 4)."""

    practice: np.ndarray
    patient: np.ndarray
    provider: np.ndarray
    service: np.ndarray  # int32 day
    template: np.ndarray
    pos: np.ndarray  # index into codes.POS_CODES
    dx: np.ndarray | None = None
    code: np.ndarray | None = None
    units: np.ndarray | None = None
    mods: np.ndarray | None = None
    ptr: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.service)


def _business_days(first: int, last: int) -> np.ndarray:
    days = np.arange(first, last + 1, dtype=np.int32)
    return days[(days + 3) % 7 < 5]  # 1970-01-01 was a Thursday: (d + 3) % 7 is Mon=0


def _pick(rng: np.random.Generator, cum: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Weighted choice inside segments [lo, hi) of a global cumulative-weight array."""
    base = np.where(lo > 0, cum[np.maximum(lo - 1, 0)], 0.0)
    target = base + rng.random(len(lo)) * (cum[hi - 1] - base)
    return np.minimum(np.searchsorted(cum, target, side="right"), hi - 1)


def _template_table() -> np.ndarray:
    """weights[specialty, sex, age band, template]."""
    bands_lo = np.concatenate([[18], _AGE_EDGES])
    table = np.zeros((len(C.SPECIALTIES), 2, len(bands_lo), len(C.TEMPLATES)))
    for t, tpl in enumerate(C.TEMPLATES):
        for s, spec in enumerate(C.SPECIALTIES):
            w = tpl.weights.get(spec, 0.0)
            for sex in (0, 1):
                if tpl.sex is not None and "FM"[sex] != tpl.sex:
                    continue
                for b, lo in enumerate(bands_lo):
                    if tpl.age[0] <= lo and lo < tpl.age[1]:
                        table[s, sex, b, t] = w
    return table


def make_encounters(
    rng: np.random.Generator, world: World, spans: list[tuple[int, int, int]]
) -> Encounters:
    """Encounters for each (first day, last day, count) span, in date order."""
    days = np.concatenate([rng.choice(_business_days(a, b), size=n) for a, b, n in spans]).astype(
        np.int32
    )
    days.sort()
    n = len(days)
    pr = world.practices
    practice = rng.choice(len(pr), size=n, p=pr.volume)
    pats = world.patients
    counts = np.bincount(pats.practice, minlength=len(pr))
    hi = np.cumsum(counts)
    patient = _pick(rng, np.cumsum(pats.weight), hi[practice] - counts[practice], hi[practice])
    prov = world.providers
    pcounts = np.bincount(prov.practice, minlength=len(pr))
    phi = np.cumsum(pcounts)
    plo = phi - pcounts
    provider = _pick(rng, np.cumsum(prov.weight), plo[practice], phi[practice])
    not_yet = prov.join[provider] > days
    provider[not_yet] = plo[practice[not_yet]]

    age = (days - pats.birth[patient]) / 365.25
    band = np.searchsorted(_AGE_EDGES, age, side="right")
    sex = pats.sex[patient]
    table = _template_table()
    group = (pr.specialty[practice] * 2 + sex) * table.shape[2] + band
    flat = table.reshape(-1, table.shape[3])
    template = np.empty(n, np.int16)
    for g in np.unique(group):
        sel = np.flatnonzero(group == g)
        w = flat[g] / flat[g].sum()
        template[sel] = rng.choice(len(w), size=len(sel), p=w)
    month = ((days.astype("datetime64[D]").astype("datetime64[M]").astype(int)) % 12) + 1
    flu = np.array([t.flu_season for t in C.TEMPLATES])[template]
    template[flu & (month > 3) & (month < 9)] = C.TEMPLATE_INDEX["acute_visit"]
    pos = np.zeros(n, np.int8)
    for t, tpl in enumerate(C.TEMPLATES):
        sel = np.flatnonzero(template == t)
        if len(tpl.pos) > 1 and len(sel):
            names, w = zip(*tpl.pos, strict=True)
            pick = rng.choice(len(names), size=len(sel), p=np.array(w) / sum(w))
            pos[sel] = np.array([C.POS_INDEX[c] for c in names])[pick]
        elif len(sel):
            pos[sel] = C.POS_INDEX[tpl.pos[0][0]]
    return Encounters(practice, patient, provider, days, template, pos)


def _choose(rng: np.random.Generator, options: C.Weighted, n: int, index: dict[str, int]):
    names, w = zip(*options, strict=True)
    values = np.array([index.get(x, _PREVENTIVE_SLOT) for x in names])
    return values[rng.choice(len(values), size=n, p=np.array(w) / sum(w))]


def make_lines(rng: np.random.Generator, world: World, enc: Encounters, payer: np.ndarray) -> None:
    """Fill the encounters' diagnoses and service lines (payer: billed payer index, -1 none)."""
    n = len(enc)
    dx = np.full((n, MAX_DX), -1, np.int16)
    code = np.full((n, MAX_LINES), -1, np.int16)
    units = np.ones((n, MAX_LINES), np.int16)
    ptr_all = np.zeros((n, MAX_LINES), bool)
    for t, tpl in enumerate(C.TEMPLATES):
        rows = np.flatnonzero(enc.template == t)
        m = len(rows)
        if not m:
            continue
        dx[rows, 0] = _choose(rng, tpl.principal, m, C.DX_INDEX)
        for k in (1, 2):
            if tpl.secondary:
                extra = _choose(rng, tpl.secondary, m, C.DX_INDEX)
                keep = rng.random(m) < tpl.secondary_prob
                dup = (extra[:, None] == dx[rows, :k]).any(1)
                dx[rows, k] = np.where(keep & ~dup, extra, -1)
        for j, slot in enumerate(tpl.slots):
            present = rng.random(m) < slot.prob
            code[rows, j] = np.where(present, _choose(rng, slot.codes, m, C.CODE_INDEX), -1)
            u_vals, u_w = zip(*slot.units, strict=True)
            units[rows, j] = rng.choice(np.array(u_vals), size=m, p=np.array(u_w) / sum(u_w))
            ptr_all[rows, j] = slot.pointers == "all"
    # compact diagnoses and lines to the left
    order = np.argsort(dx < 0, axis=1, kind="stable")
    dx = np.take_along_axis(dx, order, 1)
    order = np.argsort(code == -1, axis=1, kind="stable")
    code, units, ptr_all = (np.take_along_axis(a, order, 1) for a in (code, units, ptr_all))

    _resolve_preventive(rng, world, enc, payer, code)
    n_dx = (dx >= 0).sum(1)
    all_bits = ((1 << n_dx) - 1).astype(np.uint8)
    ptr = np.where(ptr_all, all_bits[:, None], 1).astype(np.uint8)
    ptr[code < 0] = 0
    units[code < 0] = 0

    safe = np.maximum(code, 0)
    has = code >= 0
    mods = np.zeros((n, MAX_LINES), np.uint8)
    mods |= np.where(has & C.IS_THERAPY[safe], C.MOD_GP, 0).astype(np.uint8)
    side = np.where(rng.random((n, 1)) < 0.5, C.MOD_RT, C.MOD_LT).astype(np.uint8)
    lateral = np.isin(safe, [C.CODE_INDEX["20610"], C.CODE_INDEX["73721"]]) & has
    mods |= np.where(lateral, side, 0).astype(np.uint8)
    em = has & C.IS_EM[safe]
    tele = C.TELEHEALTH_POS[enc.pos]
    mods |= np.where(em & tele[:, None], C.MOD_95, 0).astype(np.uint8)
    minor = (has & C.NEEDS_25[safe]).any(1)
    mods |= np.where(em & minor[:, None], C.MOD_25, 0).astype(np.uint8)
    enc.dx, enc.code, enc.units, enc.mods, enc.ptr = dx, code, units, mods, ptr


def _resolve_preventive(
    rng: np.random.Generator, world: World, enc: Encounters, payer: np.ndarray, code: np.ndarray
) -> None:
    """Preventive visit code by age band and plan: Medicare plans take G0438/G0439, but
    practices still bill the 9939x/9938x series to them (non-covered, CARC 49/96)."""
    rows, cols = np.nonzero(code == _PREVENTIVE_SLOT)
    if not len(rows):
        return
    age = (enc.service[rows] - world.patients.birth[enc.patient[rows]]) / 365.25
    band = np.searchsorted([40, 65], age, side="right")  # 0: 18-39, 1: 40-64, 2: 65+
    plan = PLAN_OF[np.maximum(payer[rows], 0)]
    new = rng.random(len(rows)) < 0.15
    # coding slip at a birthday boundary: the adjacent age band's code (age edit, CARC 6)
    slip = rng.random(len(rows)) < 0.02
    band = np.where(slip, np.where(band == 0, 1, band - 1), band)
    series = np.where(new, 0, 3) + band  # index into 99385..99387, 99395..99397
    prev = np.array([C.CODE_INDEX[c] for c in ("99385", "99386", "99387", "99395", "99396",
                                               "99397")])  # fmt: skip
    chosen = prev[series]
    medicare = np.isin(plan, ["medicare", "medicare_advantage"])
    u = rng.random(len(rows))
    awv = np.where(u < 0.1, C.CODE_INDEX["G0438"], C.CODE_INDEX["G0439"])
    chosen = np.where(medicare & (u < 0.72), awv, chosen)
    code[rows, cols] = chosen
