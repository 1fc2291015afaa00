"""Every feature of the model, grouped by the denial category it speaks for.

Each is a pure, vectorised numpy function of a batch's facts and the fitted learners; the value
a history row gets is the value the same claim gets as a request. NaN means "not known" (the
context was not sent or the history lacks its table), which the model treats apart from 0.
"""

from __future__ import annotations

import numpy as np

from features import codes
from features.facts import AUTH_NONE, AUTH_OTHER_PROVIDER, AUTH_OUTSIDE_DATES, Facts
from features.learned import DecayedRate, DenialCount, FilingLimit, PriorSubmissions, zero_nan
from features.registry import Fitted, Registry

REGISTRY = Registry()
feature, learner = REGISTRY.feature, REGISTRY.learner


def _flag(condition: np.ndarray, source: np.ndarray) -> np.ndarray:
    """1/0 where ``source`` is known, NaN where it is not."""
    return np.where(np.isnan(source), np.nan, condition.astype(float))


def _unknown_unless(facts: Facts, context: str, values: np.ndarray) -> np.ndarray:
    return np.where(facts.known[context], values, np.nan)


def _members(values: np.ndarray, choices: frozenset[str] | dict[str, int]) -> np.ndarray:
    return np.fromiter((v in choices for v in values), bool, len(values))


def _line_rate_max(f: Facts, fitted: Fitted, name: str) -> np.ndarray:
    """Highest learned rate among the lines the rate applies to; 0 when none applies."""
    return f.per_claim(fitted[name].lookup(f), "max", empty=0.0)


def _claim_rate(f: Facts, fitted: Fitted, name: str) -> np.ndarray:
    return zero_nan(fitted[name].lookup(f))


# --- eligibility ---------------------------------------------------------------------------

ELIG_RATE = learner(
    "elig_payer_state_rate",
    DecayedRate("eligibility", ("payer_id", "elig_state"), level="claim", where="elig_known"),
)
ELIG_MEMBER_DENIALS = learner("elig_member_denials", DenialCount("eligibility", "member_key"))


@feature("elig_no_check", "eligibility", "No eligibility check on or before submission", "flag")
def _elig_no_check(f: Facts, _: Fitted) -> np.ndarray:
    return 1.0 - f.claims["elig_found"]


@feature("elig_check_age_days", "eligibility", "Days from the last check to submission", "days")
def _elig_check_age(f: Facts, _: Fitted) -> np.ndarray:
    return f.claims["sub_day"] - f.claims["elig_check_day"]


@feature("elig_check_inactive", "eligibility", "The last check said coverage is inactive", "flag")
def _elig_inactive(f: Facts, _: Fitted) -> np.ndarray:
    return _flag(f.claims["elig_status"] == 1, f.claims["elig_status"])


@feature("elig_member_not_found", "eligibility", "The last check did not find the member", "flag")
def _elig_not_found(f: Facts, _: Fitted) -> np.ndarray:
    return _flag(f.claims["elig_status"] == 2, f.claims["elig_status"])


@feature(
    "elig_days_past_coverage_end",
    "eligibility",
    "Days the service falls after the coverage end on file (negative: inside)",
    "days",
)
def _elig_past_end(f: Facts, _: Fitted) -> np.ndarray:
    return f.claims["svc_day"] - f.claims["elig_coverage_end_day"]


@feature(
    "elig_days_before_coverage_start",
    "eligibility",
    "Days the service falls before the coverage start on file (negative: inside)",
    "days",
)
def _elig_before_start(f: Facts, _: Fitted) -> np.ndarray:
    return f.claims["elig_coverage_start_day"] - f.claims["svc_day"]


@feature(
    "elig_payer_state_rate",
    "eligibility",
    "This payer's recent eligibility-denial rate for claims whose check said the same",
    "rate",
)
def _elig_rate(f: Facts, fitted: Fitted) -> np.ndarray:
    return _unknown_unless(f, "eligibility", _claim_rate(f, fitted, ELIG_RATE))


@feature(
    "elig_member_prior_denials",
    "eligibility",
    "Earlier eligibility denials for this member id at this payer",
    "count",
)
def _elig_member_denials(f: Facts, fitted: Fitted) -> np.ndarray:
    return fitted[ELIG_MEMBER_DENIALS].lookup(f)


# --- authorization -------------------------------------------------------------------------

AUTH_RATE = learner(
    "auth_no_valid_auth_rate",
    DecayedRate(
        "authorization", ("payer_id", "procedure_code"), where="no_valid_auth", tau_days=30
    ),
)


def _auth_lines(f: Facts, status: int) -> np.ndarray:
    matches = _flag(f.lines["auth_status"] == status, f.lines["auth_status"])
    return _unknown_unless(f, "authorizations", f.per_claim(matches, "sum"))


