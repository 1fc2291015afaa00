"""Denial figures as small pure functions of the claim-outcome table (``tables.claim_outcomes``).

Rates count adjudicated claims only: a pending claim is neither paid nor denied. Dollars are
the billed charge of denied claims (what is at risk until reworked), not the paid amount.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.adjustment_codes import carc_description, rarc_description
from features.categories import CATEGORIES
from features.rules import RULES

CLEAN_CLAIM_GOAL = 0.95  # industry goal for the first-pass clean-claim rate
DENIAL_RATE_GOAL = (0.05, 0.10)  # a denial rate of 5-10% is the usual target band
ORIGINAL = "1"
# A month whose claims are more than this share still pending is incomplete: its rate would
# move as the outcomes come in, so it is listed but left out of the trend.
INCOMPLETE_PENDING = 0.10
# A provider, payer or code gets a denial rate only with at least this many adjudicated claims
# (one claim denied is not "100%"); below it the counts are shown without a rate.
MIN_ADJUDICATED = 20


def denial_rate_by(claims: pd.DataFrame, by: str | list[str]) -> pd.DataFrame:
    """Per group: submitted, adjudicated, pending and denied claims, denial rate and denied
    charge, sorted by denied charge (largest first)."""
    keys = [by] if isinstance(by, str) else list(by)
    grouped = claims.assign(
        _pending=~claims["adjudicated"], _charge=claims["total_charge"].where(claims["denied"], 0.0)
    ).groupby(keys, observed=True, dropna=False)
    frame = grouped.agg(
        submitted=("claim_id", "size"),
        adjudicated=("adjudicated", "sum"),
        pending=("_pending", "sum"),
        denied=("denied", "sum"),
        denied_charge=("_charge", "sum"),
    )
    frame["denial_rate"] = frame["denied"] / frame["adjudicated"].where(frame["adjudicated"] > 0)
    frame = frame.reset_index().sort_values(
        ["denied_charge", *keys], ascending=[False] + [True] * len(keys)
    )
    return frame.reset_index(drop=True)


def with_min_volume(frame: pd.DataFrame, minimum: int = MIN_ADJUDICATED) -> pd.DataFrame:
    """``denial_rate`` left empty where fewer than ``minimum`` claims were adjudicated;
    ``rated`` says which rows keep theirs."""
    rated = frame["adjudicated"] >= minimum
    return frame.assign(denial_rate=frame["denial_rate"].where(rated), rated=rated)


def monthly_denial_rate(claims: pd.DataFrame, date: str = "submission_date") -> pd.DataFrame:
    """Denial rate per calendar month of ``date`` (oldest first); recent months still have
    pending claims, counted in ``pending``; ``complete`` is false for a month with more than
    ``INCOMPLETE_PENDING`` of its claims pending (``pending_share``)."""
    month = claims[date].dt.to_period("M").dt.to_timestamp()
    frame = denial_rate_by(claims.assign(month=month), "month")
    frame["pending_share"] = frame["pending"] / frame["submitted"]
    frame["complete"] = frame["pending_share"] <= INCOMPLETE_PENDING
    return frame.sort_values("month").reset_index(drop=True)


def denials_by_category(claims: pd.DataFrame) -> pd.DataFrame:
    """Per denial category: denied claims, share of all denials, denied charge, and the
    category's denial rate over all adjudicated claims (category order of the contract)."""
    denied = claims[claims["denied"]]
    adjudicated = int(claims["adjudicated"].sum())
    counts = denied.groupby("denial_category", observed=True).agg(
        denied=("claim_id", "size"), denied_charge=("total_charge", "sum")
    )
    frame = counts.reindex(list(CATEGORIES), fill_value=0)
    frame.index.name = "category"
    frame = frame.reset_index()
    frame["share_of_denials"] = frame["denied"] / max(len(denied), 1)
    frame["rate"] = frame["denied"] / max(adjudicated, 1)
    frame["title"] = [RULES[c].title for c in frame["category"]]
    return frame


def _top_remark(remarks: pd.Series) -> str:
    codes = [code for listed in remarks.dropna() for code in listed]
    return str(pd.Series(codes).value_counts().index[0]) if codes else ""


def root_causes(claims: pd.DataFrame, top: int = 15) -> pd.DataFrame:
    """The most frequent (category, first denial CARC) pairs with counts and denied charge,
    the CARC's description and the remark code (RARC) most sent with it; a CLP02=4 denial
    without a listed CARC shows as CARC ``(status 4)``."""
    denied = claims[claims["denied"]].assign(
        carc=lambda f: f["denial_carc"].fillna("(status 4)").astype(str)
    )
    frame = (
        denied.groupby(["denial_category", "carc"], observed=True)
        .agg(denied=("claim_id", "size"), denied_charge=("total_charge", "sum"))
        .reset_index()
        .rename(columns={"denial_category": "category"})
    )
    frame["share_of_denials"] = frame["denied"] / max(len(denied), 1)
    frame["action"] = [RULES[c].action for c in frame["category"]]
    frame = frame.sort_values(["denied", "denied_charge"], ascending=False).head(top)
    remarks = denied.groupby(["denial_category", "carc"], observed=True)["remark_codes"]
    top_remark = remarks.agg(_top_remark)
    frame["rarc"] = [
        top_remark.get((c, k), "") for c, k in zip(frame["category"], frame["carc"], strict=True)
    ]
    frame["carc_description"] = frame["carc"].map(carc_description)
    frame["rarc_description"] = frame["rarc"].map(rarc_description)
    return frame.reset_index(drop=True)


@dataclass(frozen=True)
class LagSummary:
    """Days from submission to adjudication over adjudicated claims."""

    n: int
    median: float
    p90: float
    mean: float
    days: np.ndarray  # one value per adjudicated claim, for the distribution


def adjudication_days(claims: pd.DataFrame) -> LagSummary:
    done = claims[claims["adjudicated"]]
    days = (done["adjudication_date"] - done["submission_date"]).dt.days.to_numpy(float)
    if not len(days):
        return LagSummary(0, float("nan"), float("nan"), float("nan"), days)
    return LagSummary(
        n=len(days),
        median=float(np.median(days)),
        p90=float(np.quantile(days, 0.9)),
        mean=float(days.mean()),
        days=days,
    )


@dataclass(frozen=True)
class FirstPass:
    """First-pass figures against the industry goals."""

    adjudicated: int
    denied: int
    denial_rate: float  # denied / adjudicated, every claim
    originals: int  # adjudicated original claims (frequency code 1)
    clean_claim_rate: float  # originals paid on first pass / adjudicated originals
    clean_claim_goal: float = CLEAN_CLAIM_GOAL
    denial_rate_goal: tuple[float, float] = DENIAL_RATE_GOAL

    @property
    def meets_clean_claim_goal(self) -> bool:
        return self.clean_claim_rate >= self.clean_claim_goal

    @property
    def meets_denial_rate_goal(self) -> bool:
        return self.denial_rate <= self.denial_rate_goal[1]


def first_pass(claims: pd.DataFrame) -> FirstPass:
    done = claims[claims["adjudicated"]]
    originals = done[done["frequency_code"] == ORIGINAL]
    return FirstPass(
        adjudicated=len(done),
        denied=int(done["denied"].sum()),
        denial_rate=float(done["denied"].mean()) if len(done) else float("nan"),
        originals=len(originals),
        clean_claim_rate=float(1 - originals["denied"].mean()) if len(originals) else float("nan"),
    )
