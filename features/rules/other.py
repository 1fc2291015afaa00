"""Other: denials outside the named categories, and what a claim is (payer, plan, place of
service, its codes), so trees can learn a payer's rules that no other rule foresaw.

The identity features are declared here, as levels of a vocabulary (LightGBM categoricals);
the category map (``scoring.category_map``) sends their weight where the payer's CARCs say the
denials they drove went, or to the categories the claim's own facts point to; this module's
evidence speaks for them when they alone carry a reason.
"""

from __future__ import annotations

import numpy as np

from features.facts import Facts
from features.learned import DecayedRate, Vocabulary
from features.registry import Fitted
from features.rules.base import (
    RATE_WORTH_SAYING,
    ClaimView,
    Rule,
    carcs,
    claim_rate,
    feature,
    learner,
    pct,
)

OTHER_RATE = learner(
    "other_payer_rate", DecayedRate("other", ("payer_id", "plan_type"), level="claim")
)
IDENTITIES = {
    "payer_id": "The payer",
    "plan_type": "The plan type",
    "place_of_service": "The place of service",
    "primary_code": "The procedure code of the highest-charged line",
    "code_pair": "The two highest-charged procedure codes together",
}


@feature(
    "other_payer_rate",
    "other",
    "This payer's recent rate of denials outside the named categories",
    "rate",
)
def _other_rate(f: Facts, fitted: Fitted) -> np.ndarray:
    return claim_rate(f, fitted, OTHER_RATE)


def _identity(column: str, description: str) -> None:
    name = learner(f"id_{column}", Vocabulary(column))

    @feature(name, "other", f"{description} (a level of the history's frequent values)", "code")
    def _level(f: Facts, fitted: Fitted) -> np.ndarray:
        return np.asarray(fitted[name].lookup(f))


for _column, _description in IDENTITIES.items():
    _identity(_column, _description)


def evidence(view: ClaimView) -> list[str]:
    """The payer's rate of other denials when it is worth saying; otherwise the weight came
    from what the claim is, and the sentence says so."""
    claim, x = view.claim, view.values
    if x["other_payer_rate"] >= RATE_WORTH_SAYING:
        return [
            f"payer {claim.payer_id} recent rate of other denials: {pct(x['other_payer_rate'])}"
        ]
    codes = ", ".join(sorted({line.procedure_code for line in claim.lines}))
    return [
        f"claims like this one (payer {claim.payer_id}, {claim.plan_type.replace('_', ' ')} "
        f"plan, place of service {claim.place_of_service}, {codes}) were often denied in this "
        "history"
    ]


RULE = Rule(
    category="other",
    title="Other payer edits",
    action="Review the claim against the payer's remittance history.",
    carcs=carcs("13 40 188"),
    evidence=evidence,
)
