"""Coding: modifier 25 on a same-day visit, units above the medically unlikely edit, sex- and
age-specific codes, diagnoses that cannot be billed, telehealth without its modifier, and the
payer's recent coding denials of a billed code."""

from __future__ import annotations

import numpy as np

from features import codes
from features.facts import Facts
from features.learned import DecayedRate, zero_nan
from features.registry import Fitted
from features.rules.base import (
    RATE_WORTH_SAYING,
    ClaimView,
    Fix,
    Rule,
    carcs,
    feature,
    learner,
    line_rate_max,
    members,
    pct,
)

CODING_RATE = learner(
    "coding_payer_code_rate", DecayedRate("coding", ("payer_id", "procedure_code"))
)
# Code edits (unit limits, code pairs) are largely national: a pattern the payer has shown
# little borrows from the same pattern at all payers (the shrinkage parent drops the first key
# column), which measured far better than borrowing from the payer's rate for the code.
PATTERN_RATE = learner(
    "coding_payer_pattern_rate",
    DecayedRate("coding", ("payer_id", "procedure_code", "line_pattern")),
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
    telehealth = members(f.claims["place_of_service"], codes.TELEHEALTH_POS)
    with_modifier = f.per_claim(f.lines["telehealth_modifier"], "max")
    return (telehealth & (with_modifier == 0)).astype(float)


@feature(
    "coding_payer_code_rate",
    "coding",
    "Highest recent coding-denial rate of this payer for a billed code",
    "rate",
)
def _coding_rate(f: Facts, fitted: Fitted) -> np.ndarray:
    return line_rate_max(f, fitted, CODING_RATE)


@feature(
    "coding_payer_pattern_rate",
    "coding",
    "Highest recent coding-denial rate of this payer for a billed code with the same units, "
    "modifiers and other codes on the claim",
    "rate",
)
def _coding_pattern_rate(f: Facts, fitted: Fitted) -> np.ndarray:
    return line_rate_max(f, fitted, PATTERN_RATE)


def _sex_notes(view: ClaimView) -> list[str]:
    """The lines the sex fact flags (the patient's sex another one, or not known)."""
    sex = view.claim.patient_sex or "unknown"
    return [
        f"{code} is for sex {'F' if code in codes.FEMALE_ONLY_CODES else 'M'}; patient sex {sex}"
        for code in view.line_fact("procedure_code")[view.line_fact("sex_conflict")]
    ]


def _age_notes(view: ClaimView) -> list[str]:
    """The lines the age fact flags, with the age on each line's own date of service."""
    birth_day = view.facts.claims["birth_day"][view.row]
    notes = []
    for line in view.lines()[view.line_fact("age_conflict")]:
        code = view.facts.lines["procedure_code"][line]
        low, high = codes.AGE_BANDS[code]
        age = int((view.facts.lines["line_day"][line] - birth_day) // 365.25)
        notes.append(
            f"{code} is for ages {low}-{high}; the patient is {age} on its date of service"
        )
    return notes


def evidence(view: ClaimView) -> list[str]:
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
    notes += _sex_notes(view)
    for dx in claim.diagnosis_codes:
        if not codes.diagnosis_billable(dx):
            notes.append(
                f"diagnosis {dx} cannot be billed (deleted, a header, or missing its 7th character)"
            )
    notes += _age_notes(view)
    if x["coding_telehealth_without_modifier"] == 1:
        notes.append(
            f"place of service {claim.place_of_service} (telehealth) without modifier "
            "95, GT, FQ or 93"
        )
    if x["coding_payer_code_rate"] >= RATE_WORTH_SAYING:
        notes.append(
            f"payer {claim.payer_id} recently denied {pct(x['coding_payer_code_rate'])} "
            "of a billed code for coding edits"
        )
    return notes + _pattern_notes(view)


def _pattern_notes(view: ClaimView) -> list[str]:
    """The lines billed the way this payer recently denied for coding edits."""
    rates, lines = view.batch.lookup(PATTERN_RATE), view.facts.lines
    notes = []
    for line, line_in in zip(view.lines(), view.claim.lines, strict=True):
        if not rates[line] >= RATE_WORTH_SAYING:
            continue
        others = [other.procedure_code for other in view.claim.lines if other is not line_in]
        modifiers = ", ".join(line_in.modifiers) or "no modifier"
        notes.append(
            f"line {line_in.line_number}: {lines['procedure_code'][line]} billed as here "
            f"({line_in.units:g} units, {modifiers}, with {', '.join(others) or 'no other code'})"
            f" drew coding denials on {pct(rates[line])} of recent lines (at payer "
            f"{view.claim.payer_id}, and at other payers where it has few)"
        )
    return notes


def fix(view: ClaimView) -> Fix | None:
    """Modifier 25 on the visit, a telehealth modifier, units within the edit."""
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


RULE = Rule(
    category="coding",
    title="Coding edit likely to fail",
    action="Review modifiers, code pairs, units, place of service and age/sex edits.",
    carcs=carcs("4 5 6 7 8 9 10 11 58 97 146 151 181 182 189 236"),
    evidence=evidence,
    fix=fix,
)
