"""The one input of the feature pipeline: claims, their lines and the context known for them.

A history folder and a batch of claim requests both become a ``ClaimBatch`` in the normalised
form of ``features.tables``; from there on, one code path computes the features.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from features.contract import ClaimIn, table_spec
from features.history import History
from features.tables import normalize_table

CONTEXTS = ("eligibility", "authorizations", "provider_enrollment")


@dataclass(frozen=True)
class ClaimBatch:
    """Claims with their lines and context tables; ``known`` says, per claim and context,
    whether that context was available (a history table present, a request field sent)."""

    claims: pd.DataFrame
    claim_lines: pd.DataFrame
    eligibility_checks: pd.DataFrame
    authorizations: pd.DataFrame
    provider_enrollments: pd.DataFrame
    known: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.claims)

    def without_context(self, context: str, mask: np.ndarray) -> ClaimBatch:
        """The same batch with ``context`` marked unknown for the claims in ``mask``."""
        known = dict(self.known)
        known[context] = known[context] & ~mask
        return replace(self, known=known)

    def take(self, positions: np.ndarray) -> ClaimBatch:
        """The claims at ``positions`` (with their lines; context tables are shared)."""
        claims = self.claims.iloc[positions].reset_index(drop=True)
        lines = self.claim_lines[self.claim_lines["claim_id"].isin(claims["claim_id"])]
        return replace(
            self,
            claims=claims,
            claim_lines=lines.reset_index(drop=True),
            known={name: flags[positions] for name, flags in self.known.items()},
        )


def batch_from_history(history: History) -> ClaimBatch:
    """All claims of a history; a context is known for every claim when its table exists."""
    n = len(history.claims)
    missing = set(history.report.missing_context)
    tables = {
        "eligibility": "eligibility_checks",
        "authorizations": "authorizations",
        "provider_enrollment": "provider_enrollments",
    }
    known = {ctx: np.full(n, tables[ctx] not in missing) for ctx in CONTEXTS}
    return ClaimBatch(
        claims=history.claims,
        claim_lines=history.claim_lines,
        eligibility_checks=history.eligibility_checks,
        authorizations=history.authorizations,
        provider_enrollments=history.provider_enrollments,
        known=known,
    )


def batch_from_requests(requests: Sequence[ClaimIn]) -> ClaimBatch:
    """Claim requests as one batch: each request's inlined context becomes its table rows."""
    claims, lines, checks, auths, enrollments = [], [], [], [], []
    for request in requests:
        claim = request.model_dump(mode="json")
        keys = {"member_id": request.member_id, "payer_id": request.payer_id}
        for line in claim.pop("lines"):
            lines.append({"claim_id": request.claim_id, **line})
        check = claim.pop("eligibility")
        if check is not None:
            checks.append({**keys, **check})
        for auth in claim.pop("authorizations") or ():
            auths.append({**keys, **auth})
        enrollment = claim.pop("provider_enrollment")
        if enrollment is not None:
            npi = request.rendering_npi or request.billing_npi
            enrollments.append({"npi": npi, "payer_id": request.payer_id, **enrollment})
        claims.append(claim)
    known = {
        "eligibility": np.array([r.eligibility is not None for r in requests], dtype=bool),
        "authorizations": np.array([r.authorizations is not None for r in requests], dtype=bool),
        "provider_enrollment": np.array(
            [r.provider_enrollment is not None for r in requests], dtype=bool
        ),
    }
    return ClaimBatch(
        claims=_normalized("claims", claims),
        claim_lines=_normalized("claim_lines", lines),
        eligibility_checks=_normalized("eligibility_checks", checks),
        authorizations=_normalized("authorizations", auths),
        provider_enrollments=_normalized("provider_enrollments", enrollments),
        known=known,
    )


def _normalized(table: str, rows: list[dict[str, object]]) -> pd.DataFrame:
    columns = [spec.name for spec in table_spec(table)]
    return normalize_table(table, pd.DataFrame(rows, columns=columns)).frame
