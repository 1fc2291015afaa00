"""Non-covered: benefit exclusions and limits of the patient's plan."""

from __future__ import annotations

import numpy as np

from features.facts import Facts
from features.learned import DecayedRate, DenialCount, RepeatRate
from features.registry import Fitted
from features.rules.base import (
    RATE_WORTH_SAYING,
    ClaimView,
    Rule,
    carcs,
    date,
    feature,
    learner,
    line_rate_max,
    pct,
)

NONCOVERED_RATE = learner(
    "noncov_payer_code_rate", DecayedRate("non_covered", ("payer_id", "procedure_code"))
)
NONCOVERED_DENIALS = learner("noncov_member_denials", DenialCount("non_covered", "member_key"))
REPEAT_RATE = learner("noncov_repeat_rate", RepeatRate("non_covered"))


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


@feature(
    "noncov_repeat_excess",
    "non_covered",
    "Most that this payer's recent not-covered denial rate for a billed code repeating "
    "services it paid for the member (as often this calendar year, or within 365 days) "
    "exceeds its rate for all repeats",
    "rate",
)
def _noncov_repeat(f: Facts, fitted: Fitted) -> np.ndarray:
    return f.per_claim(fitted[REPEAT_RATE].excess(f), "max", empty=0.0)


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
    return notes + _repeat_notes(view)


def _repeat_notes(view: ClaimView) -> list[str]:
    """The lines repeating a service the payer paid, where such repeats drew denials beyond
    repeats in general (what the feature measures)."""
    batch = view.batch
    learned = batch.fitted[REPEAT_RATE]
    rates = batch.lookup(REPEAT_RATE)
    excess = batch.once("noncov_repeat_excess", lambda: learned.excess(view.facts))
    in_year, last = batch.once("noncov_paid_before", lambda: learned.paid_before(view.facts))
    notes = []
    for line, line_in in zip(view.lines(), view.claim.lines, strict=True):
        if not excess[line] >= RATE_WORTH_SAYING:
            continue
        count = int(in_year[line])
        paid = f"{count} paid this calendar year" if count else "none this calendar year"
        notes.append(
            f"line {line_in.line_number}: payer {view.claim.payer_id} already paid "
            f"{line_in.procedure_code} for this member ({paid}, the latest dated "
            f"{date(last[line])}) and recently denied {pct(rates[line])} of such repeats"
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
