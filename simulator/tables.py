"""Arrow tables of the simulation: the six history tables (contract section 1), the ground
truth, and the request rows. Built column by column from index arrays, no per-row Python."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from features.categories import CATEGORIES
from simulator import codes as C
from simulator.adjudicate import VOCAB
from simulator.causes import CAUSES
from simulator.claims import CORRECTED, SEX_MISSING
from simulator.context import Authorizations
from simulator.eligibility import Checks
from simulator.exports import AUTH_TYPO, transpose_last_digits
from simulator.ids import id_strings, npi_strings
from simulator.run import Simulation
from simulator.world import NEVER, PAYER_IDS, PAYER_NAMES, PLAN_OF

STATUS = np.array(["active", "inactive", "not_found"], dtype=object)
SEXES = np.array(["F", "M", "U"], dtype=object)


def _vocab(values: np.ndarray, idx: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """values[idx] as a string array (null where mask), through arrow's take."""
    return pa.array(values, pa.string()).take(pa.array(idx, pa.int32(), mask=mask))


def _date(days: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    return pa.array(days.astype(np.int32), pa.int32(), mask=mask).view(pa.date32())


def _list(slots: np.ndarray, values: pa.Array | None = None) -> pa.ListArray:
    """A list column from a (rows x slots) matrix with -1 for empty slots."""
    mask = slots >= 0
    offsets = np.concatenate([[0], np.cumsum(mask.sum(1))]).astype(np.int32)
    flat = slots[mask]
    items = pa.array(flat) if values is None else values.take(pa.array(flat, pa.int32()))
    return pa.ListArray.from_arrays(pa.array(offsets), items)


def _bits(bits: np.ndarray, width: int) -> np.ndarray:
    """(rows,) bit masks -> (rows, width) matrix of set bit positions, -1 elsewhere."""
    pos = np.arange(width)
    on = ((bits[:, None].astype(np.int64) >> pos) & 1) > 0
    return np.where(on, pos, -1)


class Builder:
    """Column sources shared by the tables of one simulation."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        w, c, enc = sim.world, sim.claims, sim.enc
        self.claim_id = id_strings("C", sim.claim_number, 8)
        self.members = pa.array(w.members, pa.string())
        self.patient_number = sim.patient_number
        self.service = enc.service[c.enc]
        self.practice = enc.practice[c.enc]
        n_auth = len(sim.auths)
        self.auth_numbers = (
            id_strings("PA", sim.auth_number, 8) if n_auth else pa.array([], pa.string())
        )

    # -- history tables ------------------------------------------------------------------

    def claims(self, rows: np.ndarray) -> pa.Table:
        sim, c = self.sim, self.sim.claims
        w = sim.world
        pr = w.practices
        practice = self.practice[rows]
        payer = c.payer[rows]
        undotted = pr.habits["undotted_dx"][practice] > 0
        dx = c.dx[rows]
        dx = np.where((dx >= 0) & undotted[:, None], dx + len(C.DX), dx)
        rnpi = c.rendering_npi[rows]
        return pa.table(
            {
                "claim_id": self.claim_id.take(pa.array(rows)),
                "patient_id": id_strings("P", self.patient_number[sim.enc.patient[c.enc[rows]]], 7),
                "member_id": self.members.take(pa.array(c.member[rows])),
                "patient_birth_date": _date(
                    w.patients.birth[sim.enc.patient[c.enc[rows]]], c.birth_missing[rows]
                ),
                "patient_sex": _vocab(
                    SEXES, np.minimum(c.sex[rows], 2), c.sex[rows] == SEX_MISSING
                ),
                "payer_id": _vocab(PAYER_IDS, payer),
                "payer_name": _vocab(PAYER_NAMES, payer),
                "plan_type": _vocab(PLAN_OF, payer),
                "billing_npi": npi_strings(pr.billing_npi[practice]),
                "rendering_npi": _nullable(npi_strings(rnpi), rnpi == 0),
                "place_of_service": _vocab(C.POS_CODES, sim.enc.pos[c.enc[rows]]),
                "frequency_code": _vocab(
                    np.array(["1", "7"], dtype=object), (c.kind[rows] == CORRECTED).astype(np.int32)
                ),
                "service_date": _date(self.service[rows]),
                "submission_date": _date(c.submission[rows]),
                "total_charge": pa.array(np.round(c.total[rows], 2)),
                "prior_auth_number": self._auth_numbers_on(rows),
                "referral_number": _nullable(
                    id_strings("RF", sim.referral_number[c.enc[rows]], 8), ~c.referral[rows]
                ),
                "diagnosis_codes": _list(dx, pa.array(np.concatenate([C.DX, C.DX_UNDOTTED]))),
                "has_attachment": pa.array(c.attachment[rows]),
            }
        )

    def _auth_numbers_on(self, rows: np.ndarray) -> pa.Array:
        """The authorization numbers the claims carry, as mistyped where they were."""
        auth = self.sim.claims.auth_number[rows]
        numbers = self.auth_numbers.take(pa.array(np.maximum(auth, 0), pa.int32(), mask=auth < 0))
        typo = self.sim.claims.flags.get(AUTH_TYPO)
        if typo is None or not typo[rows].any():
            return numbers
        values = numbers.to_pylist()
        for i in np.flatnonzero(typo[rows]):
            values[i] = transpose_last_digits(values[i])
        return pa.array(values, pa.string())

    def claim_lines(self, rows: np.ndarray) -> pa.Table:
        sim, c = self.sim, self.sim.claims
        code = c.code[rows]
        mask = code >= 0
        r, slot = np.nonzero(mask)
        claim = rows[r]
        line_dates = sim.world.practices.habits["line_dates"][self.practice[claim]] > 0
        return pa.table(
            {
                "claim_id": self.claim_id.take(pa.array(claim)),
                "line_number": pa.array(slot.astype(np.int64) + 1),
                "procedure_code": _vocab(C.CODES, code[mask]),
                "modifiers": _list(
                    _bits(c.mods[rows][mask], len(C.MODIFIERS)), pa.array(C.MODIFIERS, pa.string())
                ),
                "units": pa.array(c.units[rows][mask].astype(np.float64)),
                "line_charge": pa.array(np.round(c.charge[rows][mask], 2)),
                "diagnosis_pointers": _pointers(c.ptr[rows][mask]),
                "service_date": _date(self.service[claim], ~line_dates),
            }
        )

    def outcomes(self, rows: np.ndarray) -> pa.Table:
        sim = self.sim
        a, c = sim.adj, sim.claims
        vocab = pa.array(VOCAB, pa.string())
        return pa.table(
            {
                "claim_id": self.claim_id.take(pa.array(rows)),
                "adjudication_date": _date(c.adjudication[rows]),
                "claim_status_code": _vocab(
                    np.array(["0", "1", "2", "3", "4"], dtype=object),
                    a.status[rows].astype(np.int32),
                ),
                "paid_amount": pa.array(a.paid[rows]),
                "adjustments": _list(a.adjustments[rows], vocab),
                "remark_codes": _list(a.remarks[rows], vocab),
            }
        )

    def eligibility_checks(self, checks: Checks, rows: np.ndarray) -> pa.Table:
        return pa.table(
            {
                "member_id": self.members.take(pa.array(checks.member[rows])),
                "payer_id": _vocab(PAYER_IDS, checks.payer[rows]),
                "checked_on": _date(checks.day[rows]),
                "status": _vocab(STATUS, checks.status[rows]),
                "coverage_start": _date(checks.start[rows], checks.start[rows] == NEVER),
                "coverage_end": _date(checks.end[rows], checks.end[rows] == NEVER),
            }
        )

    def authorizations(self, auths: Authorizations, rows: np.ndarray) -> pa.Table:
        units = auths.units[rows]
        return pa.table(
            {
                "auth_number": self.auth_numbers.take(pa.array(rows)),
                "payer_id": _vocab(PAYER_IDS, auths.payer[rows]),
                "member_id": self.members.take(pa.array(auths.member[rows])),
                "procedure_codes": _list(auths.codes[rows], pa.array(C.CODES, pa.string())),
                "start_date": _date(auths.start[rows]),
                "end_date": _date(auths.end[rows]),
                "provider_npi": npi_strings(auths.provider_npi[rows]),
                "units": pa.array(units.astype(np.float64), mask=units <= 0),
            }
        )

    def provider_enrollments(self) -> pa.Table:
        enr = self.sim.enrollments
        n = len(enr.npi)
        end = pa.nulls(n, pa.date32()) if enr.end is None else _date(enr.end, enr.end == NEVER)
        return pa.table(
            {
                "npi": npi_strings(enr.npi),
                "payer_id": _vocab(PAYER_IDS, enr.payer),
                "effective_date": _date(enr.effective),
                "end_date": end,
            }
        )

    # -- ground truth ----------------------------------------------------------------------

    def ground_truth(self) -> pa.Table:
        sim = self.sim
        a = sim.adj
        n = len(a.denied)
        cats = pa.array(np.array(CATEGORIES, dtype=object), pa.string())
        top = a.top
        fired = _list(a.fired_categories, cats)
        columns: dict[str, pa.Array] = {
            "claim_id": self.claim_id,
            "split": _vocab(
                np.array(["request", "history"], dtype=object), sim.history.astype(np.int32)
            ),
            "true_probability": pa.array(a.true_probability),
            "denied": pa.array(a.denied),
            "true_category": cats.take(  # the first denial's category (its CARC's)
                pa.array(a.fired_categories[:, 0], pa.int32(), mask=top < 0)
            ),
            "fired_causes": pc.binary_join(fired, "|"),
            "n_fired": pa.array((a.fired_categories >= 0).sum(1).astype(np.int64)),
        }
        columns["fired_causes"] = _nullable(columns["fired_causes"], ~a.denied)
        for j, cat in enumerate(CATEGORIES):
            columns[f"p_{cat}"] = pa.array(a.category_p[:, j])
        names = np.array([c.name for c in CAUSES], dtype=object)
        groups = np.array([c.index_group for c in CAUSES], dtype=object)
        columns["true_cause"] = _vocab(names, np.maximum(top, 0), top < 0)
        columns["index_group"] = _vocab(groups, np.maximum(top, 0), top < 0)
        assert n == len(columns["claim_id"])
        return pa.table(columns)


def _nullable(values: pa.Array, mask: np.ndarray) -> pa.Array:
    """values with nulls where mask."""
    return pc.if_else(pa.array(mask), pa.scalar(None, values.type), values)


def _pointers(ptr: np.ndarray) -> pa.ListArray:
    slots = _bits(ptr, 8)
    mask = slots >= 0
    offsets = np.concatenate([[0], np.cumsum(mask.sum(1))]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(slots[mask].astype(np.int64) + 1))
