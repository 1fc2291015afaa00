"""Authorization: no valid prior authorization on file for a billed code (none, outside its
dates, another provider, units exhausted), or its number missing from the claim."""

from __future__ import annotations

import numpy as np

from features.contract import AuthorizationIn
from features.facts import (
    AUTH_NONE,
    AUTH_OTHER_PROVIDER,
    AUTH_OUTSIDE_DATES,
    AUTH_UNITS_SHORT,
    AUTH_VALID,
    Facts,
)
from features.learned import DecayedRate
from features.registry import Fitted
from features.rules.base import (
    RATE_WORTH_SAYING,
    ClaimView,
    Fix,
    Rule,
    carcs,
    date,
    feature,
    flag,
    learner,
    line_rate_max,
    pct,
    unknown_unless,
)

AUTH_RATE = learner(
    "auth_no_valid_auth_rate",
    DecayedRate(
        "authorization", ("payer_id", "procedure_code"), where="no_valid_auth", tau_days=30
    ),
)


def _auth_lines(f: Facts, status: int) -> np.ndarray:
    matches = flag(f.lines["auth_status"] == status, f.lines["auth_status"])
    return unknown_unless(f, "authorizations", f.per_claim(matches, "sum"))


@feature(
    "auth_no_valid_auth_rate",
    "authorization",
    "Payer's recent auth-denial rate for a billed code lacking a valid authorization",
    "rate",
)
def _auth_rate(f: Facts, fitted: Fitted) -> np.ndarray:
    return unknown_unless(f, "authorizations", line_rate_max(f, fitted, AUTH_RATE))


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
    return unknown_unless(f, "authorizations", f.per_claim(gap, "max"))


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
    return unknown_unless(f, "authorizations", f.per_claim(f.lines["auth_units_short"], "max"))


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
    return unknown_unless(f, "authorizations", f.per_claim(missing, "max"))


def evidence(view: ClaimView) -> list[str]:
    claim, x = view.claim, view.values
    if claim.authorizations is None:
        return ["no authorizations were sent with the claim"]
    notes = [
        f"authorization {auth.auth_number} on file ends {auth.end_date}, before it starts "
        f"{auth.start_date}: correct the authorization"
        for auth in claim.authorizations
        if auth.end_date < auth.start_date
    ]
    lines = view.facts.lines
    rates = view.batch.lookup(AUTH_RATE)
    for line in view.lines():
        code, status = lines["procedure_code"][line], lines["auth_status"][line]
        number = lines["auth_number"][line]
        if status == AUTH_NONE and rates[line] >= RATE_WORTH_SAYING:
            notes.append(
                f"no authorization on file covers {code}; payer {claim.payer_id} "
                f"recently denied {pct(rates[line])} of {code} lines without one"
            )
        elif status == AUTH_OUTSIDE_DATES:
            notes.append(
                f"authorization {number} covers {code} from {date(lines['auth_start_day'][line])}"
                f" to {date(lines['auth_end_day'][line])}; service date "
                f"{date(lines['line_day'][line])}"
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


def fix(view: ClaimView) -> Fix | None:
    """A valid authorization for each line that needs one, its number on the claim."""
    claim = view.claim
    if claim.authorizations is None:
        return None
    lines, rates = view.facts.lines, view.batch.lookup(AUTH_RATE)
    provider = claim.rendering_npi or claim.billing_npi
    added = []
    for line, line_in in zip(view.lines(), claim.lines, strict=True):
        status = lines["auth_status"][line]
        needs = status != AUTH_NONE or rates[line] >= RATE_WORTH_SAYING
        if status == AUTH_VALID or not needs:
            continue
        day = line_in.service_date or claim.service_date
        added.append(
            AuthorizationIn(
                auth_number=lines["auth_number"][line] or claim.prior_auth_number or "PENDING",
                procedure_codes=[lines["procedure_code"][line]],
                start_date=min(day, claim.service_date),
                end_date=max(day, claim.service_date),
                provider_npi=provider,
                units=float(lines["units"][line]),
            )
        )
    numbers = [a.auth_number for a in [*claim.authorizations, *added]]
    number = claim.prior_auth_number if claim.prior_auth_number in numbers else None
    if not added and number == claim.prior_auth_number:
        return None
    update = {
        "authorizations": [*claim.authorizations, *added],
        "prior_auth_number": number or (numbers[0] if numbers else claim.prior_auth_number),
    }
    return (
        "a valid authorization on file for the lines that need one, its number on the claim",
        claim.model_copy(update=update),
    )


RULE = Rule(
    category="authorization",
    title="Authorization does not cover this service",
    action="Obtain or correct the prior authorization: code, dates, units and provider "
    "must match the claim.",
    carcs=carcs("15 39 62 197 198 243"),
    evidence=evidence,
    fix=fix,
    context="authorizations",
)
