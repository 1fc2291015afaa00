"""The one input of the feature pipeline: claims, their lines and the context known for them.

A batch is columnar plain numpy, so the same code is fast for one claim request and for a
million history rows. A history folder (pandas, validated) and claim requests (pydantic,
validated) both become a ``ClaimBatch``; from there on, one code path computes the features.

Column encodings: text is an object array with ``None`` for unknown; dates are float day
numbers since 1970-01-01 with NaN for unknown; numbers are float64 (booleans 1/0/NaN); lists
are object arrays of lists. Lines carry ``claim_pos``, the position of their claim.

Context rows carry an ``owner``: -1 for a history's tables, shared by every claim of the
member (or provider) as the contract says; the claim's position for a request's inlined
context, which belongs to that request alone (two requests for one member, or a request and
its what-if copy, never see each other's context). Claims carry the matching
``context_owner``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from features.contract import ClaimIn, table_spec
from features.history import History

Table = dict[str, np.ndarray]
CONTEXTS = ("eligibility", "authorizations", "provider_enrollment")
CONTEXT_TABLES = {
    "eligibility": "eligibility_checks",
    "authorizations": "authorizations",
    "provider_enrollment": "provider_enrollments",
}
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


def table_length(table: Table) -> int:
    return len(next(iter(table.values()))) if table else 0


def take(table: Table, rows: np.ndarray) -> Table:
    return {name: values[rows] for name, values in table.items()}


@dataclass(frozen=True)
class ClaimBatch:
    """Claims with their lines and context tables; ``known`` says, per claim and context,
    whether that context was available (a history table present, a request field sent)."""

    claims: Table
    lines: Table
    eligibility_checks: Table
    authorizations: Table
    provider_enrollments: Table
    known: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return table_length(self.claims)

    def without_context(self, context: str, mask: np.ndarray) -> ClaimBatch:
        """The same batch with ``context`` marked unknown for the claims in ``mask``."""
        known = dict(self.known)
        known[context] = known[context] & ~mask
        return replace(self, known=known)

    def take(self, positions: np.ndarray) -> ClaimBatch:
        """The claims at ``positions`` (with their lines; context tables are shared)."""
        new_position = np.full(len(self), -1)
        new_position[positions] = np.arange(len(positions))
        line_rows = np.flatnonzero(new_position[self.lines["claim_pos"]] >= 0)
        lines = take(self.lines, line_rows)
        lines["claim_pos"] = new_position[lines["claim_pos"]]
        return replace(
            self,
            claims=take(self.claims, positions),
            lines=lines,
            known={name: flags[positions] for name, flags in self.known.items()},
        )


# --- from a validated history (pandas, normalised by features.tables) -----------------------


def _from_frame(table: str, frame: pd.DataFrame) -> Table:
    columns: Table = {}
    for spec in table_spec(table):
        values = frame[spec.name]
        if spec.kind == "date":
            days = np.asarray(values, dtype="datetime64[D]")
            columns[spec.name] = np.where(np.isnat(days), np.nan, days.astype(np.int64))
        elif spec.kind in ("number", "int", "bool"):
            columns[spec.name] = values.to_numpy(dtype=float, na_value=np.nan)
        else:
            columns[spec.name] = values.to_numpy(dtype=object, na_value=None)
    return columns


def batch_from_history(history: History) -> ClaimBatch:
    """All claims of a history; a context is known for every claim when its table exists."""
    claims = _from_frame("claims", history.claims)
    claims["context_owner"] = np.full(len(history.claims), -1)
    lines = _from_frame("claim_lines", history.claim_lines)
    lines["claim_pos"] = pd.Index(history.claims["claim_id"]).get_indexer(
        history.claim_lines["claim_id"]
    )
    missing = set(history.report.missing_context)
    n = len(history.claims)
    return ClaimBatch(
        claims=claims,
        lines=lines,
        eligibility_checks=_shared(_from_frame("eligibility_checks", history.eligibility_checks)),
        authorizations=_shared(_from_frame("authorizations", history.authorizations)),
        provider_enrollments=_shared(
            _from_frame("provider_enrollments", history.provider_enrollments)
        ),
        known={ctx: np.full(n, CONTEXT_TABLES[ctx] not in missing) for ctx in CONTEXTS},
    )


def _shared(table: Table) -> Table:
    return {**table, "owner": np.full(table_length(table), -1)}


# --- from claim requests (pydantic, validated by features.contract) -------------------------


_NUMERIC = ("number", "int", "bool")


def _from_rows(table: str, rows: list[dict[str, object]]) -> Table:
    columns: Table = {}
    for spec in table_spec(table):
        values = [row.get(spec.name) for row in rows]
        if spec.kind == "date":
            days = [np.nan if v is None else v.toordinal() - _EPOCH_ORDINAL for v in values]  # type: ignore[attr-defined]
            columns[spec.name] = np.array(days, dtype=float)
        elif spec.kind in _NUMERIC:
            columns[spec.name] = np.array([np.nan if v is None else v for v in values], dtype=float)
        else:
            array = np.empty(len(values), dtype=object)
            array[:] = values
            columns[spec.name] = array
    return columns


def _owned(table: Table, rows: list[dict[str, object]]) -> Table:
    return {**table, "owner": np.array([row["owner"] for row in rows], dtype=np.int64)}


def batch_from_requests(requests: Sequence[ClaimIn]) -> ClaimBatch:
    """Claim requests as one batch: each request's inlined context becomes its table rows."""
    claims: list[dict[str, object]] = []
    lines: list[dict[str, object]] = []
    line_claim: list[int] = []
    checks: list[dict[str, object]] = []
    auths: list[dict[str, object]] = []
    enrollments: list[dict[str, object]] = []
    for position, request in enumerate(requests):
        claims.append(request.__dict__)
        keys = {"member_id": request.member_id, "payer_id": request.payer_id, "owner": position}
        for line in request.lines:
            lines.append(line.__dict__)
            line_claim.append(position)
        if request.eligibility is not None:
            checks.append({**keys, **request.eligibility.__dict__})
        for auth in request.authorizations or ():
            auths.append({**keys, **auth.__dict__})
        if request.provider_enrollment is not None:
            npi = request.rendering_npi or request.billing_npi
            enrollment = request.provider_enrollment.__dict__
            enrollments.append(
                {"npi": npi, "payer_id": request.payer_id, "owner": position, **enrollment}
            )
    line_table = _from_rows("claim_lines", lines)
    line_table["claim_pos"] = np.asarray(line_claim, dtype=np.int64)
    claim_table = _from_rows("claims", claims)
    claim_table["context_owner"] = np.arange(len(requests))
    return ClaimBatch(
        claims=claim_table,
        lines=line_table,
        eligibility_checks=_owned(_from_rows("eligibility_checks", checks), checks),
        authorizations=_owned(_from_rows("authorizations", auths), auths),
        provider_enrollments=_owned(_from_rows("provider_enrollments", enrollments), enrollments),
        known={
            "eligibility": np.array([r.eligibility is not None for r in requests], dtype=bool),
            "authorizations": np.array(
                [r.authorizations is not None for r in requests], dtype=bool
            ),
            "provider_enrollment": np.array(
                [r.provider_enrollment is not None for r in requests], dtype=bool
            ),
        },
    )
