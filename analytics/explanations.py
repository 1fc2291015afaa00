"""What a model says about recent claims, summed per denial category: the reasons billers see
(``scoring.reasons``), counted per category.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.tables import claim_outcomes
from features.batch import batch_from_history
from features.categories import CATEGORIES
from features.history import History
from scoring.artifact import ClaimRiskModel
from scoring.reasons import reason_mask, top_reason


def recent_positions(history: History, days: int, max_claims: int, seed: int = 0) -> np.ndarray:
    """Positions (in ``history.claims``) of claims submitted in the last ``days`` days, a
    seeded sample of at most ``max_claims``, in order."""
    dates = history.claims["submission_date"]
    recent = np.flatnonzero((dates > dates.max() - pd.Timedelta(days=days)).to_numpy())
    if len(recent) > max_claims:
        recent = np.sort(np.random.default_rng(seed).choice(recent, max_claims, replace=False))
    return recent


def explanation_summary(
    history: History, model: ClaimRiskModel, days: int = 28, max_claims: int = 5000
) -> pd.DataFrame:
    """Per category, over recent claims: how often it is a reason and the top reason, its mean
    contribution where it is one, and, among those claims already adjudicated, how many were
    denied in that category."""
    positions = recent_positions(history, days, max_claims)
    columns = [
        "category",
        "claims",
        "reason_claims",
        "reason_share",
        "top_reason_claims",
        "mean_contribution",
        "mean_probability",
        "adjudicated",
        "denied_in_category",
    ]
    if not len(positions):
        return pd.DataFrame(columns=columns)
    batch = batch_from_history(history).take(positions)
    x = model.features(batch).to_numpy(float)
    probability = model.probability(x)
    payers = batch.claims["payer_id"]
    by_category = model.category_contributions(model.contributions(x), x, payers)
    is_reason = reason_mask(by_category)
    top = top_reason(by_category)
    outcome = claim_outcomes(history).iloc[positions]
    adjudicated = outcome["adjudicated"].to_numpy()
    category = outcome["denial_category"].to_numpy(dtype=object, na_value=None)
    rows = []
    for j, name in enumerate(CATEGORIES):
        mine = is_reason[:, j]
        rows.append(
            {
                "category": name,
                "claims": len(positions),
                "reason_claims": int(mine.sum()),
                "reason_share": float(mine.mean()),
                "top_reason_claims": int((top == name).sum()),
                "mean_contribution": float(by_category[mine, j].mean()) if mine.any() else 0.0,
                "mean_probability": float(probability[mine].mean()) if mine.any() else np.nan,
                "adjudicated": int((mine & adjudicated).sum()),
                "denied_in_category": int((mine & adjudicated & (category == name)).sum()),
            }
        )
    frame = pd.DataFrame(rows, columns=columns)
    frame.attrs["probability_mean"] = float(probability.mean())
    frame.attrs["days"] = days
    return frame.sort_values("reason_claims", ascending=False).reset_index(drop=True)
