"""First-pass adjudication: draw each cause, build the 835 outcome and the ground truth.

A claim is denied when any cause fires (each drawn independently), so its true probability is
1 - prod(1 - p_c). The first denial adjustment is the fired cause with the largest p_c; claim-
level causes deny the whole claim (CLP02 4), line-level causes deny their lines and the rest
is paid (CLP02 1). Paid lines carry the routine CO-45, PR-1/2/3 and, for Medicare plans, CO-253.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from features.categories import CATEGORIES
from features.rules import CARC_CATEGORY
from simulator import codes as C
from simulator.causes import CAUSES, CauseMatrix
from simulator.claims import Claims
from simulator.payers import PAYERS
from simulator.world import PLAN_OF

MAX_DENIALS = 4
ROUTINE = ("CO-45", "PR-1", "PR-2", "PR-3", "CO-253")
_CAUSE_CAT = np.array([CATEGORIES.index(c.category) for c in CAUSES])
_CAT_MATRIX = np.zeros((len(CAUSES), len(CATEGORIES)))
_CAT_MATRIX[np.arange(len(CAUSES)), _CAUSE_CAT] = 1.0
_LINE_LEVEL = np.array([c.line_level for c in CAUSES])
_ALLOWED = np.array([p.allowed_ratio for p in PAYERS])
_COPAY = np.array([p.copay for p in PAYERS])
_COINS = np.array([p.coinsurance for p in PAYERS])
_SEQ = np.array([p.sequestration for p in PAYERS])
_COMMERCIAL = PLAN_OF == "commercial"
_NO_COST_SHARE = np.isin(C.KINDS, ["preventive", "awv", "vaccine", "screening"])
# every adjustment and remark string the simulator writes (list columns index into it)
VOCAB = np.array(
    list(
        dict.fromkeys(
            [f"{c.group}-{c.carc}" for c in CAUSES]
            + ["CO-49", "CO-96", "CO-204", "N115"]
            + [c.remark for c in CAUSES if c.remark]
            + list(ROUTINE)
            + [""]
            + [f"CO-{carc}" for carc in sorted(CARC_CATEGORY)]  # any a dialect's payer uses
        )
    ),
    dtype=object,
)
_INDEX = {s: i for i, s in enumerate(VOCAB)}


@dataclass
class Adjudication:
    """Drawn outcome and ground truth per claim; list columns as slot matrices (-1 empty)."""

    fired: np.ndarray
    denied: np.ndarray
    top: np.ndarray  # cause index of the denial, -1 paid
    true_probability: np.ndarray
    category_p: np.ndarray  # (k, categories)
    status: np.ndarray  # CLP02 as int: 1 or 4
    paid: np.ndarray
    adjustments: np.ndarray  # (k, s) index into vocab
    remarks: np.ndarray
    fired_categories: np.ndarray  # (k, s) category index, -1


def _dedupe(slots: np.ndarray) -> np.ndarray:
    """Blank later repeats within a row, then compact to the left."""
    out = slots.copy()
    for j in range(1, out.shape[1]):
        repeat = (out[:, :j] == out[:, j : j + 1]).any(1)
        out[repeat, j] = -1
    order = np.argsort(out < 0, axis=1, kind="stable")
    return np.take_along_axis(out, order, 1)


def adjudicate(rng: np.random.Generator, claims: Claims, causes: CauseMatrix,
               service: np.ndarray) -> Adjudication:  # fmt: skip
    k = len(claims)
    p = causes.p
    fired = rng.random(p.shape, dtype=np.float32) < p
    denied = np.asarray(fired.any(1))
    score = np.where(fired, p, -1.0)
    order = np.argsort(-score, axis=1, kind="stable")[:, :MAX_DENIALS]
    n_fired = np.minimum(fired.sum(1), MAX_DENIALS)
    present = np.arange(MAX_DENIALS)[None, :] < n_fired[:, None]
    top = np.where(denied, order[:, 0], -1)
    logq = np.log1p(-p.astype(np.float64))
    true_probability = np.maximum(-np.expm1(logq.sum(1)), 0.0)
    cat_logq = logq @ _CAT_MATRIX
    cause_cat = np.broadcast_to(_CAUSE_CAT, p.shape).copy()
    for ci, cats_of in causes.category.items():  # a payer's CARC moved the cause
        rows = np.flatnonzero(cats_of != _CAUSE_CAT[ci])
        np.add.at(cat_logq, (rows, _CAUSE_CAT[ci]), -logq[rows, ci])
        np.add.at(cat_logq, (rows, cats_of[rows]), logq[rows, ci])
        cause_cat[:, ci] = cats_of
    category_p = np.maximum(-np.expm1(cat_logq), 0.0)

    adj_of = np.array([_INDEX[f"{c.group}-{c.carc}"] for c in CAUSES])
    rem_of = np.array([_INDEX[c.remark or ""] for c in CAUSES])
    adj = np.where(present, adj_of[order], -1)
    rem = np.where(present, rem_of[order], -1)
    for ci, (choice, options) in causes.carc.items():
        codes = np.array([_INDEX[f"{CAUSES[ci].group}-{o}"] for o in options])[choice]
        adj = np.where(present & (order == ci), codes[:, None], adj)
    for ci, (choice, options) in causes.remark.items():
        codes = np.array([_INDEX[o] for o in options])[choice]
        rem = np.where(present & (order == ci), codes[:, None], rem)
    rem = np.where(rem == _INDEX[""], -1, rem)

    # which lines are denied; claim-level causes deny everything
    has = claims.code >= 0
    claim_level = (fired & ~_LINE_LEVEL).any(1)
    line_denied = np.zeros(has.shape, bool)
    for ci, hit in causes.lines.items():
        line_denied |= fired[:, ci : ci + 1] & hit
    line_denied |= claim_level[:, None]
    line_denied &= has
    whole = denied & ~(has & ~line_denied).any(1)
    status = np.where(whole, 4, 1).astype(np.int8)

    payer = claims.payer.astype(np.intp)
    allowed_line = np.where(
        has & ~line_denied, np.round(claims.charge * _ALLOWED[payer][:, None], 2), 0
    )
    allowed = allowed_line.sum(1)
    safe = np.maximum(claims.code, 0)
    shared = np.where(_NO_COST_SHARE[safe], 0.0, allowed_line).sum(1)
    coins = np.round(shared * _COINS[payer], 2)
    em_paid = (has & ~line_denied & C.IS_EM[safe]).any(1)
    copay = np.where(em_paid, np.minimum(_COPAY[payer], shared - coins), 0.0)
    month = service.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12
    deductible_p = np.where(month < 3, 0.35, 0.08) * _COMMERCIAL[payer]
    ded = np.where(
        rng.random(k) < deductible_p,
        np.round((shared - coins - copay) * rng.uniform(0.3, 1, k), 2),
        0,
    )
    ded = np.maximum(ded, 0.0)
    net = allowed - coins - copay - ded
    seq = np.where(_SEQ[payer], np.round(net * 0.02, 2), 0.0)
    paid = np.where(whole, 0.0, np.round(net - seq, 2))
    routine = np.stack(
        [
            ~whole & (allowed > 0),
            ~whole & (ded > 0),
            ~whole & (coins > 0),
            ~whole & (copay > 0),
            ~whole & (seq > 0),
        ],
        axis=1,
    )
    routine_idx = np.array([_INDEX[r] for r in ROUTINE])
    adjustments = _dedupe(np.concatenate([adj, np.where(routine, routine_idx, -1)], axis=1))
    remarks = _dedupe(rem)
    cats = _dedupe(np.where(present, np.take_along_axis(cause_cat, order, 1), -1))
    return Adjudication(
        fired=fired,
        denied=denied,
        top=top,
        true_probability=true_probability,
        category_p=category_p,
        status=status,
        paid=paid,
        adjustments=adjustments,
        remarks=remarks,
        fired_categories=cats,
    )
