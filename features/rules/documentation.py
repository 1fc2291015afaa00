"""Documentation: records or referral the payer asks for, missing patient data, an NPI that
fails its check digit, a total that is not the sum of the lines, pointers past the list."""

from __future__ import annotations

import numpy as np

from features.facts import Facts
from features.learned import DecayedRate
from features.registry import Fitted
from features.rules.base import (
    RATE_WORTH_SAYING,
    ClaimView,
    Fix,
    Rule,
    carcs,
    claim_rate,
    feature,
    learner,
    line_rate_max,
    pct,
)

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
    return line_rate_max(f, fitted, ATTACHMENT_RATE)


@feature(
    "doc_referral_missing_rate",
    "documentation",
    "Payer's recent documentation-denial rate for claims without a referral number",
    "rate",
)
def _doc_referral(f: Facts, fitted: Fitted) -> np.ndarray:
    return claim_rate(f, fitted, REFERRAL_RATE)


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
    return claim_rate(f, fitted, CHARGE_RATE)


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


def evidence(view: ClaimView) -> list[str]:
    claim, x = view.claim, view.values
    notes = []
    if x["doc_attachment_missing_rate"] >= RATE_WORTH_SAYING:
        notes.append(
            f"no attachment (PWK) sent; payer {claim.payer_id} recently denied "
            f"{pct(x['doc_attachment_missing_rate'])} of such lines without one"
        )
    if x["doc_referral_missing_rate"] >= RATE_WORTH_SAYING:
        notes.append(
            f"no referral number (REF*9F); payer {claim.payer_id} recently denied "
            f"{pct(x['doc_referral_missing_rate'])} of claims without one"
        )
    if x["doc_payer_charge_rate"] >= RATE_WORTH_SAYING:
        notes.append(
            f"payer {claim.payer_id} recently denied {pct(x['doc_payer_charge_rate'])}"
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
    if x["doc_charge_mismatch"] == 1:
        lines_total = sum(line.line_charge for line in claim.lines)
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


def fix(view: ClaimView) -> Fix | None:
    """Attach the records, add the referral, make the total the lines' sum, fix pointers."""
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


RULE = Rule(
    category="documentation",
    title="Claim data or documentation is missing",
    action="Complete the missing fields and attach the records the payer asks for (PWK).",
    carcs=carcs("16 163 164 226 227 252"),
    evidence=evidence,
    fix=fix,
)
