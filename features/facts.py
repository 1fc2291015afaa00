"""Facts: a claim batch joined to its context as of each claim's submission date.

Per claim: day numbers, the eligibility check that applies (the latest on or before
submission), the provider's latest enrollment on file. Per line: the best authorization on file
for its code (valid / units short / other provider / outside dates / none), diagnosis support,
modifiers and unit edits, and as text keys for learned rates how it was billed (units,
modifiers, the claim's other codes: ``line_pattern``) and what it points at (``pointed_dx``).
Feature functions read these columns; nothing here is learned.
All columns are numpy arrays (see ``features.batch`` for encodings).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np

from features import codes
from features.asof import DAY_BITS, column_hash, combine_hashes, day_numbers, key_hash
from features.batch import ClaimBatch, Table, table_length

# Best authorization status of a line, best first.
AUTH_VALID, AUTH_UNITS_SHORT, AUTH_OTHER_PROVIDER, AUTH_OUTSIDE_DATES, AUTH_NONE = range(5)
ELIG_STATUS_CODE = {"active": 0.0, "inactive": 1.0, "not_found": 2.0}
# What the applicable eligibility check says about the date of service.
ELIG_ACTIVE_COVERED, ELIG_NO_CHECK, ELIG_ACTIVE_OUTSIDE, ELIG_INACTIVE, ELIG_NOT_FOUND = range(5)


@dataclass(frozen=True)
class Facts:
    """Per-claim and per-line facts of a batch; lines carry ``claim_pos``."""

    claims: Table
    lines: Table
    known: dict[str, np.ndarray]
    _hashes: dict[tuple[str, ...], np.ndarray] = field(default_factory=dict, repr=False)

    def key(self, level: str, columns: tuple[str, ...]) -> np.ndarray:
        """Hash of key ``columns`` of the claims or lines; each key and each column is hashed
        once per batch (many keys share a column, such as the payer)."""
        if len(columns) == 1:
            table = self.lines if level == "line" else self.claims
            return _hash_once(self._hashes, level, columns[0], table[columns[0]])
        cache_key = (level, *columns)
        if cache_key not in self._hashes:
            self._hashes[cache_key] = combine_hashes([self.key(level, (c,)) for c in columns])
        return self._hashes[cache_key]

    def with_lines(self, **columns: np.ndarray) -> Facts:
        """The same facts with more line columns. The hashes already computed carry over,
        except any of those columns: they may come from fitted state (a repeat level), which
        another state would give otherwise, so they never enter this batch's own cache."""
        hashes = {
            key: values
            for key, values in self._hashes.items()
            if key[0] != "line" or not columns.keys() & set(key[1:])
        }
        return replace(self, lines={**self.lines, **columns}, _hashes=hashes)

    @cached_property
    def n_claims(self) -> int:
        return table_length(self.claims)

    def per_claim(self, values: np.ndarray, how: str, empty: float = 0.0) -> np.ndarray:
        """Aggregate line values to claims (``max``, ``min``, ``sum``), skipping NaN lines;
        a claim with no (non-NaN) line gets ``empty``."""
        values = np.asarray(values, dtype=float)
        position = self.lines["claim_pos"]
        if how == "sum":
            known = ~np.isnan(values)
            total = np.bincount(position, np.where(known, values, 0.0), minlength=self.n_claims)
            seen = np.bincount(position, known, minlength=self.n_claims)
            return np.where(seen > 0, total, empty)
        start = -np.inf if how == "max" else np.inf
        result = np.full(self.n_claims, start)
        (np.fmax if how == "max" else np.fmin).at(result, position, values)
        return np.where(np.isinf(result) & (result == start), empty, result)


