"""Denial causes: each a probability computed from facts of the claim and the world.

One fact drives one cause and one cause belongs to one category. The facts are visible in
the written tables (claim fields, lines, eligibility checks, authorizations, enrollments, and
payer rules learnable from past outcomes), except the modest hidden parts: payers' background
edits, lapses the practice never checked, and the first claims of a coordination-of-benefits
problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from features.categories import CATEGORIES, Category
from features.rules import CARC_CATEGORY
from simulator import codes as C
from simulator.claims import DUPLICATE, SEX_MISSING, Claims
from simulator.context import EncounterAuth
from simulator.eligibility import Registration
from simulator.encounters import Encounters
from simulator.exports import AUTH_TYPO
from simulator.payers import PAYER_INDEX, PAYERS
from simulator.world import PLAN_OF, World

# Change Healthcare 2020 denials index groups (share of denials) and the categories they feed
INDEX_TARGETS: dict[str, float] = {
    "eligibility_registration": 0.266,
    "missing_invalid_data": 0.172,
    "prior_authorization": 0.116,
    "not_covered": 0.106,
    "documentation": 0.092,
    "medical_necessity": 0.066,
    "timely_filing": 0.054,
    "coding": 0.048,
    "provider_eligibility": 0.009,
    "other": 0.071,
}
CATEGORY_TARGETS: dict[str, float] = {
    "eligibility": 0.266,
    "documentation": 0.092 + 0.172 * 0.85,
    "authorization": 0.116,
    "non_covered": 0.106,
    "medical_necessity": 0.066,
    "timely_filing": 0.054,
    "coding": 0.048 + 0.172 * 0.15,
    "credentialing": 0.009,
    # the index's remaining 7.1%: COB kept small because its first claims are invisible
    "duplicate": 0.035,
    "coordination_of_benefits": 0.015,
    "other": 0.021,
}


@dataclass(frozen=True)
class Cause:
    name: str
    category: Category
    index_group: str
    carc: str
    group: str = "CO"
    remark: str | None = None
    line_level: bool = False


# Order breaks ties between equal probabilities: the payer's first edit wins.
CAUSES: tuple[Cause, ...] = (
    Cause("duplicate_submission", "duplicate", "other", "18", "OA", "N111"),
    Cause("late_filing", "timely_filing", "timely_filing", "29"),
    Cause("member_not_found", "eligibility", "eligibility_registration", "31", remark="N382"),
    Cause("coverage_terminated", "eligibility", "eligibility_registration", "27", remark="N30"),
    Cause("provider_not_enrolled", "credentialing", "provider_eligibility", "B7", remark="N290"),
    Cause("other_payer_primary", "coordination_of_benefits", "other", "22", "OA", "MA04"),
    Cause("invalid_rendering_npi", "documentation", "missing_invalid_data", "16", remark="N290"),
    Cause("missing_birth_date", "documentation", "missing_invalid_data", "16", remark="N329"),
    Cause("missing_sex", "documentation", "missing_invalid_data", "16", remark="MA39"),
    Cause("missing_referral", "documentation", "missing_invalid_data", "16", remark="N286"),
    Cause("invalid_diagnosis_pointer", "documentation", "missing_invalid_data", "16", remark="M76"),
    Cause("charge_mismatch", "documentation", "missing_invalid_data", "16", remark="M79"),
    Cause("invalid_diagnosis_code", "coding", "missing_invalid_data", "146", remark="M76"),
    Cause("missing_attachment", "documentation", "documentation", "252", remark="N706"),
    Cause("records_not_received", "documentation", "documentation", "226", remark="N29"),
    Cause("auth_missing", "authorization", "prior_authorization", "197", line_level=True),
    Cause("auth_expired", "authorization", "prior_authorization", "197", remark="N54",
          line_level=True),
    Cause("auth_units_exceeded", "authorization", "prior_authorization", "198", remark="N54",
          line_level=True),
    Cause("auth_wrong_provider", "authorization", "prior_authorization", "15", remark="N54",
          line_level=True),
    Cause("auth_number_missing", "authorization", "prior_authorization", "15", line_level=True),
    Cause("non_covered_service", "non_covered", "not_covered", "96", remark="N130",
          line_level=True),
    Cause("sex_mismatch", "coding", "coding", "7", line_level=True),
    Cause("units_exceed_max", "coding", "coding", "151", remark="N362", line_level=True),
    Cause("missing_modifier_25", "coding", "coding", "97", remark="M15", line_level=True),
    Cause("telehealth_modifier", "coding", "coding", "5", remark="M77", line_level=True),
    Cause("age_mismatch", "coding", "coding", "6", line_level=True),
    Cause("diagnosis_not_supporting", "medical_necessity", "medical_necessity", "50",
          line_level=True),
    Cause("background_eligibility", "eligibility", "eligibility_registration", "177"),
    Cause("background_documentation", "documentation", "documentation", "226"),
    Cause("background_authorization", "authorization", "prior_authorization", "62"),
    Cause("background_non_covered", "non_covered", "not_covered", "204"),
    Cause("background_medical_necessity", "medical_necessity", "medical_necessity", "50"),
    Cause("background_coding", "coding", "coding", "4"),
    Cause("background_other", "other", "other", "40"),
)  # fmt: skip
CAUSE_INDEX = {c.name: i for i, c in enumerate(CAUSES)}
BACKGROUND_SPLIT = {
    "background_other": 0.4,
    "background_eligibility": 0.15,
    "background_documentation": 0.15,
    "background_non_covered": 0.1,
    "background_medical_necessity": 0.1,
    "background_coding": 0.05,
    "background_authorization": 0.05,
}
FIXABLE = frozenset(
    {"invalid_rendering_npi", "missing_birth_date", "missing_sex", "missing_referral",
     "invalid_diagnosis_pointer", "charge_mismatch", "invalid_diagnosis_code",
     "missing_attachment", "auth_number_missing", "sex_mismatch", "units_exceed_max",
     "missing_modifier_25", "telehealth_modifier"}
)  # fmt: skip

# Probability that the payer denies when the fact is present (strictness rules aside)
P = {
    "duplicate_submission": 0.97,
    "late_filing": 0.97,
    "member_not_found": 0.97,
    "coverage_terminated": 0.95,
    "provider_not_enrolled": 0.95,
    "other_payer_primary": 0.9,
    "invalid_rendering_npi": 0.95,
    "missing_birth_date": 0.9,
    "missing_sex": 0.9,
    "missing_referral": 0.9,
    "invalid_diagnosis_pointer": 0.9,
    "charge_mismatch": 0.85,
    "invalid_diagnosis_code": 0.9,
    "missing_attachment": 0.9,
    "records_not_received": 0.3,
    "auth_missing": 0.92,
    "auth_expired": 0.85,
    "auth_units_exceeded": 0.75,
    "auth_wrong_provider": 0.6,
    "auth_number_missing": 0.35,
    "non_covered_service": 0.95,
    "sex_mismatch": 0.95,
    "units_exceed_max": 0.9,
    "age_mismatch": 0.7,
}

_ARR = {
    name: np.array([getattr(p, name) for p in PAYERS])
    for name in ("filing_limit_days", "mod25_strictness", "telehealth_strictness",
                 "medical_necessity_strictness", "screening_labs_covered",
                 "checks_rendering_enrollment", "background_rate")
}  # fmt: skip
_REVIEW = np.array([p.records_review_over or np.inf for p in PAYERS])
_NON_COVERED = np.array([[c in p.non_covered_codes for c in C.CODES] for p in PAYERS])
_SUPPORT = np.stack([C.support_matrix(False), C.support_matrix(True)])  # [screening covered]
_NC_OPTIONS = tuple(dict.fromkeys(p.non_covered_carc for p in PAYERS))
_NC_CARC = np.array([_NC_OPTIONS.index(p.non_covered_carc) for p in PAYERS])
_LCD = np.isin(PLAN_OF, ["medicare", "medicare_advantage"])


@dataclass
class CauseMatrix:
    """p[claim, cause]; line hits of line-level causes; per-claim CARC/RARC overrides, and
    per-claim categories where a payer's CARC puts a cause in another category."""

    p: np.ndarray
    lines: dict[int, np.ndarray]
    carc: dict[int, tuple[np.ndarray, tuple[str, ...]]]  # option index per claim, options
    remark: dict[int, tuple[np.ndarray, tuple[str, ...]]]
    category: dict[int, np.ndarray] = field(default_factory=dict)  # category index per claim


