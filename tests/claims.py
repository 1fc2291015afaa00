"""Hand-built claim requests for tests: the contract's example claim, changed field by field."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

from features.contract import ClaimIn

EXAMPLE = json.loads((Path(__file__).parent / "fixtures" / "contract_example.json").read_text())


def claim_json(**changes: Any) -> dict[str, Any]:
    """The contract example with top-level fields replaced (``None`` removes context)."""
    body = copy.deepcopy(EXAMPLE)
    body.update(changes)
    return body


def claim(**changes: Any) -> ClaimIn:
    return ClaimIn.model_validate(claim_json(**changes))


def resent(claims: list[ClaimIn], days: int, suffix: str) -> list[ClaimIn]:
    """The claims sent again ``days`` later as new originals (their ids with ``suffix``)."""
    return [
        c.model_copy(
            update={
                "claim_id": f"{c.claim_id}{suffix}",
                "submission_date": c.submission_date + dt.timedelta(days=days),
            }
        )
        for c in claims
    ]


def day_number(date: str) -> int:
    """An ISO date as the feature code's day number (days since 1970-01-01)."""
    return dt.date.fromisoformat(date).toordinal() - dt.date(1970, 1, 1).toordinal()
