"""Evidence for a reason: the facts of the claim itself that put it at risk, in plain words.

Each category has one function reading the claim request, its facts (``features.facts``) and
its feature values. Evidence goes to the client that sent the claim; it is never logged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from features import codes
from features.categories import Category
from features.contract import ClaimIn
from features.definitions import AUTH_RATE
from features.facts import (
    AUTH_NONE,
    AUTH_OTHER_PROVIDER,
    AUTH_OUTSIDE_DATES,
    AUTH_UNITS_SHORT,
    Facts,
)
from features.registry import Fitted

_EPOCH = dt.date(1970, 1, 1)
RATE_WORTH_SAYING = 0.1  # a learned denial rate below this is not evidence


def _date(day: float) -> str:
    return (_EPOCH + dt.timedelta(days=int(day))).isoformat()


def _known(value: float) -> bool:
    return not np.isnan(value)


def _pct(rate: float) -> str:
    return f"{rate:.0%}"


@dataclass(frozen=True)
class ScoredBatch:
    """The facts of a scored batch, and what its claims' views compute once and share."""

    facts: Facts
    fitted: Fitted

    @cached_property
    def line_positions(self) -> list[np.ndarray]:
        """Per claim: the positions of its lines in ``facts.lines``."""
        claim_of_line = self.facts.lines["claim_pos"]
        order = np.argsort(claim_of_line, kind="stable")
        bounds = np.searchsorted(claim_of_line[order], np.arange(1, self.facts.n_claims))
        return np.split(order, bounds)

    @cached_property
    def auth_rates(self) -> np.ndarray:
        """Per line of the batch: the payer's recent auth-denial rate for lines like it
        without a valid authorization (NaN where the line has one or it is unknown)."""
        return np.asarray(self.fitted[AUTH_RATE].lookup(self.facts))


@dataclass(frozen=True)
class ClaimView:
    """One claim of a scored batch: the request, its facts and feature values."""

    claim: ClaimIn
    batch: ScoredBatch
    row: int
    values: dict[str, float]

    @property
    def facts(self) -> Facts:
        return self.batch.facts

    def lines(self) -> np.ndarray:
        """Positions of this claim's lines in ``facts.lines``."""
        return self.batch.line_positions[self.row]

    def auth_rates(self) -> np.ndarray:
        return self.batch.auth_rates


def eligibility(view: ClaimView) -> list[str]:
    claim, x = view.claim, view.values
    check = claim.eligibility
    if check is None:
        return ["no eligibility check was sent with the claim"]
    notes = []
    if x["elig_no_check"] == 1:
        notes.append(
            f"the eligibility check of {check.checked_on} is after submission "
            f"{claim.submission_date}: no check on file at submission"
        )
    else:
        notes.append(
            f"last eligibility check {check.checked_on} ({int(x['elig_check_age_days'])} "
            f"days before submission) said {check.status.replace('_', ' ')}"
        )
    if check.coverage_end and check.coverage_end < claim.service_date:
        notes.append(f"coverage ended {check.coverage_end}; service {claim.service_date}")
    if check.coverage_start and check.coverage_start > claim.service_date:
        notes.append(f"coverage starts {check.coverage_start}; service {claim.service_date}")
    if x["elig_member_prior_denials"] > 0:
        notes.append(
            f"{int(x['elig_member_prior_denials'])} earlier eligibility denial(s) for "
            f"this member id at payer {claim.payer_id}"
        )
    return notes


def authorization(view: ClaimView) -> list[str]:
    claim, x = view.claim, view.values
    if claim.authorizations is None:
        return ["no authorizations were sent with the claim"]
    lines = view.facts.lines
    rates = view.auth_rates()
    notes = []
    for line in view.lines():
        code, status = lines["procedure_code"][line], lines["auth_status"][line]
        number = lines["auth_number"][line]
        if status == AUTH_NONE and rates[line] >= RATE_WORTH_SAYING:
            notes.append(
                f"no authorization on file covers {code}; payer {claim.payer_id} "
                f"recently denied {_pct(rates[line])} of {code} lines without one"
            )
        elif status == AUTH_OUTSIDE_DATES:
            notes.append(
                f"authorization {number} covers {code} from {_date(lines['auth_start_day'][line])}"
                f" to {_date(lines['auth_end_day'][line])}; service date "
                f"{_date(lines['line_day'][line])}"
            )
        elif status == AUTH_OTHER_PROVIDER:
            provider = claim.rendering_npi or claim.billing_npi
            notes.append(
                f"authorization {number} names provider "
                f"{lines['auth_provider_npi'][line]}; the claim's provider is {provider}"
            )
        elif status == AUTH_UNITS_SHORT:
            notes.append(
                f"{code}: {lines['units'][line]:g} units billed, "
                f"{lines['auth_units'][line]:g} authorized on {number}"
            )
    if x["auth_number_not_on_claim"] == 1:
        notes.append("an authorization is on file but its number is not on the claim (REF*G1)")
    return notes


