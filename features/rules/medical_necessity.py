"""Medical necessity: the pointed diagnoses do not support the procedure (LCD/NCD policy)."""

from __future__ import annotations

import numpy as np

from features.facts import Facts
from features.learned import DecayedRate
from features.registry import Fitted
from features.rules.base import ClaimView, Rule, carcs, feature, learner, line_rate_max

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
    return line_rate_max(f, fitted, NECESSITY_RATE)


def evidence(view: ClaimView) -> list[str]:
    """The lines the support fact flags, with the diagnoses they point to."""
    claim = view.claim
    notes = []
    for line, unsupported in zip(claim.lines, view.line_fact("dx_unsupported"), strict=True):
        if unsupported:
            pointed = [
                claim.diagnosis_codes[p - 1]
                for p in line.diagnosis_pointers
                if p <= len(claim.diagnosis_codes)
            ]
            notes.append(
                f"{line.procedure_code}: pointed diagnoses {', '.join(pointed)} do not "
                "support it under common policy"
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
