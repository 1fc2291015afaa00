"""Claims of a history turned into claim requests carrying the context on file for them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.contract import ClaimIn
from features.history import History


def _iso(value: object) -> str | None:
    return None if pd.isna(value) else pd.Timestamp(value).date().isoformat()  # type: ignore[arg-type]


def _plain(value: object) -> object:
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, float) and np.isnan(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def request_for(history: History, claim_id: str) -> ClaimIn:
    claim = history.claims.set_index("claim_id").loc[claim_id]
    body = {"claim_id": claim_id, **{k: _plain(v) for k, v in claim.items()}}
    lines = history.claim_lines[history.claim_lines["claim_id"] == claim_id]
    body["lines"] = [
        {k: _plain(v) for k, v in row.items() if k != "claim_id"}
        for row in lines.to_dict(orient="records")
    ]
    submitted = claim["submission_date"]
    checks = history.eligibility_checks
    mine = checks[
        (checks["member_id"] == claim["member_id"])
        & (checks["payer_id"] == claim["payer_id"])
        & (checks["checked_on"] <= submitted)
    ]
    if len(mine):
        latest = mine.sort_values("checked_on", kind="stable").iloc[-1]
        body["eligibility"] = {
            "checked_on": _iso(latest["checked_on"]),
            "status": latest["status"],
            "coverage_start": _iso(latest["coverage_start"]),
            "coverage_end": _iso(latest["coverage_end"]),
        }
    auths = history.authorizations
    on_file = auths[
        (auths["member_id"] == claim["member_id"]) & (auths["payer_id"] == claim["payer_id"])
    ]
    body["authorizations"] = [
        {k: _plain(v) for k, v in row.items() if k not in ("member_id", "payer_id")}
        for row in on_file.to_dict(orient="records")
    ]
    npi = claim["rendering_npi"] if not pd.isna(claim["rendering_npi"]) else claim["billing_npi"]
    enrollments = history.provider_enrollments
    rows = enrollments[
        (enrollments["npi"] == npi)
        & (enrollments["payer_id"] == claim["payer_id"])
        & (enrollments["effective_date"] <= submitted)
    ]
    if len(rows):
        latest = rows.sort_values("effective_date", kind="stable").iloc[-1]
        body["provider_enrollment"] = {
            "effective_date": _iso(latest["effective_date"]),
            "end_date": _iso(latest["end_date"]),
        }
    return ClaimIn.model_validate(body)
