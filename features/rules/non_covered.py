"""Non-covered: benefit exclusions and limits of the patient's plan."""

from __future__ import annotations

import numpy as np

from features.facts import Facts
from features.learned import DecayedRate
from features.registry import Fitted
from features.rules.base import ClaimView, Rule, carcs, feature, learner, line_rate_max, pct

NONCOVERED_RATE = learner(
    "noncov_payer_code_rate", DecayedRate("non_covered", ("payer_id", "procedure_code"))
)


@feature(
    "noncov_payer_code_rate",
    "non_covered",
    "Highest recent not-covered denial rate of this payer for a billed code",
    "rate",
)
def _noncov_rate(f: Facts, fitted: Fitted) -> np.ndarray:
    return line_rate_max(f, fitted, NONCOVERED_RATE)


def evidence(view: ClaimView) -> list[str]:
    claim, x = view.claim, view.values
    return [
        f"payer {claim.payer_id} recently denied {pct(x['noncov_payer_code_rate'])} of a "
        "billed code as not covered"
    ]


RULE = Rule(
    category="non_covered",
    title="Service may not be covered by this plan",
    action="Check the plan's benefits; obtain a signed advance notice (ABN) or bill the "
    "patient where allowed.",
    carcs=carcs("35 49 96 119 149 204"),
    evidence=evidence,
)
