"""Other: denials outside the named categories, by this payer's recent rate of them."""

from __future__ import annotations

import numpy as np

from features.facts import Facts
from features.learned import DecayedRate
from features.registry import Fitted
from features.rules.base import ClaimView, Rule, carcs, claim_rate, feature, learner, pct

OTHER_RATE = learner(
    "other_payer_rate", DecayedRate("other", ("payer_id", "plan_type"), level="claim")
)


@feature(
    "other_payer_rate",
    "other",
    "This payer's recent rate of denials outside the named categories",
    "rate",
)
def _other_rate(f: Facts, fitted: Fitted) -> np.ndarray:
    return claim_rate(f, fitted, OTHER_RATE)


def evidence(view: ClaimView) -> list[str]:
    claim, x = view.claim, view.values
    return [f"payer {claim.payer_id} recent rate of other denials: {pct(x['other_payer_rate'])}"]


RULE = Rule(
    category="other",
    title="Other payer edits",
    action="Review the claim against the payer's remittance history.",
    carcs=carcs("13 40 188"),
    evidence=evidence,
)