@feature(
    "auth_no_valid_auth_rate",
    "authorization",
    "Payer's recent auth-denial rate for a billed code lacking a valid authorization",
    "rate",
)
def _auth_rate(f: Facts, fitted: Fitted) -> np.ndarray:
    return _unknown_unless(f, "authorizations", _line_rate_max(f, fitted, AUTH_RATE))


@feature(
    "auth_lines_without_auth",
    "authorization",
    "Lines whose code no authorization on file covers",
    "count",
)
def _auth_none(f: Facts, _: Fitted) -> np.ndarray:
    return _auth_lines(f, AUTH_NONE)


@feature(
    "auth_days_outside_window",
    "authorization",
    "Days the service falls outside the dates of the authorization for its code",
    "days",
)
def _auth_outside(f: Facts, _: Fitted) -> np.ndarray:
    outside = f.lines["auth_status"] == AUTH_OUTSIDE_DATES
    gap = np.where(outside, f.lines["auth_gap_days"], 0.0)
    return _unknown_unless(f, "authorizations", f.per_claim(gap, "max"))


@feature(
    "auth_other_provider",
    "authorization",
    "Lines whose authorization names a different provider",
    "count",
)
def _auth_provider(f: Facts, _: Fitted) -> np.ndarray:
    return _auth_lines(f, AUTH_OTHER_PROVIDER)


@feature("auth_units_short", "authorization", "Most units billed beyond the units authorized")
def _auth_units(f: Facts, _: Fitted) -> np.ndarray:
    return _unknown_unless(f, "authorizations", f.per_claim(f.lines["auth_units_short"], "max"))


@feature(
    "auth_number_not_on_claim",
    "authorization",
    "An authorization is on file but its number is not on the claim",
    "flag",
)
def _auth_number(f: Facts, _: Fitted) -> np.ndarray:
    lines = f.lines
    has_auth = lines["auth_status"] <= AUTH_OTHER_PROVIDER
    missing = has_auth & (lines["auth_number"] != f.claims["prior_auth_number"][lines["claim_pos"]])
    return _unknown_unless(f, "authorizations", f.per_claim(missing, "max"))


# --- coding --------------------------------------------------------------------------------

CODING_RATE = learner(
    "coding_payer_code_rate", DecayedRate("coding", ("payer_id", "procedure_code"))
)


@feature(
    "coding_em_with_procedure_no_25",
    "coding",
    "Office visit with a minor procedure and no modifier 25 on the visit",
    "flag",
)
def _coding_25(f: Facts, _: Fitted) -> np.ndarray:
    lines = f.lines
    em_without_25 = f.per_claim(lines["is_em"] & ~lines["has_25"], "max")
    return em_without_25 * f.per_claim(lines["needs_25"], "max")


@feature(
    "coding_units_over_limit",
    "coding",
    "Most units billed above the code's medically unlikely edit",
)
def _coding_units(f: Facts, _: Fitted) -> np.ndarray:
    excess = np.maximum(zero_nan(f.lines["units"] - f.lines["max_units"]), 0.0)
    return f.per_claim(excess, "max")


@feature(
    "coding_sex_conflict",
    "coding",
    "Lines whose procedure is for one sex, the patient's being another or unknown",
    "count",
)
def _coding_sex(f: Facts, _: Fitted) -> np.ndarray:
    return f.per_claim(f.lines["sex_conflict"], "sum")


@feature(
    "coding_age_conflict",
    "coding",
    "Lines whose code is defined for an age band the patient is outside of",
    "count",
)
def _coding_age(f: Facts, _: Fitted) -> np.ndarray:
    return f.per_claim(f.lines["age_conflict"], "sum")


@feature(
    "coding_invalid_diagnosis",
    "coding",
    "Diagnosis codes that cannot be billed (deleted, header, or missing 7th character)",
    "count",
)
def _coding_invalid_dx(f: Facts, _: Fitted) -> np.ndarray:
    return f.claims["invalid_diagnoses"]


@feature(
    "coding_telehealth_without_modifier",
    "coding",
    "Telehealth place of service (02/10) without a telehealth modifier (95, GT, FQ, 93)",
    "flag",
)
def _coding_telehealth(f: Facts, _: Fitted) -> np.ndarray:
    telehealth = _members(f.claims["place_of_service"], codes.TELEHEALTH_POS)
    with_modifier = f.per_claim(f.lines["telehealth_modifier"], "max")
    return (telehealth & (with_modifier == 0)).astype(float)


@feature(
    "coding_payer_code_rate",
    "coding",
    "Highest recent coding-denial rate of this payer for a billed code",
    "rate",
)
def _coding_rate(f: Facts, fitted: Fitted) -> np.ndarray:
    return _line_rate_max(f, fitted, CODING_RATE)


