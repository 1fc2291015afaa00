"""Eligibility: coverage not active for the date of service, or the member not found."""

from __future__ import annotations

import numpy as np

from features.contract import EligibilityIn
from features.facts import Facts
from features.learned import DecayedRate, DenialCount, LastPaidService, MemberIds, member_digest
from features.registry import Fitted
from features.rules.base import (
    ClaimView,
    Fix,
    Rule,
    carcs,
    claim_rate,
    date,
    feature,
    flag,
    learner,
    unknown_unless,
)

ELIG_RATE = learner(
    "elig_payer_state_rate",
    DecayedRate("eligibility", ("payer_id", "elig_state"), level="claim", where="elig_known"),
)
ELIG_MEMBER_DENIALS = learner("elig_member_denials", DenialCount("eligibility", "member_key"))
MEMBER_IDS = learner("member_ids", MemberIds())
LAST_PAID = learner("last_paid_service", LastPaidService())
UNPAID_WORTH_SAYING = 180  # days since the payer last paid for the member that merit a word


@feature("elig_no_check", "eligibility", "No eligibility check on or before submission", "flag")
def _elig_no_check(f: Facts, _: Fitted) -> np.ndarray:
    return 1.0 - f.claims["elig_found"]


@feature("elig_check_age_days", "eligibility", "Days from the last check to submission", "days")
def _elig_check_age(f: Facts, _: Fitted) -> np.ndarray:
    return f.claims["sub_day"] - f.claims["elig_check_day"]


@feature("elig_check_inactive", "eligibility", "The last check said coverage is inactive", "flag")
def _elig_inactive(f: Facts, _: Fitted) -> np.ndarray:
    return flag(f.claims["elig_status"] == 1, f.claims["elig_status"])


@feature("elig_member_not_found", "eligibility", "The last check did not find the member", "flag")
def _elig_not_found(f: Facts, _: Fitted) -> np.ndarray:
    return flag(f.claims["elig_status"] == 2, f.claims["elig_status"])


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
    "elig_days_since_paid_service",
    "eligibility",
    "Days from the member's latest service this payer paid to this service",
    "days",
)
def _elig_since_paid(f: Facts, fitted: Fitted) -> np.ndarray:
    return fitted[LAST_PAID].days_since(f)


@feature(
    "elig_payer_state_rate",
    "eligibility",
    "This payer's recent eligibility-denial rate for claims whose check said the same",
    "rate",
)
def _elig_rate(f: Facts, fitted: Fitted) -> np.ndarray:
    return unknown_unless(f, "eligibility", claim_rate(f, fitted, ELIG_RATE))


@feature(
    "elig_member_prior_denials",
    "eligibility",
    "Earlier eligibility denials for this member id at this payer",
    "count",
)
def _elig_member_denials(f: Facts, fitted: Fitted) -> np.ndarray:
    return fitted[ELIG_MEMBER_DENIALS].lookup(f)


@feature(
    "elig_member_id_changed",
    "eligibility",
    "The member id differs from the one this patient was last billed under at this payer",
    "flag",
)
def _elig_member_id_changed(f: Facts, fitted: Fitted) -> np.ndarray:
    last = fitted[MEMBER_IDS].lookup(f)[:, 2]
    return np.where(np.isnan(last), np.nan, (last != member_digest(f)).astype(float))


def evidence(view: ClaimView) -> list[str]:
    changed = []
    if view.values["elig_member_id_changed"] == 1:
        changed.append(
            f"the member id differs from the one this patient was last billed under at payer "
            f"{view.claim.payer_id}: a new card, or a typo"
        )
    return [*changed, *_check_evidence(view), *_history_evidence(view)]


def _check_evidence(view: ClaimView) -> list[str]:
    """What the claim's own check says."""
    claim, x = view.claim, view.values
    check = claim.eligibility
    if check is None:
        return ["no eligibility check was sent with the claim"]
    if x["elig_no_check"] == 1:
        notes = [
            f"the eligibility check of {check.checked_on} is after submission "
            f"{claim.submission_date}: no check on file at submission"
        ]
    else:
        notes = [
            f"last eligibility check {check.checked_on} ({int(x['elig_check_age_days'])} "
            f"days before submission) said {check.status.replace('_', ' ')}"
        ]
    if check.coverage_end and check.coverage_end < claim.service_date:
        notes.append(f"coverage ended {check.coverage_end}; service {claim.service_date}")
    if check.coverage_start and check.coverage_start > claim.service_date:
        notes.append(f"coverage starts {check.coverage_start}; service {claim.service_date}")
    return notes


def _history_evidence(view: ClaimView) -> list[str]:
    """What the payer did with the member's earlier claims."""
    claim, x = view.claim, view.values
    notes = []
    if x["elig_days_since_paid_service"] > UNPAID_WORTH_SAYING:
        paid = date(view.batch.lookup(LAST_PAID)[view.row])
        notes.append(
            f"the latest service of this member that payer {claim.payer_id} paid is dated "
            f"{paid}; service {claim.service_date}"
        )
    if x["elig_member_prior_denials"] > 0:
        notes.append(
            f"{int(x['elig_member_prior_denials'])} earlier eligibility denial(s) for "
            f"this member id at payer {claim.payer_id}"
        )
    return notes


def fix(view: ClaimView) -> Fix | None:
    """Verify coverage (also when no check was sent: that is the action)."""
    claim = view.claim
    start = claim.service_date
    if claim.eligibility and claim.eligibility.coverage_start:
        start = min(start, claim.eligibility.coverage_start)
    check = EligibilityIn(checked_on=claim.submission_date, status="active", coverage_start=start)
    return (
        "coverage verified active for the date of service",
        claim.model_copy(update={"eligibility": check}),
    )


RULE = Rule(
    category="eligibility",
    title="Coverage may not be active for this service",
    action="Verify coverage for the date of service (270/271), correct the member id, "
    "or bill the right payer.",
    carcs=carcs("26 27 31 32 33 140 177 200"),
    evidence=evidence,
    fix=fix,
    context="eligibility",
)
