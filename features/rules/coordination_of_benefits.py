"""Coordination of benefits: another payer is primary for this patient."""

from __future__ import annotations

import numpy as np

from features.facts import Facts
from features.learned import DecayedRate, DenialCount
from features.registry import Fitted
from features.rules.base import ClaimView, Rule, carcs, claim_rate, feature, learner, pct

COB_DENIALS = learner("cob_patient_denials", DenialCount("coordination_of_benefits", "patient_key"))
COB_RATE = learner(
    "cob_payer_rate",
    DecayedRate("coordination_of_benefits", ("payer_id", "plan_type"), level="claim"),
)
RATE_WORTH_SAYING = 0.02  # COB denials are rare: a payer's 2% already stands out


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
    return claim_rate(f, fitted, COB_RATE)


def evidence(view: ClaimView) -> list[str]:
    claim, x = view.claim, view.values
    count = int(x["cob_patient_prior_denials"])
    notes = []
    if count:
        notes.append(f"{count} earlier denial(s) of this patient's claims: another payer primary")
    if x["cob_payer_rate"] > RATE_WORTH_SAYING:
        notes.append(
            f"payer {claim.payer_id} recently denied {pct(x['cob_payer_rate'])} of "
            "claims for coordination of benefits"
        )
    return notes


RULE = Rule(
    category="coordination_of_benefits",
    title="Another payer may be primary",
    action="Confirm the patient's other coverage and bill the primary payer first.",
    carcs=carcs("19 20 21 22 109"),
    evidence=evidence,
)