# --- documentation -------------------------------------------------------------------------

ATTACHMENT_RATE = learner(
    "doc_attachment_missing_rate",
    DecayedRate("documentation", ("payer_id", "procedure_code"), where="attachment_missing"),
)
REFERRAL_RATE = learner(
    "doc_referral_missing_rate",
    DecayedRate(
        "documentation", ("payer_id", "plan_type"), level="claim", where="referral_missing"
    ),
)


@feature(
    "doc_attachment_missing_rate",
    "documentation",
    "Payer's recent documentation-denial rate for a billed code sent without attachment",
    "rate",
)
def _doc_attachment(f: Facts, fitted: Fitted) -> np.ndarray:
    return _line_rate_max(f, fitted, ATTACHMENT_RATE)


@feature(
    "doc_referral_missing_rate",
    "documentation",
    "Payer's recent documentation-denial rate for claims without a referral number",
    "rate",
)
def _doc_referral(f: Facts, fitted: Fitted) -> np.ndarray:
    return _claim_rate(f, fitted, REFERRAL_RATE)


CHARGE_RATE = learner(
    "doc_payer_charge_rate",
    DecayedRate("documentation", ("payer_id", "charge_band"), level="claim"),
)


@feature(
    "doc_payer_charge_rate",
    "documentation",
    "Payer's recent documentation-denial rate for claims of this size (records requests)",
    "rate",
)
def _doc_charge_rate(f: Facts, fitted: Fitted) -> np.ndarray:
    return _claim_rate(f, fitted, CHARGE_RATE)


@feature(
    "doc_missing_patient_fields",
    "documentation",
    "Patient birth date and sex missing (count)",
    "count",
)
def _doc_patient(f: Facts, _: Fitted) -> np.ndarray:
    return f.claims["birth_date_missing"] + f.claims["sex_missing"]


@feature(
    "doc_npi_check_digit_bad",
    "documentation",
    "A billing or rendering NPI fails its check digit",
    "flag",
)
def _doc_npi(f: Facts, _: Fitted) -> np.ndarray:
    return f.claims["npi_check_digit_bad"]


@feature(
    "doc_charge_mismatch",
    "documentation",
    "Total charge differs from the sum of the line charges",
    "flag",
)
def _doc_charge(f: Facts, _: Fitted) -> np.ndarray:
    lines_total = f.per_claim(f.lines["line_charge"], "sum")
    return (np.abs(f.claims["total_charge"] - lines_total) > 0.005).astype(float)


@feature(
    "doc_pointer_out_of_range",
    "documentation",
    "Lines pointing past the claim's diagnosis list",
    "count",
)
def _doc_pointer(f: Facts, _: Fitted) -> np.ndarray:
    return f.per_claim(f.lines["pointer_out_of_range"], "sum")


# --- timely filing -------------------------------------------------------------------------

FILING = learner("filing_limit", FilingLimit())


@feature("filing_lag_days", "timely_filing", "Days from service to submission", "days")
def _filing_lag(f: Facts, _: Fitted) -> np.ndarray:
    return f.claims["lag_days"]


@feature(
    "filing_days_past_learned_limit",
    "timely_filing",
    "Lag minus the shortest lag this payer has denied as late",
    "days",
)
def _filing_learned(f: Facts, fitted: Fitted) -> np.ndarray:
    return f.claims["lag_days"] - fitted[FILING].lookup(f)[:, 0]


@feature(
    "filing_days_past_longest_paid",
    "timely_filing",
    "Lag minus the longest lag this payer has paid",
    "days",
)
def _filing_paid(f: Facts, fitted: Fitted) -> np.ndarray:
    return f.claims["lag_days"] - fitted[FILING].lookup(f)[:, 1]


@feature(
    "filing_days_past_typical_limit",
    "timely_filing",
    "Lag minus the typical filing limit of the plan type",
    "days",
)
def _filing_typical(f: Facts, _: Fitted) -> np.ndarray:
    plans = f.claims["plan_type"]
    limits = codes.TYPICAL_FILING_LIMIT_DAYS
    return f.claims["lag_days"] - np.fromiter((limits[p] for p in plans), float, len(plans))


# --- credentialing -------------------------------------------------------------------------

CRED_DENIALS = learner("cred_provider_denials", DenialCount("credentialing", "provider_key"))


@feature(
    "cred_not_enrolled_on_service_date",
    "credentialing",
    "The provider's enrollment with this payer does not cover the date of service",
    "flag",
)
def _cred_enrolled(f: Facts, _: Fitted) -> np.ndarray:
    c = f.claims
    covered = (c["enroll_effective_day"] <= c["svc_day"]) & ~(c["enroll_end_day"] < c["svc_day"])
    return _unknown_unless(f, "provider_enrollment", (~covered).astype(float))


