"""Credentialing: the rendering (or billing) provider not enrolled with the payer on the date
of service, or denied for it before."""

from __future__ import annotations

import numpy as np

from features.contract import EnrollmentIn
from features.facts import Facts
from features.learned import DenialCount
from features.registry import Fitted
from features.rules.base import ClaimView, Fix, Rule, carcs, feature, learner, unknown_unless

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
    return unknown_unless(f, "provider_enrollment", (~covered).astype(float))


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


def evidence(view: ClaimView) -> list[str]:
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


def fix(view: ClaimView) -> Fix | None:
    """Enrolled for the date of service; nothing to fix when the enrollment was not sent or
    already covers it (then the risk is this provider's past denials)."""
    claim = view.claim
    if claim.provider_enrollment is None or view.values["cred_not_enrolled_on_service_date"] == 0:
        return None
    enrollment = EnrollmentIn(effective_date=min(claim.service_date, claim.submission_date))
    return (
        "provider enrolled with the payer for the date of service",
        claim.model_copy(update={"provider_enrollment": enrollment}),
    )


RULE = Rule(
    category="credentialing",
    title="Provider may not be enrolled with this payer",
    action="Confirm the rendering provider's enrollment and network status with the payer "
    "for the date of service.",
    carcs=carcs("170 185 242 B7"),
    evidence=evidence,
    fix=fix,
    context="provider_enrollment",
)
