"""Claim requests (contract section 2) for the months after the history: each claim with the
context a PM system holds inlined. Only this small set is built row by row."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson

from simulator.tables import Builder
from simulator.world import NEVER, to_date

MISSING_AUTHS = 0.1  # PM systems that do not send authorizations
MISSING_ENROLLMENT = 0.1


def latest(
    keys: np.ndarray, days: np.ndarray, q_keys: np.ndarray, q_days: np.ndarray
) -> np.ndarray:
    """Index of the latest (key, day <= q_day) row for each query, -1 when none."""
    order = np.lexsort((days, keys))
    composite = keys[order].astype(np.int64) * 100_000 + days[order]
    pos = np.searchsorted(composite, q_keys.astype(np.int64) * 100_000 + q_days, side="right") - 1
    ok = (pos >= 0) & (keys[order][np.maximum(pos, 0)] == q_keys)
    return np.where(ok, order[np.maximum(pos, 0)], -1)


def request_lines(builder: Builder, rng: np.random.Generator) -> list[bytes]:
    """One JSON document per request claim (in submission order)."""
    sim = builder.sim
    c, w = sim.claims, sim.world
    rows = np.flatnonzero(~sim.history)
    if not len(rows):
        return []
    claims = builder.claims(rows).to_pylist()
    lines = builder.claim_lines(rows).to_pylist()
    by_claim: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        by_claim.setdefault(line.pop("claim_id"), []).append(line)

    member, payer, sub = c.member[rows], c.payer[rows].astype(np.int64), c.submission[rows]
    checks = sim.reg.checks
    chk = latest(checks.member * 16 + checks.payer, checks.day, member * 16 + payer, sub)
    elig = builder.eligibility_checks(checks, np.maximum(chk, 0)).to_pylist()

    auths = sim.auths
    keyed = np.minimum(auths.start, auths.end)  # an auth is on file from its first date
    a_key = auths.member * 16 + auths.payer
    a_order = np.argsort(a_key, kind="stable")
    a_sorted = a_key[a_order]
    q_key = member * 16 + payer
    lo = np.searchsorted(a_sorted, q_key, side="left")
    hi = np.searchsorted(a_sorted, q_key, side="right")
    wanted = np.unique(np.concatenate([a_order[lo[i] : hi[i]] for i in range(len(rows))] + [[]]))
    wanted = wanted.astype(np.int64)
    auth_rows = dict(
        zip(wanted.tolist(), builder.authorizations(auths, wanted).to_pylist(), strict=True)
    )

    enr = sim.enrollments
    ends = enr.end if enr.end is not None else np.full(len(enr.npi), NEVER, np.int32)
    enrolled: dict[tuple[int, int], list[tuple[int, int]]] = {}  # rows in effective order
    for n, p, e, end in zip(enr.npi, enr.payer, enr.effective, ends, strict=True):
        enrolled.setdefault((int(n), int(p)), []).append((int(e), int(end)))
    acting = np.where(c.rendering_npi[rows] > 0, c.rendering_npi[rows],
                      w.practices.billing_npi[builder.practice[rows]])  # fmt: skip
    no_auths = rng.random(len(rows)) < MISSING_AUTHS
    no_enrollment = rng.random(len(rows)) < MISSING_ENROLLMENT

    out = []
    for i, claim in enumerate(claims):
        claim["lines"] = by_claim[claim["claim_id"]]
        if chk[i] >= 0:
            e = elig[i]
            claim["eligibility"] = {k: e[k] for k in ("checked_on", "status", "coverage_start",
                                                      "coverage_end")}  # fmt: skip
        if not no_auths[i]:
            found = [auth_rows[j] for j in a_order[lo[i] : hi[i]] if keyed[j] <= sub[i]]
            claim["authorizations"] = [
                {k: v for k, v in a.items() if k not in ("payer_id", "member_id")} for a in found
            ]
        spans = enrolled.get((int(acting[i]), int(payer[i])))
        if spans is not None and not no_enrollment[i]:
            # the row in force at submission: the latest that started by then, else the first
            started = [span for span in spans if span[0] <= sub[i]]
            effective, end = max(started) if started else spans[0]
            claim["provider_enrollment"] = {
                "effective_date": to_date(effective),
                "end_date": None if end == NEVER else to_date(end),
            }
        out.append(orjson.dumps(claim))
    return out