@feature(
    "cred_days_before_effective",
    "credentialing",
    "Days the service precedes the enrollment's effective date",
    "days",
)
def _cred_before(f: Facts, _: Fitted) -> np.ndarray:
    return f.claims["enroll_effective_day"] - f.claims["svc_day"]


@feature(
    "cred_days_after_end",
    "credentialing",
    "Days the service falls after the enrollment ended",
    "days",
)
def _cred_after(f: Facts, _: Fitted) -> np.ndarray:
    return f.claims["svc_day"] - f.claims["enroll_end_day"]


@feature(
    "cred_provider_prior_denials",
    "credentialing",
    "Earlier credentialing denials of this provider at this payer",
    "count",
)
def _cred_denials(f: Facts, fitted: Fitted) -> np.ndarray:
    return fitted[CRED_DENIALS].lookup(f)


# --- duplicate -----------------------------------------------------------------------------

PRIOR = learner("prior_submissions", PriorSubmissions())


@feature(
    "dup_prior_submissions",
    "duplicate",
    "Earlier submissions of the same patient, service date and code",
    "count",
)
def _dup_count(f: Facts, fitted: Fitted) -> np.ndarray:
    return f.per_claim(zero_nan(fitted[PRIOR].lookup(f)[:, 0]), "max")


@feature(
    "dup_days_since_prior",
    "duplicate",
    "Days since the latest earlier submission of the same service",
    "days",
)
def _dup_days(f: Facts, fitted: Fitted) -> np.ndarray:
    sub_day = f.claims["sub_day"][f.lines["claim_pos"]]
    return f.per_claim(sub_day - fitted[PRIOR].lookup(f)[:, 1], "min", empty=np.nan)


@feature(
    "dup_is_replacement",
    "duplicate",
    "Frequency code 7 or 8 (replacement or void of an earlier claim)",
    "flag",
)
def _dup_replacement(f: Facts, _: Fitted) -> np.ndarray:
    return _members(f.claims["frequency_code"], frozenset({"7", "8"})).astype(float)


# --- medical necessity ---------------------------------------------------------------------

NECESSITY_RATE = learner(
    "medn_unsupported_rate",
    DecayedRate("medical_necessity", ("payer_id", "procedure_code"), where="dx_unsupported"),
)


@feature(
    "medn_unsupported_lines",
    "medical_necessity",
    "Lines whose pointed diagnoses do not support the procedure",
    "count",
)
def _medn_lines(f: Facts, _: Fitted) -> np.ndarray:
    return f.per_claim(f.lines["dx_unsupported"], "sum")


@feature(
    "medn_unsupported_rate",
    "medical_necessity",
    "Payer's recent medical-necessity denial rate for a code without supporting diagnosis",
    "rate",
)
def _medn_rate(f: Facts, fitted: Fitted) -> np.ndarray:
    return _line_rate_max(f, fitted, NECESSITY_RATE)


# --- coordination of benefits --------------------------------------------------------------

COB_DENIALS = learner("cob_patient_denials", DenialCount("coordination_of_benefits", "patient_key"))
COB_RATE = learner(
    "cob_payer_rate",
    DecayedRate("coordination_of_benefits", ("payer_id", "plan_type"), level="claim"),
)


@feature(
    "cob_patient_prior_denials",
    "coordination_of_benefits",
    "Earlier denials of this patient's claims because another payer is primary",
    "count",
)
def _cob_patient(f: Facts, fitted: Fitted) -> np.ndarray:
    return fitted[COB_DENIALS].lookup(f)


@feature(
    "cob_payer_rate",
    "coordination_of_benefits",
    "This payer's recent coordination-of-benefits denial rate",
    "rate",
)
def _cob_rate(f: Facts, fitted: Fitted) -> np.ndarray:
    return _claim_rate(f, fitted, COB_RATE)


# --- non-covered ---------------------------------------------------------------------------

NONCOVERED_RATE = learner(
    "noncov_payer_code_rate", DecayedRate("non_covered", ("payer_id", "procedure_code"))
)


@feature(
    "noncov_payer_code_rate",
    "non_covered",
    "Highest recent not-covered denial rate of this payer for a billed code",
    "rate",
)
def _noncov_rate(f: Facts, fitted: Fitted) -> np.ndarray:
    return _line_rate_max(f, fitted, NONCOVERED_RATE)


# --- other ---------------------------------------------------------------------------------

OTHER_RATE = learner(
    "other_payer_rate", DecayedRate("other", ("payer_id", "plan_type"), level="claim")
)


@feature(
    "other_payer_rate",
    "other",
    "This payer's recent rate of denials outside the named categories",
    "rate",
)
def _other_rate(f: Facts, fitted: Fitted) -> np.ndarray:
    return _claim_rate(f, fitted, OTHER_RATE)