def _earlier_this_year(enc: Encounters, code: int) -> np.ndarray:
    """Per encounter: the patient's encounters with ``code`` on earlier days of the same
    calendar year (0 for encounters without the code)."""
    rows = np.flatnonzero((np.asarray(enc.code) == code).any(axis=1))
    year = enc.service[rows].astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64)
    group = enc.patient[rows].astype(np.int64) * 1000 + year  # years since 1970, below 1000
    stamp = np.sort(group * 100_000 + enc.service[rows])  # day numbers below 100,000
    earlier = np.searchsorted(stamp, group * 100_000 + enc.service[rows]) - np.searchsorted(
        stamp, group * 100_000
    )
    counts = np.zeros(len(enc), np.int64)
    counts[rows] = earlier
    return counts


def cause_matrix(
    world: World, enc: Encounters, reg: Registration, eauth: EncounterAuth,
    enrolled_from: np.ndarray, claims: Claims,
) -> CauseMatrix:  # fmt: skip
    """Probability of every cause for every claim."""
    k = len(claims)
    e = claims.enc
    payer = claims.payer.astype(np.intp)
    service = enc.service[e]
    code = claims.code
    has = code >= 0
    safe = np.maximum(code, 0)
    p = np.zeros((k, len(CAUSES)), np.float32)
    lines: dict[int, np.ndarray] = {}

    def put(name: str, prob: Any, hit: Any, line_hit: np.ndarray | None = None) -> None:
        p[:, CAUSE_INDEX[name]] = np.where(hit, prob, 0.0)
        if line_hit is not None:
            lines[CAUSE_INDEX[name]] = line_hit & hit[:, None]

    put("duplicate_submission", P["duplicate_submission"], claims.kind == DUPLICATE)
    lag = claims.submission - service
    put("late_filing", P["late_filing"], lag > _ARR["filing_limit_days"][payer])
    put("member_not_found", P["member_not_found"], reg.not_found[e])
    put("coverage_terminated", P["coverage_terminated"], ~reg.covered[e])
    put("provider_not_enrolled", P["provider_not_enrolled"],
        (enrolled_from > service) & _ARR["checks_rendering_enrollment"][payer])  # fmt: skip
    pat = enc.patient[e]
    pats = world.patients
    put("other_payer_primary", P["other_payer_primary"],
        (service >= pats.cob_start[pat]) & (service < pats.cob_end[pat]))  # fmt: skip
    put("invalid_rendering_npi", P["invalid_rendering_npi"], claims.flags["npi_typo"])
    put("missing_birth_date", P["missing_birth_date"], claims.birth_missing)
    put("missing_sex", P["missing_sex"], claims.sex == SEX_MISSING)
    put("missing_referral", P["missing_referral"], claims.referral_required & ~claims.referral)
    n_dx = (claims.dx >= 0).sum(1)
    beyond = has & ((claims.ptr >> n_dx[:, None].astype(np.uint8)) > 0)
    put("invalid_diagnosis_pointer", P["invalid_diagnosis_pointer"], beyond.any(1))
    put("charge_mismatch", P["charge_mismatch"],
        np.abs(claims.total - claims.charge.sum(1)) > 0.005)  # fmt: skip
    invalid_dx = (claims.dx >= 0) & C.DX_INVALID[np.maximum(claims.dx, 0)]
    put("invalid_diagnosis_code", P["invalid_diagnosis_code"], invalid_dx.any(1))
    put("missing_attachment", P["missing_attachment"],
        claims.attachment_required & ~claims.attachment)  # fmt: skip
    put("records_not_received", P["records_not_received"], claims.total > _REVIEW[payer])

    # prior authorization: the auth on file for the encounter vs the claim
    req = eauth.required[e]
    row = eauth.row[e]
    on_file = row >= 0
    put("auth_missing", P["auth_missing"], req.any(1) & ~on_file, req)
    put("auth_expired", P["auth_expired"], on_file & eauth.expired[e], req)
    short = req & (claims.units > eauth.approved[e][:, None])
    put("auth_units_exceeded", P["auth_units_exceeded"], on_file & short.any(1), short)
    put("auth_wrong_provider", P["auth_wrong_provider"], on_file & eauth.wrong_provider[e], req)
    clean_auth = on_file & ~eauth.expired[e] & ~eauth.wrong_provider[e] & ~short.any(1)
    unmatched = claims.auth_number < 0
    if AUTH_TYPO in claims.flags:  # a number the payer cannot match is no number
        unmatched = unmatched | claims.flags[AUTH_TYPO]
    put("auth_number_missing", P["auth_number_missing"], clean_auth & unmatched, req)

    excluded = has & _NON_COVERED[payer[:, None], safe]
    for rule in world.dialect.rules_of("frequency_limit"):
        on = (payer == PAYER_INDEX[rule.payer_id]) & (
            service >= rule.effective(world.start, world.end)
        )
        limited = C.CODE_INDEX[rule.procedure_code]
        beyond = _earlier_this_year(enc, limited)[e] >= rule.limit
        excluded |= (on & beyond)[:, None] & has & (code == limited)
    put("non_covered_service", P["non_covered_service"], excluded.any(1), excluded)
    sex = claims.sex[:, None]
    code_sex = C.CODE_SEX[safe]  # 1 F-only, 2 M-only
    wrong_sex = has & (code_sex > 0) & (sex < 2) & (sex != code_sex - 1)
    unknown_sex = has & (code_sex > 0) & (sex == 2)
    put("sex_mismatch", np.where(wrong_sex.any(1), P["sex_mismatch"], 0.5),
        (wrong_sex | unknown_sex).any(1), wrong_sex | unknown_sex)  # fmt: skip
    too_many = has & (claims.units > C.MAX_UNITS[safe])
    for rule in world.dialect.rules_of("units_limit"):
        on = (payer == PAYER_INDEX[rule.payer_id]) & (
            service >= rule.effective(world.start, world.end)
        )
        code_on = has & (code == C.CODE_INDEX[rule.procedure_code])
        too_many |= on[:, None] & code_on & (claims.units > rule.limit)
    put("units_exceed_max", P["units_exceed_max"], too_many.any(1), too_many)
    em = has & C.IS_EM[safe]
    minor = (has & C.NEEDS_25[safe]).any(1)
    no25 = em & minor[:, None] & ((claims.mods & C.MOD_25) == 0)
    strict25 = _ARR["mod25_strictness"][payer]
    for rule in world.dialect.rules_of("modifier_25_required"):
        on = (payer == PAYER_INDEX[rule.payer_id]) & (
            service >= rule.effective(world.start, world.end)
        )
        cited = (no25 & (code == C.CODE_INDEX[rule.procedure_code])).any(1)
        strict25 = np.where(on & cited, 0.97, strict25)
    put("missing_modifier_25", strict25, no25.any(1), no25)
    tele = C.TELEHEALTH_POS[enc.pos[e]]
    no95 = em & tele[:, None] & ((claims.mods & C.MOD_95) == 0)
    put("telehealth_modifier", _ARR["telehealth_strictness"][payer], no95.any(1), no95)
    age = (service - pats.birth[pat]) // 365.25
    bad_age = has & ((age[:, None] < C.AGE_MIN[safe]) | (age[:, None] > C.AGE_MAX[safe]))
    bad_age &= ~claims.birth_missing[:, None]
    put("age_mismatch", P["age_mismatch"], bad_age.any(1), bad_age)

    # medical necessity: no valid pointed diagnosis supports the line
    screening = _ARR["screening_labs_covered"][payer].astype(np.intp)[:, None]
    valid_dx = (claims.dx >= 0) & ~invalid_dx
    supported = np.zeros(code.shape, bool)
    evaluated = np.zeros(code.shape, bool)
    for j in range(claims.dx.shape[1]):
        pointed = has & (((claims.ptr >> j) & 1) > 0) & valid_dx[:, j : j + 1]
        ok = _SUPPORT[screening, safe, np.maximum(claims.dx[:, j], 0)[:, None]]
        supported |= pointed & ok
        evaluated |= pointed
    unsupported = evaluated & ~supported
    put("diagnosis_not_supporting", _ARR["medical_necessity_strictness"][payer],
        unsupported.any(1), unsupported)  # fmt: skip

    base = _ARR["background_rate"][payer]
    for name, share in BACKGROUND_SPLIT.items():
        put(name, base * share, np.ones(k, bool))

    medicare_preventive = (excluded & C.IS_PREVENTIVE[safe]).any(1) & _LCD[payer]
    carc: dict[int, tuple[np.ndarray, tuple[str, ...]]] = {
        CAUSE_INDEX["non_covered_service"]: (
            np.where(medicare_preventive, len(_NC_OPTIONS), _NC_CARC[payer]),
            (*_NC_OPTIONS, "49"),
        )
    }
    remark: dict[int, tuple[np.ndarray, tuple[str, ...]]] = {
        CAUSE_INDEX["diagnosis_not_supporting"]: (_LCD[payer].astype(np.intp), ("", "N115"))
    }
    category: dict[int, np.ndarray] = {}
    for (payer_id, cause), code_ in world.dialect.carc.items():
        ci = CAUSE_INDEX[cause]
        mine = payer == PAYER_INDEX[payer_id]
        options = (*carc[ci][1], code_) if ci in carc else (CAUSES[ci].carc, code_)
        before = carc[ci][0] if ci in carc else np.zeros(k, np.intp)
        carc[ci] = (np.where(mine, len(options) - 1, before), options)
        own = CATEGORIES.index(CAUSES[ci].category)
        cat = CATEGORIES.index(CARC_CATEGORY.get(code_, CAUSES[ci].category))
        category[ci] = np.where(mine, cat, category.get(ci, np.full(k, own)))
    return CauseMatrix(p, lines, carc, remark, category)