def coding(view: ClaimView) -> list[str]:
    claim, x = view.claim, view.values
    notes = []
    by_code = {line.procedure_code: line for line in claim.lines}
    if x["coding_em_with_procedure_no_25"] == 1:
        visits = [c for c in by_code if c in codes.EM_CODES]
        procedures = [c for c in by_code if codes.needs_modifier_25(c)]
        notes.append(
            f"visit {', '.join(visits)} billed with {', '.join(procedures)} and no "
            "modifier 25 on the visit"
        )
    for line in claim.lines:
        limit = codes.MAX_UNITS.get(line.procedure_code)
        if limit is not None and line.units > limit:
            notes.append(f"{line.procedure_code}: {line.units:g} units, limit {limit:g} per day")
        sex_only = (
            "F"
            if line.procedure_code in codes.FEMALE_ONLY_CODES
            else ("M" if line.procedure_code in codes.MALE_ONLY_CODES else None)
        )
        if sex_only and claim.patient_sex and claim.patient_sex != sex_only:
            notes.append(
                f"{line.procedure_code} is for sex {sex_only}; patient sex {claim.patient_sex}"
            )
    for dx in claim.diagnosis_codes:
        if not codes.diagnosis_billable(dx):
            notes.append(
                f"diagnosis {dx} cannot be billed (deleted, a header, or missing its 7th character)"
            )
    if claim.patient_birth_date is not None:
        age = (claim.service_date - claim.patient_birth_date).days // 365.25
        for line in claim.lines:
            band = codes.AGE_BANDS.get(line.procedure_code)
            if band and not band[0] <= age <= band[1]:
                notes.append(
                    f"{line.procedure_code} is for ages {band[0]}-{band[1]}; the "
                    f"patient is {int(age)} on the date of service"
                )
    if x["coding_telehealth_without_modifier"] == 1:
        notes.append(
            f"place of service {claim.place_of_service} (telehealth) without modifier "
            "95, GT, FQ or 93"
        )
    if x["coding_payer_code_rate"] >= RATE_WORTH_SAYING:
        notes.append(
            f"payer {claim.payer_id} recently denied {_pct(x['coding_payer_code_rate'])} "
            "of a billed code for coding edits"
        )
    return notes


def documentation(view: ClaimView) -> list[str]:
    claim, x = view.claim, view.values
    notes = []
    if x["doc_attachment_missing_rate"] >= RATE_WORTH_SAYING:
        notes.append(
            f"no attachment (PWK) sent; payer {claim.payer_id} recently denied "
            f"{_pct(x['doc_attachment_missing_rate'])} of such lines without one"
        )
    if x["doc_referral_missing_rate"] >= RATE_WORTH_SAYING:
        notes.append(
            f"no referral number (REF*9F); payer {claim.payer_id} recently denied "
            f"{_pct(x['doc_referral_missing_rate'])} of claims without one"
        )
    if x["doc_payer_charge_rate"] >= RATE_WORTH_SAYING:
        notes.append(
            f"payer {claim.payer_id} recently denied {_pct(x['doc_payer_charge_rate'])}"
            f" of claims of about {claim.total_charge:,.0f} dollars for records"
        )
    missing = [
        name
        for name, value in (("birth date", claim.patient_birth_date), ("sex", claim.patient_sex))
        if value is None
    ]
    if missing:
        notes.append(f"patient {' and '.join(missing)} missing")
    if x["doc_npi_check_digit_bad"] == 1:
        notes.append("an NPI on the claim fails its check digit")
    lines_total = sum(line.line_charge for line in claim.lines)
    if abs(lines_total - claim.total_charge) > 0.005:
        notes.append(
            f"total charge {claim.total_charge:.2f} differs from the lines' {lines_total:.2f}"
        )
    for line in claim.lines:
        past = [p for p in line.diagnosis_pointers if p > len(claim.diagnosis_codes)]
        if past:
            notes.append(
                f"line {line.line_number} points to diagnosis {past[0]} of "
                f"{len(claim.diagnosis_codes)}"
            )
    return notes


