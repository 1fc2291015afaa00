"""What-if: the claim with a reason's fix applied, to be re-scored through the same pipeline.

A fix changes only what the reason points at, the way staff would: verify coverage (also when
no check was sent: that is the action), obtain or correct the authorization of the lines
that need one, add modifier 25, attach the records the payer asks for. Some causes cannot be
fixed on the claim (a late filing, a diagnosis that does not support the service, a
non-covered benefit, authorizations or enrollment that were not sent): no what-if.
"""

from __future__ import annotations

from collections.abc import Callable

from features import codes
from features.categories import Category
from features.contract import AuthorizationIn, ClaimIn, EligibilityIn, EnrollmentIn
from features.facts import AUTH_NONE, AUTH_VALID
from serving.evidence import RATE_WORTH_SAYING, ClaimView

Fix = tuple[str, ClaimIn]


def eligibility(view: ClaimView) -> Fix | None:
    claim = view.claim
    start = claim.service_date
    if claim.eligibility and claim.eligibility.coverage_start:
        start = min(start, claim.eligibility.coverage_start)
    check = EligibilityIn(checked_on=claim.submission_date, status="active", coverage_start=start)
    return (
        "coverage verified active for the date of service",
        claim.model_copy(update={"eligibility": check}),
    )


def authorization(view: ClaimView) -> Fix | None:
    claim = view.claim
    if claim.authorizations is None:
        return None
    lines, rates = view.facts.lines, view.auth_rates()
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


def coding(view: ClaimView) -> Fix | None:
    claim = view.claim
    with_procedure = any(codes.needs_modifier_25(line.procedure_code) for line in claim.lines)
    telehealth = claim.place_of_service in codes.TELEHEALTH_POS
    lines = []
    for line in claim.lines:
        modifiers = list(line.modifiers)
        if with_procedure and line.procedure_code in codes.EM_CODES and "25" not in modifiers:
            modifiers.append("25")
        if telehealth and not codes.TELEHEALTH_MODIFIERS.intersection(modifiers):
            modifiers.append("95")
        units = min(line.units, codes.MAX_UNITS.get(line.procedure_code, line.units))
        lines.append(line.model_copy(update={"modifiers": modifiers[:4], "units": units}))
    if lines == claim.lines:
        return None
    return (
        "modifiers 25/95 added where required and units within limits",
        claim.model_copy(update={"lines": lines}),
    )


def documentation(view: ClaimView) -> Fix | None:
    claim, x = view.claim, view.values
    update: dict[str, object] = {}
    done = []
    if x["doc_attachment_missing_rate"] >= RATE_WORTH_SAYING:
        update["has_attachment"] = True
        done.append("records attached")
    if x["doc_referral_missing_rate"] >= RATE_WORTH_SAYING:
        update["referral_number"] = "ON-FILE"
        done.append("referral number added")
    if x["doc_charge_mismatch"] == 1:
        update["total_charge"] = round(sum(line.line_charge for line in claim.lines), 2)
        done.append("total charge equal to the lines")
    if x["doc_pointer_out_of_range"] > 0:
        update["lines"] = [
            line.model_copy(update={"diagnosis_pointers": [
                p for p in line.diagnosis_pointers if p <= len(claim.diagnosis_codes)] or [1]})
            for line in claim.lines
        ]  # fmt: skip
        done.append("diagnosis pointers corrected")
    if not done:
        return None
    return ", ".join(done), claim.model_copy(update=update)


def credentialing(view: ClaimView) -> Fix | None:
    claim = view.claim
    if claim.provider_enrollment is None or view.values["cred_not_enrolled_on_service_date"] == 0:
        return None  # not sent, or enrolled already (the risk is this provider's past denials)
    enrollment = EnrollmentIn(effective_date=min(claim.service_date, claim.submission_date))
    return (
        "provider enrolled with the payer for the date of service",
        claim.model_copy(update={"provider_enrollment": enrollment}),
    )


def duplicate(view: ClaimView) -> Fix | None:
    if view.values["dup_prior_submissions"] == 0 or view.claim.frequency_code == "7":
        return None
    return (
        "sent as a corrected claim (frequency code 7) instead of a new original",
        view.claim.model_copy(update={"frequency_code": "7"}),
    )


FIXES: dict[Category, Callable[[ClaimView], Fix | None]] = {
    "eligibility": eligibility,
    "authorization": authorization,
    "coding": coding,
    "documentation": documentation,
    "credentialing": credentialing,
    "duplicate": duplicate,
}