def _pick(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """values[rows] with NaN / None where ``rows`` is -1."""
    numeric = values.dtype.kind == "f"
    if len(values) == 0:
        return np.full(len(rows), np.nan if numeric else None, dtype=values.dtype)
    picked = values[np.maximum(rows, 0)].copy()
    picked[rows < 0] = np.nan if numeric else None
    return picked


def _latest_on_or_before(
    table_keys: np.ndarray, table_days: np.ndarray, keys: np.ndarray, days: np.ndarray
) -> np.ndarray:
    """Row of the table with the same key and the latest day on or before ``days`` (-1 none);
    of rows on the same day, the last in table order."""
    table_days = day_numbers(table_days)
    dated = np.flatnonzero(table_days >= 0)
    if len(dated) == 0 or len(keys) == 0:
        return np.full(len(keys), -1, dtype=np.int64)
    uniques, codes = np.unique(table_keys[dated], return_inverse=True)
    composite = (codes.astype(np.int64) << DAY_BITS) | table_days[dated]
    order = np.argsort(composite, kind="stable")
    composite = composite[order]
    code = np.minimum(np.searchsorted(uniques, keys), len(uniques) - 1)
    query = (code.astype(np.int64) << DAY_BITS) | np.clip(day_numbers(days) + 1, 0, None)
    position = np.searchsorted(composite, query, side="left") - 1
    safe = np.maximum(position, 0)
    found = (uniques[code] == keys) & (position >= 0) & ((composite[safe] >> DAY_BITS) == code)
    return np.where(found, dated[order[safe]], -1)


def _isin(values: np.ndarray, choices: frozenset[str]) -> np.ndarray:
    return np.fromiter((v in choices for v in values), bool, len(values))


def is_none(values: np.ndarray) -> np.ndarray:
    """Unknown entries of a text column."""
    return np.fromiter((v is None for v in values), bool, len(values))


Hashes = dict[tuple[str, ...], np.ndarray]


def _hash_once(hashes: Hashes, level: str, name: str, values: np.ndarray) -> np.ndarray:
    """The hash of a key column, computed once per batch (cache shared with ``Facts.key``)."""
    if (level, name) not in hashes:
        hashes[level, name] = column_hash(values)
    return hashes[level, name]


def _claim_facts(batch: ClaimBatch, hashes: Hashes) -> Table:
    claims = batch.claims
    rendering = claims["rendering_npi"]
    provider = np.where(is_none(rendering), claims["billing_npi"], rendering)
    patient, member, payer, provider_hash, owner = (
        _hash_once(hashes, "claim", name, values)
        for name, values in (
            ("patient_id", claims["patient_id"]),
            ("member_id", claims["member_id"]),
            ("payer_id", claims["payer_id"]),
            ("provider_npi", provider),
            ("context_owner", claims["context_owner"]),
        )
    )
    facts: Table = {
        "claim_id": claims["claim_id"],
        "payer_id": claims["payer_id"],
        "plan_type": claims["plan_type"],
        "place_of_service": claims["place_of_service"],
        "frequency_code": claims["frequency_code"],
        "patient_sex": claims["patient_sex"],
        "prior_auth_number": claims["prior_auth_number"],
        "provider_npi": provider,
        "patient_key": patient,
        "member_key": combine_hashes([member, payer]),
        "provider_key": combine_hashes([provider_hash, payer]),
        "member_context_key": combine_hashes([member, payer, owner]),
        "provider_context_key": combine_hashes([provider_hash, payer, owner]),
        "sub_day": claims["submission_date"],
        "svc_day": claims["service_date"],
        "lag_days": claims["submission_date"] - claims["service_date"],
        "total_charge": claims["total_charge"],
        "referral_missing": is_none(claims["referral_number"]).astype(float),
        "attachment_missing": (claims["has_attachment"] != 1).astype(float),
        "birth_day": claims["patient_birth_date"],
        "birth_date_missing": np.isnan(claims["patient_birth_date"]).astype(float),
        "invalid_diagnoses": np.fromiter(
            (
                sum(not codes.diagnosis_billable(dx) for dx in dxs)
                for dxs in claims["diagnosis_codes"]
            ),
            float,
            len(provider),
        ),
        "charge_band": np.floor(2 * np.log2(np.maximum(claims["total_charge"], 50.0) / 50.0)),
        "sex_missing": is_none(claims["patient_sex"]).astype(float),
        "npi_check_digit_bad": np.fromiter(
            (
                not codes.npi_check_digit_ok(b)
                or (r is not None and not codes.npi_check_digit_ok(r))
                for b, r in zip(claims["billing_npi"], claims["rendering_npi"], strict=True)
            ),
            float,
            len(provider),
        ),
    }
    _attach_eligibility(facts, batch)
    _attach_enrollment(facts, batch)
    return facts


def _applicable(
    facts: Table, batch: ClaimBatch, context: str, table: Table, keys: tuple[str, str], day: str
) -> tuple[np.ndarray, np.ndarray]:
    """Per claim, the row of ``table`` that applies (same keys and owner, latest ``day`` on or
    before submission; -1 when none or the context is unknown), and whether it is known."""
    claim_key = "member_context_key" if context == "eligibility" else "provider_context_key"
    rows = _latest_on_or_before(
        key_hash(table[keys[0]], table[keys[1]], table["owner"]),
        table[day],
        facts[claim_key],
        facts["sub_day"],
    )
    known = batch.known[context]
    return np.where(known, rows, -1), known


def _attach_eligibility(facts: Table, batch: ClaimBatch) -> None:
    checks = batch.eligibility_checks
    rows, known = _applicable(
        facts, batch, "eligibility", checks, ("member_id", "payer_id"), "checked_on"
    )
    status = np.array([ELIG_STATUS_CODE[s] for s in checks["status"]], dtype=float)
    facts["elig_known"] = known.astype(float)
    facts["elig_found"] = np.where(known, rows >= 0, np.nan)
    facts["elig_check_day"] = _pick(checks["checked_on"], rows)
    facts["elig_status"] = _pick(status, rows)
    facts["elig_coverage_start_day"] = _pick(checks["coverage_start"], rows)
    facts["elig_coverage_end_day"] = _pick(checks["coverage_end"], rows)
    svc = facts["svc_day"]
    outside = (facts["elig_coverage_end_day"] < svc) | (facts["elig_coverage_start_day"] > svc)
    state = np.select(
        [facts["elig_found"] == 0, facts["elig_status"] == 1, facts["elig_status"] == 2, outside],
        [ELIG_NO_CHECK, ELIG_INACTIVE, ELIG_NOT_FOUND, ELIG_ACTIVE_OUTSIDE],
        ELIG_ACTIVE_COVERED,
    ).astype(float)
    facts["elig_state"] = np.where(known, state, np.nan)


def _attach_enrollment(facts: Table, batch: ClaimBatch) -> None:
    enrollments = batch.provider_enrollments
    rows, known = _applicable(
        facts, batch, "provider_enrollment", enrollments, ("npi", "payer_id"), "effective_date"
    )
    facts["enroll_known"] = known.astype(float)
    facts["enroll_found"] = np.where(known, rows >= 0, np.nan)
    facts["enroll_effective_day"] = _pick(enrollments["effective_date"], rows)
    end = _pick(enrollments["end_date"], rows)
    # An end date after submission was not known then (history rows are edited later).
    facts["enroll_end_day"] = np.where(end > facts["sub_day"], np.nan, end)


def _age_conflict(code: np.ndarray, age: np.ndarray) -> np.ndarray:
    """Lines whose code is defined for an age band the patient's age is outside of."""
    bands = [codes.AGE_BANDS.get(c) for c in code]
    return np.fromiter(
        (band is not None and not np.isnan(a) and not band[0] <= a < band[1] + 1
         for band, a in zip(bands, age, strict=True)),
        bool, len(code),
    )  # fmt: skip


def _line_patterns(
    code: np.ndarray, modifiers: np.ndarray, units: np.ndarray, position: np.ndarray
) -> np.ndarray:
    """Per line, as one text: its units, its modifiers and the other codes of its claim
    (what a payer's code edits look at: unit limits, modifiers, pairs of codes)."""
    codes_of: dict[int, list[str]] = {}
    for pos, c in zip(position.tolist(), code, strict=True):
        codes_of.setdefault(pos, []).append(c)
    patterns = np.empty(len(code), dtype=object)
    for row, (pos, c, mods, n) in enumerate(
        zip(position.tolist(), code, modifiers, units.tolist(), strict=True)
    ):
        others = sorted(codes_of[pos])
        others.remove(c)
        patterns[row] = f"{n:g}|{','.join(sorted(mods))}|{','.join(others)}"
    return patterns


def _year(days: np.ndarray) -> np.ndarray:
    """Calendar year of day numbers (days since 1970-01-01)."""
    dates = np.nan_to_num(days).astype(np.int64).astype("datetime64[D]")
    return dates.astype("datetime64[Y]").astype(np.int64) + 1970


def _line_facts(batch: ClaimBatch, claim: Table, hashes: Hashes) -> Table:
    lines = batch.lines
    position = lines["claim_pos"]
    code = lines["procedure_code"]
    line_day = np.where(
        np.isnan(lines["service_date"]), claim["svc_day"][position], lines["service_date"]
    )
    sex = claim["patient_sex"][position]
    modifiers = lines["modifiers"]
    facts: Table = {
        "claim_pos": position,
        "line_number": lines["line_number"],
        "payer_id": claim["payer_id"][position],
        "procedure_code": code,
        "units": lines["units"],
        "line_pattern": _line_patterns(code, modifiers, lines["units"], position),
        "line_charge": lines["line_charge"],
        "line_day": line_day,
        "is_em": _isin(code, codes.EM_CODES),
        "has_25": np.fromiter((codes.MODIFIER_25 in m for m in modifiers), bool, len(code)),
        "needs_25": _isin(code, codes.MODIFIER_25_PROCEDURES),
        "telehealth_modifier": np.fromiter(
            (bool(codes.TELEHEALTH_MODIFIERS.intersection(m)) for m in modifiers), bool, len(code)
        ),
        "max_units": np.fromiter((codes.MAX_UNITS.get(c, np.nan) for c in code), float, len(code)),
        "sex_conflict": (_isin(code, codes.FEMALE_ONLY_CODES) & (sex != "F"))
        | (_isin(code, codes.MALE_ONLY_CODES) & (sex != "M")),
        "age_conflict": _age_conflict(code, (line_day - claim["birth_day"][position]) / 365.25),
        "dup_key": combine_hashes(
            [
                hashes["claim", "patient_id"][position],
                column_hash(line_day),
                _hash_once(hashes, "line", "procedure_code", code),
            ]
        ),
    }
    member_code = combine_hashes(
        [claim["member_key"][position], _hash_once(hashes, "line", "procedure_code", code)]
    )
    facts["member_code_key"] = member_code
    facts["member_code_year_key"] = combine_hashes([member_code, column_hash(_year(line_day))])
    diagnoses = batch.claims["diagnosis_codes"][position]
    supported = np.empty(len(code), dtype=bool)
    bad_pointer = np.empty(len(code), dtype=bool)
    pointed_dx = np.empty(len(code), dtype=object)
    for row, (procedure, dx, points) in enumerate(
        zip(code, diagnoses, lines["diagnosis_pointers"], strict=True)
    ):
        pointed = tuple(dx[p - 1] for p in points if p <= len(dx))
        bad_pointer[row] = len(pointed) < len(points)
        supported[row] = codes.diagnosis_supports(procedure, pointed)
        pointed_dx[row] = ",".join(sorted(set(pointed)))
    facts["pointer_out_of_range"] = bad_pointer
    facts["dx_unsupported"] = ~supported
    facts["pointed_dx"] = pointed_dx
    facts["attachment_missing"] = claim["attachment_missing"][position]
    for name in ("member_id", "payer_id", "context_owner"):  # a line's are its claim's
        hashes["line", name] = hashes["claim", name][position]
    _attach_authorizations(facts, batch, claim, hashes)
    status = facts["auth_status"]
    facts["no_valid_auth"] = np.where(np.isnan(status), np.nan, status > AUTH_VALID)
    return facts


def _pairs(line_keys: np.ndarray, auth_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All (line, auth-code row) pairs with equal keys."""
    order = np.argsort(auth_keys, kind="stable")
    sorted_keys = auth_keys[order]
    left = np.searchsorted(sorted_keys, line_keys, side="left")
    right = np.searchsorted(sorted_keys, line_keys, side="right")
    counts = right - left
    line = np.repeat(np.arange(len(line_keys)), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return line, order[np.repeat(left, counts) + offsets]


def _attach_authorizations(facts: Table, batch: ClaimBatch, claim: Table, hashes: Hashes) -> None:
    auths = batch.authorizations
    position = facts["claim_pos"]
    per_auth = np.fromiter(
        (len(c) for c in auths["procedure_codes"]), np.int64, table_length(auths)
    )
    auth_of_code = np.repeat(np.arange(len(per_auth)), per_auth)
    auth_codes = np.array([c for codes_ in auths["procedure_codes"] for c in codes_], dtype=object)
    line, pair = _pairs(
        combine_hashes(
            [hashes["line", name] for name in ("payer_id", "member_id", "context_owner")]
            + [hashes["line", "procedure_code"]]
        ),
        key_hash(
            auths["payer_id"][auth_of_code],
            auths["member_id"][auth_of_code],
            auths["owner"][auth_of_code],
            auth_codes,
        ),
    )
    auth = auth_of_code[pair]
    start, end = auths["start_date"][auth], auths["end_date"][auth]
    on_file = start <= claim["sub_day"][position[line]]
    line, auth, start, end = line[on_file], auth[on_file], start[on_file], end[on_file]
    day = facts["line_day"][line]
    gap = np.maximum.reduce([start - day, day - end, np.zeros(len(day))])
    auth_npi = auths["provider_npi"][auth]
    claim_of_line = position[line]
    provider_ok = is_none(auth_npi)
    provider_ok |= auth_npi == batch.claims["rendering_npi"][claim_of_line]
    provider_ok |= auth_npi == batch.claims["billing_npi"][claim_of_line]
    approved = auths["units"][auth]
    short = np.where(np.isnan(approved), 0.0, facts["units"][line] - approved)
    status = np.select(
        [gap > 0, ~provider_ok, short > 0],
        [AUTH_OUTSIDE_DATES, AUTH_OTHER_PROVIDER, AUTH_UNITS_SHORT],
        AUTH_VALID,
    )
    order = np.lexsort((auth, gap, status, line))
    first = order[np.r_[True, line[order][1:] != line[order][:-1]]] if len(order) else order
    best = np.full(len(position), -1)
    best[line[first]] = first
    known = batch.known["authorizations"][position]
    has = best >= 0
    facts["auth_status"] = np.where(
        known, np.where(has, _pick(status.astype(float), best), AUTH_NONE), np.nan
    )
    facts["auth_gap_days"] = np.where(known, np.where(has, _pick(gap, best), 0.0), np.nan)
    facts["auth_units_short"] = np.where(
        known, np.where(has, np.maximum(_pick(short, best), 0.0), 0.0), np.nan
    )
    auth_row = np.where(known & has, _pick(auth.astype(float), best), np.nan)
    facts["auth_row"] = np.where(np.isnan(auth_row), -1, auth_row).astype(np.int64)
    for column, name in (
        ("auth_number", "auth_number"),
        ("start_date", "auth_start_day"),
        ("end_date", "auth_end_day"),
        ("provider_npi", "auth_provider_npi"),
        ("units", "auth_units"),
    ):
        facts[name] = _pick(auths[column], facts["auth_row"])


def _attach_codes(claim: Table, lines: Table) -> None:
    """Per claim: its primary procedure code (the line with the highest charge, the first of
    equals) and its code pair (the two highest-charged distinct codes, sorted, joined by +)."""
    n = len(claim["claim_id"])
    order = np.lexsort((lines["line_number"], -lines["line_charge"], lines["claim_pos"]))
    position = lines["claim_pos"][order]
    starts = np.searchsorted(position, np.arange(n))
    ends = np.searchsorted(position, np.arange(n), side="right")
    code = lines["procedure_code"][order].tolist()
    primary, pairs = [], []
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        distinct = list(dict.fromkeys(code[start:end]))[:2]
        primary.append(distinct[0] if distinct else None)
        pairs.append("+".join(sorted(distinct)) if distinct else None)
    claim["primary_code"] = np.array(primary, dtype=object)
    claim["code_pair"] = np.array(pairs, dtype=object)


def build_facts(batch: ClaimBatch) -> Facts:
    """The facts of every claim and line in ``batch``."""
    hashes: Hashes = {}
    claim_facts = _claim_facts(batch, hashes)
    lines = _line_facts(batch, claim_facts, hashes)
    _attach_codes(claim_facts, lines)
    return Facts(claims=claim_facts, lines=lines, known=batch.known, _hashes=hashes)