def timely_filing(view: ClaimView) -> list[str]:
    claim, x = view.claim, view.values
    lag = int(x["filing_lag_days"])
    notes = [
        f"submitted {lag} days after service ({claim.service_date} to {claim.submission_date})"
    ]
    learned = x["filing_days_past_learned_limit"]
    if _known(learned):
        notes.append(
            f"payer {claim.payer_id} has denied claims filed {lag - int(learned)}+ "
            "days after service as late"
        )
    typical = codes.TYPICAL_FILING_LIMIT_DAYS[claim.plan_type]
    notes.append(f"typical limit for {claim.plan_type.replace('_', ' ')} plans: {typical} days")
    return notes


def credentialing(view: ClaimView) -> list[str]:
    claim, x = view.claim, view.values
    provider = claim.rendering_npi or claim.billing_npi
    enrollment = claim.provider_enrollment
    if enrollment is None:
        return [f"no enrollment of provider {provider} with payer {claim.payer_id} was sent"]
    notes = []
    if enrollment.effective_date > claim.submission_date:
        notes.append(
            f"enrollment of {provider} with payer {claim.payer_id} becomes effective "
            f"{enrollment.effective_date}, after submission"
        )
    elif enrollment.effective_date > claim.service_date:
        notes.append(
            f"enrollment of {provider} with payer {claim.payer_id} effective "
            f"{enrollment.effective_date}; service {claim.service_date}"
        )
    if enrollment.end_date and enrollment.end_date < claim.service_date:
        notes.append(
            f"enrollment of {provider} ended {enrollment.end_date}; service {claim.service_date}"
        )
    if x["cred_provider_prior_denials"] > 0:
        notes.append(
            f"{int(x['cred_provider_prior_denials'])} earlier credentialing denial(s) "
            f"of {provider} at this payer"
        )
    return notes


def duplicate(view: ClaimView) -> list[str]:
    claim, x = view.claim, view.values
    count = int(x["dup_prior_submissions"])
    if count == 0:
        return [f"frequency code {claim.frequency_code}"]
    return [
        f"the same patient, service date and code were submitted {count} time(s) before, "
        f"the latest {int(x['dup_days_since_prior'])} days ago"
    ]


def medical_necessity(view: ClaimView) -> list[str]:
    claim = view.claim
    notes = []
    for line in claim.lines:
        pointed = [
            claim.diagnosis_codes[p - 1]
            for p in line.diagnosis_pointers
            if p <= len(claim.diagnosis_codes)
        ]
        if not codes.diagnosis_supports(line.procedure_code, tuple(pointed)):
            notes.append(
                f"{line.procedure_code}: pointed diagnoses {', '.join(pointed)} do not "
                "support it under common policy"
            )
    return notes


def coordination_of_benefits(view: ClaimView) -> list[str]:
    claim, x = view.claim, view.values
    count = int(x["cob_patient_prior_denials"])
    notes = []
    if count:
        notes.append(f"{count} earlier denial(s) of this patient's claims: another payer primary")
    if x["cob_payer_rate"] > 0.02:
        notes.append(
            f"payer {claim.payer_id} recently denied {_pct(x['cob_payer_rate'])} of "
            "claims for coordination of benefits"
        )
    return notes


def non_covered(view: ClaimView) -> list[str]:
    claim, x = view.claim, view.values
    return [
        f"payer {claim.payer_id} recently denied {_pct(x['noncov_payer_code_rate'])} of a "
        "billed code as not covered"
    ]


def other(view: ClaimView) -> list[str]:
    claim, x = view.claim, view.values
    return [f"payer {claim.payer_id} recent rate of other denials: {_pct(x['other_payer_rate'])}"]


EVIDENCE: dict[Category, Callable[[ClaimView], list[str]]] = {
    "eligibility": eligibility,
    "authorization": authorization,
    "coding": coding,
    "documentation": documentation,
    "timely_filing": timely_filing,
    "credentialing": credentialing,
    "duplicate": duplicate,
    "medical_necessity": medical_necessity,
    "coordination_of_benefits": coordination_of_benefits,
    "non_covered": non_covered,
    "other": other,
}
