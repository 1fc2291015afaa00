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
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from features.contract import CONTEXT_OF_TABLE, CONTEXT_TABLES, CONTEXTS, ClaimIn, table_spec
from features.packed import list_values

if TYPE_CHECKING:
    from features.history import History

Table = dict[str, np.ndarray]
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
        elif spec.kind.startswith("list"):
            columns[spec.name] = list_values(values)
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
        known={CONTEXT_OF_TABLE[t]: np.full(n, t not in missing) for t in CONTEXT_TABLES},
    )


def _shared(table: Table) -> Table:
    return {**table, "owner": np.full(table_length(table), -1)}


# --- from claim requests (pydantic, validated by features.contract) -------------------------


_NUMERIC = ("number", "int", "bool")


def _columns(table: str, objects: Sequence[Any], inherited: dict[str, list[Any]]) -> Table:
    """A table's columns read off pydantic objects; ``inherited`` columns come from their
    claims (a context row's member and payer, a line's claim id)."""
    columns: Table = {}
    for spec in table_spec(table):
        if spec.name in inherited:
            values = inherited[spec.name]
        else:
            values = list(map(attrgetter(spec.name), objects))
        if spec.kind == "date":
            days = [np.nan if v is None else v.toordinal() - _EPOCH_ORDINAL for v in values]
            columns[spec.name] = np.array(days, dtype=float)
        elif spec.kind in _NUMERIC:
            columns[spec.name] = np.array([np.nan if v is None else v for v in values], dtype=float)
        else:
            array = np.empty(len(values), dtype=object)
            array[:] = values
            columns[spec.name] = array
    return columns


def batch_from_requests(requests: Sequence[ClaimIn]) -> ClaimBatch:
    """Claim requests as one batch: each request's inlined context becomes its table rows,
    owned by the request. Built column by column (a 10k-claim batch is a hot path)."""

    def of_claims(name: str, owners: list[int]) -> list[Any]:
        return list(map(attrgetter(name), map(requests.__getitem__, owners)))

    line_owner = [p for p, request in enumerate(requests) for _ in request.lines]
    checked = [p for p, request in enumerate(requests) if request.eligibility is not None]
    auths = [(p, a) for p, request in enumerate(requests) for a in request.authorizations or ()]
    auth_owner = [p for p, _ in auths]
    enrolled = [p for p, request in enumerate(requests) if request.provider_enrollment is not None]
    lines = _columns(
        "claim_lines",
        [line for request in requests for line in request.lines],
        {"claim_id": of_claims("claim_id", line_owner)},
    )
    lines["claim_pos"] = np.asarray(line_owner, dtype=np.int64)
    claims = _columns("claims", requests, {})
    claims["context_owner"] = np.arange(len(requests))
    checks = _columns(
        "eligibility_checks",
        [requests[p].eligibility for p in checked],
        {"member_id": of_claims("member_id", checked), "payer_id": of_claims("payer_id", checked)},
    )
    authorizations = _columns(
        "authorizations",
        [auth for _, auth in auths],
        {
            "member_id": of_claims("member_id", auth_owner),
            "payer_id": of_claims("payer_id", auth_owner),
        },
    )
    enrollments = _columns(
        "provider_enrollments",
        [requests[p].provider_enrollment for p in enrolled],
        {
            "npi": [requests[p].rendering_npi or requests[p].billing_npi for p in enrolled],
            "payer_id": of_claims("payer_id", enrolled),
        },
    )
    return ClaimBatch(
        claims=claims,
        lines=lines,
        eligibility_checks=_owned(checks, checked),
        authorizations=_owned(authorizations, auth_owner),
        provider_enrollments=_owned(enrollments, enrolled),
        known=_known_context(requests),
    )


def _known_context(requests: Sequence[ClaimIn]) -> dict[str, np.ndarray]:
    """Per request and context, whether the context is known: sent, except for eligibility.

    The contract has no way to say "no eligibility check on file" but to leave the block
    out, so a request that carries other context (its PM system exports what it holds)
    and no eligibility is scored as a claim without a check, as the history shows such
    claims. A request with no context at all (an 837P alone) leaves eligibility unknown.
    Either way the answer lists eligibility as not checked.
    """
    sent = {
        context: np.array([getattr(r, context) is not None for r in requests], dtype=bool)
        for context in CONTEXTS
    }
    others = np.logical_or.reduce([sent[c] for c in CONTEXTS if c != "eligibility"])
    return {**sent, "eligibility": sent["eligibility"] | others}


def _owned(table: Table, owners: list[int]) -> Table:
    return {**table, "owner": np.asarray(owners, dtype=np.int64)}
