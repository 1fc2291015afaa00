"""Non-covered: benefit exclusions and limits of the patient's plan."""

from __future__ import annotations

import numpy as np

from features.facts import Facts
from features.learned import DecayedRate, DenialCount
from features.registry import Fitted
from features.rules.base import ClaimView, Rule, carcs, feature, learner, line_rate_max, pct

NONCOVERED_RATE = learner(
    "noncov_payer_code_rate", DecayedRate("non_covered", ("payer_id", "procedure_code"))
)
NONCOVERED_DENIALS = learner("noncov_member_denials", DenialCount("non_covered", "member_key"))


@feature(
    "noncov_payer_code_rate",
    "non_covered",
    "Highest recent not-covered denial rate of this payer for a billed code",
    "rate",
)
def _noncov_rate(f: Facts, fitted: Fitted) -> np.ndarray:
    return line_rate_max(f, fitted, NONCOVERED_RATE)


@feature(
    "noncov_member_prior_denials",
    "non_covered",
    "Earlier not-covered denials of this member at this payer",
    "count",
)
def _noncov_member(f: Facts, fitted: Fitted) -> np.ndarray:
    return fitted[NONCOVERED_DENIALS].lookup(f)


def evidence(view: ClaimView) -> list[str]:
    claim, x = view.claim, view.values
    notes = [
        f"payer {claim.payer_id} recently denied {pct(x['noncov_payer_code_rate'])} of a "
        "billed code as not covered"
    ]
    if x["noncov_member_prior_denials"] > 0:
        notes.append(
            f"{int(x['noncov_member_prior_denials'])} earlier not-covered denial(s) of this "
            f"member at payer {claim.payer_id}"
        )
    return notes


RULE = Rule(
    category="non_covered",
    title="Service may not be covered by this plan",
    action="Check the plan's benefits; obtain a signed advance notice (ABN) or bill the "
    "patient where allowed.",
    carcs=carcs("35 49 96 119 149 204"),
    evidence=evidence,
)
