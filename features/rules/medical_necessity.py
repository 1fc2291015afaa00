"""Medical necessity: the pointed diagnoses do not support the procedure (LCD/NCD policy)."""

from __future__ import annotations

import numpy as np

from features.facts import Facts
from features.learned import DecayedRate
from features.registry import Fitted
from features.rules.base import (
    RATE_WORTH_SAYING,
    ClaimView,
    Rule,
    carcs,
    feature,
    learner,
    line_rate_max,
    pct,
)

NECESSITY_RATE = learner(
    "medn_unsupported_rate",
    DecayedRate("medical_necessity", ("payer_id", "procedure_code"), where="dx_unsupported"),
)
# A payer files a diagnosis that does not support the procedure as medical necessity (CO-50)
# or as coding (CO-11): both count, and the payer's category map says which its reasons are.
DIAGNOSIS_RATE = learner(
    "medn_payer_diagnosis_rate",
    DecayedRate(("medical_necessity", "coding"), ("payer_id", "procedure_code", "pointed_dx")),
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
    return line_rate_max(f, fitted, NECESSITY_RATE)


@feature(
    "medn_payer_diagnosis_rate",
    "medical_necessity",
    "Highest recent rate of this payer's medical-necessity or coding denials of a billed "
    "code for the same pointed diagnoses",
    "rate",
)
def _medn_diagnosis_rate(f: Facts, fitted: Fitted) -> np.ndarray:
    return line_rate_max(f, fitted, DIAGNOSIS_RATE)


def evidence(view: ClaimView) -> list[str]:
    """The lines the support fact flags, with the diagnoses they point to, and the lines
    recently denied for the same diagnoses."""
    claim = view.claim
    rates = view.batch.lookup(DIAGNOSIS_RATE)
    notes = []
    for line, row in zip(claim.lines, view.lines(), strict=True):
        pointed = ", ".join(
            claim.diagnosis_codes[p - 1]
            for p in line.diagnosis_pointers
            if p <= len(claim.diagnosis_codes)
        )
        if view.facts.lines["dx_unsupported"][row]:
            notes.append(
                f"{line.procedure_code}: pointed diagnoses {pointed} do not support it under "
                "common policy"
            )
        if rates[row] >= RATE_WORTH_SAYING:
            notes.append(
                f"line {line.line_number}: {line.procedure_code} pointed at "
                f"{pointed or 'no diagnosis'} drew medical-necessity or coding denials on "
                f"{pct(rates[row])} of recent lines (at payer {claim.payer_id}, and at other "
                "payers where it has few)"
            )
    return notes


RULE = Rule(
    category="medical_necessity",
    title="Diagnosis may not support the service",
    action="Check that the diagnosis codes and pointers support each procedure under the "
    "payer's LCD/NCD policy.",
    carcs=carcs("50 55 56 167"),
    evidence=evidence,
)
