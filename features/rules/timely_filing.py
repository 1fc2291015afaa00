"""Timely filing: the claim is at or past the payer's filing limit (learned from its denials
and payments, or the plan type's typical limit)."""

from __future__ import annotations

import numpy as np

from features import codes
from features.facts import Facts
from features.learned import FilingLimit
from features.registry import Fitted
from features.rules.base import ClaimView, Rule, carcs, feature, known, learner

FILING = learner("filing_limit", FilingLimit())


@feature("filing_lag_days", "timely_filing", "Days from service to submission", "days")
def _filing_lag(f: Facts, _: Fitted) -> np.ndarray:
    return f.claims["lag_days"]


@feature(
    "filing_days_past_learned_limit",
    "timely_filing",
    "Lag minus the shortest lag this payer has denied as late",
    "days",
)
def _filing_learned(f: Facts, fitted: Fitted) -> np.ndarray:
    return f.claims["lag_days"] - fitted[FILING].lookup(f)[:, 0]


@feature(
    "filing_days_past_longest_paid",
    "timely_filing",
    "Lag minus the longest lag this payer has paid",
    "days",
)
def _filing_paid(f: Facts, fitted: Fitted) -> np.ndarray:
    return f.claims["lag_days"] - fitted[FILING].lookup(f)[:, 1]


@feature(
    "filing_days_past_typical_limit",
    "timely_filing",
    "Lag minus the typical filing limit of the plan type",
    "days",
)
def _filing_typical(f: Facts, _: Fitted) -> np.ndarray:
    plans = f.claims["plan_type"]
    limits = codes.TYPICAL_FILING_LIMIT_DAYS
    return f.claims["lag_days"] - np.fromiter((limits[p] for p in plans), float, len(plans))


def evidence(view: ClaimView) -> list[str]:
    claim, x = view.claim, view.values
    lag = int(x["filing_lag_days"])
    notes = [
        f"submitted {lag} days after service ({claim.service_date} to {claim.submission_date})"
    ]
    learned = x["filing_days_past_learned_limit"]
    if known(learned):
        notes.append(
            f"payer {claim.payer_id} has denied claims filed {lag - int(learned)}+ "
            "days after service as late"
        )
    typical = codes.TYPICAL_FILING_LIMIT_DAYS[claim.plan_type]
    notes.append(f"typical limit for {claim.plan_type.replace('_', ' ')} plans: {typical} days")
    return notes


RULE = Rule(
    category="timely_filing",
    title="Claim is at or past the payer's filing limit",
    action="Submit today; if already late, gather proof of timely filing for an appeal.",
    carcs=carcs("29"),
    evidence=evidence,
)
