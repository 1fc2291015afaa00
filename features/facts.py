"""Facts: a claim batch joined to its context as of each claim's submission date.

Per claim: dates as day numbers, the eligibility check that applies (the latest on or before
submission), the provider's latest enrollment on file. Per line: the best authorization on file
for its code (valid / units short / other provider / outside dates / none), diagnosis support,
modifiers and unit edits. Feature functions read these columns; nothing here is learned.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from features import codes
from features.asof import AsOfTable, day_numbers, key_hash
from features.batch import ClaimBatch

# Best authorization status of a line, best first.
AUTH_VALID, AUTH_UNITS_SHORT, AUTH_OTHER_PROVIDER, AUTH_OUTSIDE_DATES, AUTH_NONE = range(5)
ELIG_STATUS_CODE = {"active": 0.0, "inactive": 1.0, "not_found": 2.0}
# What the applicable eligibility check says about the date of service.
ELIG_ACTIVE_COVERED, ELIG_NO_CHECK, ELIG_ACTIVE_OUTSIDE, ELIG_INACTIVE, ELIG_NOT_FOUND = range(5)


@dataclass(frozen=True)
class Facts:
    """Per-claim and per-line facts of a batch (positional indexes; lines carry claim_pos)."""

    claims: pd.DataFrame
    lines: pd.DataFrame
    known: dict[str, np.ndarray]

    def per_claim(self, values: np.ndarray, how: str, empty: float = 0.0) -> np.ndarray:
        """Aggregate a line-level array to claims (``max``, ``min`` or ``sum``); NaN lines skip."""
        series = pd.Series(values, dtype=float).groupby(self.lines["claim_pos"].to_numpy())
        result = getattr(series, how)().reindex(range(len(self.claims)))
        return result.fillna(empty).to_numpy(float)


def _latest_on_or_before(
    table_keys: np.ndarray, table_days: np.ndarray, keys: np.ndarray, days: np.ndarray
) -> np.ndarray:
    """Row of the table with the same key and the latest day on or before ``days`` (-1 if none)."""
    table = AsOfTable.build(
        table_keys, table_days, {"row": np.arange(len(table_keys), dtype=float)}, {"row": "last"}
    )
    rows = table.lookup(keys, days + 1)[:, 0]
    return np.where(np.isnan(rows), -1, rows).astype(np.int64)


def _gather(values: pd.Series | np.ndarray, rows: np.ndarray, fill: float = np.nan) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if len(array) == 0:
        return np.full(len(rows), fill)
    return np.where(rows >= 0, array[np.maximum(rows, 0)], fill)


def _text(values: pd.Series) -> np.ndarray:
    """Text column as an object array with None for unknown (safe to compare elementwise)."""
    return values.to_numpy(dtype=object, na_value=None)


def _claim_facts(batch: ClaimBatch) -> pd.DataFrame:
    claims = batch.claims
    sub_day = day_numbers(claims["submission_date"])
    svc_day = day_numbers(claims["service_date"])
    provider = claims["rendering_npi"].fillna(claims["billing_npi"])
    facts = pd.DataFrame(
        {
            "claim_id": claims["claim_id"].to_numpy(),
            "payer_id": _text(claims["payer_id"]),
            "plan_type": _text(claims["plan_type"]),
            "place_of_service": _text(claims["place_of_service"]),
            "patient_key": key_hash(claims["patient_id"]),
            "member_key": key_hash(claims["member_id"], claims["payer_id"]),
            "provider_npi": _text(provider),
            "provider_key": key_hash(provider, claims["payer_id"]),
            "sub_day": sub_day,
            "svc_day": svc_day,
            "lag_days": (sub_day - svc_day).astype(float),
            "total_charge": claims["total_charge"].to_numpy(float),
            "frequency_code": _text(claims["frequency_code"]),
            "patient_sex": _text(claims["patient_sex"]),
            "referral_missing": claims["referral_number"].isna().to_numpy(float),
            "attachment_missing": (~claims["has_attachment"].fillna(False)).to_numpy(float),
            "birth_date_missing": claims["patient_birth_date"].isna().to_numpy(float),
            "sex_missing": claims["patient_sex"].isna().to_numpy(float),
            "prior_auth_number": _text(claims["prior_auth_number"]),
            "n_diagnoses": claims["diagnosis_codes"].map(len).to_numpy(float),
        }
    )
    npis = pd.concat([claims["billing_npi"], claims["rendering_npi"].dropna()])
    bad_npi = npis[~npis.map(codes.npi_check_digit_ok)].index.unique()
    facts["npi_check_digit_bad"] = np.isin(np.arange(len(claims)), bad_npi).astype(float)
    _attach_eligibility(facts, batch)
    _attach_enrollment(facts, batch)
    return facts


def _attach_eligibility(facts: pd.DataFrame, batch: ClaimBatch) -> None:
    checks = batch.eligibility_checks
    rows = _latest_on_or_before(
        key_hash(checks["member_id"], checks["payer_id"]),
        day_numbers(checks["checked_on"]),
        facts["member_key"].to_numpy(),
        facts["sub_day"].to_numpy(),
    )
    known = batch.known["eligibility"]
    rows = np.where(known, rows, -1)
    facts["elig_known"] = known.astype(float)
    facts["elig_found"] = np.where(known, rows >= 0, np.nan)
    facts["elig_check_day"] = _gather(day_numbers(checks["checked_on"]), rows)
    facts["elig_status"] = _gather(checks["status"].map(ELIG_STATUS_CODE), rows)
    facts["elig_coverage_start_day"] = _gather(day_numbers(checks["coverage_start"]), rows)
    end = day_numbers(checks["coverage_end"])
    facts["elig_coverage_end_day"] = _gather(np.where(end < 0, np.nan, end), rows)
    start = facts["elig_coverage_start_day"]
    facts["elig_coverage_start_day"] = start.where(start >= 0)
    facts["elig_state"] = _eligibility_state(facts)
    facts["elig_checked_on"] = _dates(checks["checked_on"], rows)
    facts["elig_coverage_end"] = _dates(checks["coverage_end"], rows)


def _eligibility_state(facts: pd.DataFrame) -> np.ndarray:
    """What the applicable check says about the date of service, as one code (NaN unknown)."""
    svc = facts["svc_day"].to_numpy(float)
    status = facts["elig_status"].to_numpy(float)
    outside = (facts["elig_coverage_end_day"].to_numpy(float) < svc) | (
        facts["elig_coverage_start_day"].to_numpy(float) > svc
    )
    state = np.select(
        [facts["elig_found"] == 0, status == 1, status == 2, outside],
        [ELIG_NO_CHECK, ELIG_INACTIVE, ELIG_NOT_FOUND, ELIG_ACTIVE_OUTSIDE],
        ELIG_ACTIVE_COVERED,
    ).astype(float)
    return np.where(facts["elig_known"].to_numpy() > 0, state, np.nan)


def _attach_enrollment(facts: pd.DataFrame, batch: ClaimBatch) -> None:
    enrollments = batch.provider_enrollments
    rows = _latest_on_or_before(
        key_hash(enrollments["npi"], enrollments["payer_id"]),
        day_numbers(enrollments["effective_date"]),
        facts["provider_key"].to_numpy(),
        facts["sub_day"].to_numpy(),
    )
    known = batch.known["provider_enrollment"]
    rows = np.where(known, rows, -1)
    end = day_numbers(enrollments["end_date"])
    facts["enroll_known"] = known.astype(float)
    facts["enroll_effective_day"] = _gather(day_numbers(enrollments["effective_date"]), rows)
    facts["enroll_end_day"] = _gather(np.where(end < 0, np.nan, end), rows)
    facts["enroll_found"] = np.where(known, rows >= 0, np.nan)
    facts["enroll_effective_date"] = _dates(enrollments["effective_date"], rows)
    facts["enroll_end_date"] = _dates(enrollments["end_date"], rows)


def _dates(values: pd.Series, rows: np.ndarray) -> np.ndarray:
    """ISO date strings (for evidence) of the gathered rows; None where unknown."""
    text = values.dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
    if len(text) == 0:
        return np.full(len(rows), None, dtype=object)
    picked = text[np.maximum(rows, 0)]
    picked[rows < 0] = None
    picked[pd.isna(picked)] = None
    return picked


def _line_facts(batch: ClaimBatch, claim_facts: pd.DataFrame) -> pd.DataFrame:
    lines = batch.claim_lines
    claim_index = pd.Index(batch.claims["claim_id"])
    claim_pos = claim_index.get_indexer(lines["claim_id"])
    claim = claim_facts.iloc[claim_pos]
    line_day = day_numbers(lines["service_date"])
    line_day = np.where(line_day < 0, claim["svc_day"].to_numpy(), line_day)
    code = lines["procedure_code"].to_numpy(dtype=object)
    modifiers = lines["modifiers"].to_numpy(dtype=object)
    sex = claim["patient_sex"].to_numpy(dtype=object)
    facts = pd.DataFrame(
        {
            "claim_pos": claim_pos,
            "line_number": lines["line_number"].to_numpy(),
            "payer_id": claim["payer_id"].to_numpy(),
            "procedure_code": code,
            "units": lines["units"].to_numpy(float),
            "line_charge": lines["line_charge"].to_numpy(float),
            "line_day": line_day,
            "is_em": np.isin(code, list(codes.EM_CODES)),
            "has_25": [codes.MODIFIER_25 in m for m in modifiers],
            "global_procedure": [codes.has_global_period(c) for c in code],
            "telehealth_modifier": [
                bool(codes.TELEHEALTH_MODIFIERS.intersection(m)) for m in modifiers
            ],
            "max_units": pd.Series(code).map(codes.MAX_UNITS).to_numpy(float),
            "sex_conflict": (np.isin(code, list(codes.FEMALE_ONLY_CODES)) & (sex == "M"))
            | (np.isin(code, list(codes.MALE_ONLY_CODES)) & (sex == "F")),
        }
    )
    diagnoses = batch.claims["diagnosis_codes"].to_numpy(dtype=object)[claim_pos]
    pointers = lines["diagnosis_pointers"].to_numpy(dtype=object)
    supported, bad_pointer = [], []
    for procedure, dx, points in zip(code, diagnoses, pointers, strict=True):
        pointed = [dx[p - 1] for p in points if p <= len(dx)]
        bad_pointer.append(len(pointed) < len(points))
        supported.append(codes.diagnosis_supports(procedure, pointed))
    facts["dx_supported"] = supported
    facts["pointer_out_of_range"] = bad_pointer
    facts["dup_key"] = key_hash(
        batch.claims["patient_id"].to_numpy(dtype=object)[claim_pos], line_day, code
    )
    _attach_authorizations(facts, batch, claim)
    status = facts["auth_status"].to_numpy(float)
    facts["no_valid_auth"] = np.where(np.isnan(status), np.nan, status > AUTH_VALID)
    facts["dx_unsupported"] = ~facts["dx_supported"]
    facts["attachment_missing"] = claim["attachment_missing"].to_numpy()
    return facts


def _attach_authorizations(facts: pd.DataFrame, batch: ClaimBatch, claim: pd.DataFrame) -> None:
    auths = batch.authorizations
    auth_codes = auths["procedure_codes"].explode().dropna()
    auth_row = auth_codes.index.to_numpy(np.int64)
    pairs = pd.DataFrame(
        {
            "line": np.arange(len(facts)),
            "key": key_hash(
                claim["payer_id"],
                batch.claims["member_id"].to_numpy(dtype=object)[facts["claim_pos"]],
                facts["procedure_code"],
            ),
        }
    ).merge(
        pd.DataFrame(
            {
                "auth": auth_row,
                "key": key_hash(
                    auths["payer_id"].to_numpy(dtype=object)[auth_row],
                    auths["member_id"].to_numpy(dtype=object)[auth_row],
                    auth_codes,
                ),
            }
        ),
        on="key",
    )
    line, auth = pairs["line"].to_numpy(), pairs["auth"].to_numpy()
    start = day_numbers(auths["start_date"])[auth]
    end = day_numbers(auths["end_date"])[auth]
    on_file = start <= claim["sub_day"].to_numpy()[line]
    line, auth, start, end = line[on_file], auth[on_file], start[on_file], end[on_file]
    day = facts["line_day"].to_numpy()[line]
    gap = np.maximum.reduce([start - day, day - end, np.zeros_like(day)])
    auth_npi = _text(auths["provider_npi"])[auth]
    npis = {"rendering": batch.claims["rendering_npi"], "billing": batch.claims["billing_npi"]}
    claim_of_line = facts["claim_pos"].to_numpy()[line]
    provider_ok = pd.isna(auth_npi)
    for column in npis.values():
        provider_ok |= auth_npi == _text(column)[claim_of_line]
    approved = auths["units"].to_numpy(float)[auth]
    short = np.where(np.isnan(approved), 0.0, facts["units"].to_numpy()[line] - approved)
    status = np.select(
        [gap > 0, ~provider_ok, short > 0],
        [AUTH_OUTSIDE_DATES, AUTH_OTHER_PROVIDER, AUTH_UNITS_SHORT],
        AUTH_VALID,
    )
    best = (
        pd.DataFrame({"line": line, "status": status, "gap": gap, "short": short, "auth": auth})
        .sort_values(["line", "status", "gap", "auth"], kind="stable")
        .drop_duplicates("line")
        .set_index("line")
        .reindex(range(len(facts)))
    )
    known = batch.known["authorizations"][facts["claim_pos"].to_numpy()]
    facts["auth_status"] = np.where(known, best["status"].fillna(AUTH_NONE), np.nan)
    facts["auth_gap_days"] = np.where(known, best["gap"].fillna(0), np.nan)
    facts["auth_units_short"] = np.where(known, best["short"].fillna(0).clip(lower=0), np.nan)
    auth_rows = best["auth"].fillna(-1).to_numpy(np.int64)
    number = auths["auth_number"].to_numpy(dtype=object)
    facts["auth_number"] = np.where(
        auth_rows >= 0, number[np.maximum(auth_rows, 0)] if len(number) else None, None
    )
    facts["auth_start_date"] = _dates(auths["start_date"], np.where(known, auth_rows, -1))
    facts["auth_end_date"] = _dates(auths["end_date"], np.where(known, auth_rows, -1))
    facts["auth_provider_npi"] = np.where(
        auth_rows >= 0,
        _text(auths["provider_npi"])[np.maximum(auth_rows, 0)] if len(number) else None,
        None,
    )


def build_facts(batch: ClaimBatch) -> Facts:
    """The facts of every claim and line in ``batch``."""
    claim_facts = _claim_facts(batch)
    line_facts = _line_facts(batch, claim_facts)
    return Facts(claims=claim_facts, lines=line_facts, known=batch.known)
