"""Duplicate: the same patient, service date and code submitted before, or a replacement.

Earlier submissions are counted by one key per line (``duplicate_keys``): those of the
history, of the claims sent in the same batch or file, and of claims the service scored
before (``remember_earlier``: the API finds them in its prediction store by a keyed digest of
this key), all through the same submission log, so the features, evidence and what-if are the
same whichever way the first copy came.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from features.facts import Facts
from features.learned import PriorSubmissions, zero_nan
from features.registry import Fitted
from features.rules.base import ClaimView, Fix, Rule, carcs, feature, learner, members

PRIOR = learner("prior_submissions", PriorSubmissions())


def duplicate_keys(f: Facts) -> tuple[np.ndarray, np.ndarray]:
    """Per line: the key earlier submissions are counted by (the patient, the line's service
    date and its procedure code, as one uint64) and the claim's submission day."""
    keys, days, _ = PriorSubmissions().events(f)
    return keys, days


def remember_earlier(fitted: Fitted, keys: np.ndarray, days: np.ndarray) -> dict[str, Any]:
    """``fitted`` with the submissions of these ``duplicate_keys`` on these days counted, as
    the claims of a file count for each other (those dated within the history are in it)."""
    return {**fitted, PRIOR: fitted[PRIOR].remember_events(keys, days, days)}


@feature(
    "dup_prior_submissions",
    "duplicate",
    "Earlier submissions of the same patient, service date and code",
    "count",
)
def _dup_count(f: Facts, fitted: Fitted) -> np.ndarray:
    return f.per_claim(zero_nan(fitted[PRIOR].lookup(f)[:, 0]), "max")


@feature(
    "dup_days_since_prior",
    "duplicate",
    "Days since the latest earlier submission of the same service",
    "days",
)
def _dup_days(f: Facts, fitted: Fitted) -> np.ndarray:
    sub_day = f.claims["sub_day"][f.lines["claim_pos"]]
    return f.per_claim(sub_day - fitted[PRIOR].lookup(f)[:, 1], "min", empty=np.nan)


@feature(
    "dup_is_replacement",
    "duplicate",
    "Frequency code 7 or 8 (replacement or void of an earlier claim)",
    "flag",
)
def _dup_replacement(f: Facts, _: Fitted) -> np.ndarray:
    return members(f.claims["frequency_code"], frozenset({"7", "8"})).astype(float)


def evidence(view: ClaimView) -> list[str]:
    claim, x = view.claim, view.values
    count = int(x["dup_prior_submissions"])
    if count == 0:
        return [f"frequency code {claim.frequency_code}"]
    days = int(x["dup_days_since_prior"])
    latest = claim.submission_date - dt.timedelta(days=days)
    return [
        f"the same patient, service date and code were on {count} earlier claim(s) "
        f"(submitted, or checked here before submission), the latest for submission on "
        f"{latest.isoformat()}, {days} days before this one"
    ]


def fix(view: ClaimView) -> Fix | None:
    """Sent as a corrected claim instead of a new original."""
    if view.values["dup_prior_submissions"] == 0 or view.claim.frequency_code == "7":
        return None
    return (
        "sent as a corrected claim (frequency code 7) instead of a new original",
        view.claim.model_copy(update={"frequency_code": "7"}),
    )


RULE = Rule(
    category="duplicate",
    title="Looks like a duplicate of a claim already submitted",
    action="Do not resubmit what is in process; send a corrected claim (frequency 7) "
    "if this one changes it.",
    carcs=carcs("18"),
    evidence=evidence,
    fix=fix,
)
