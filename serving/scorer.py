"""Score claim requests: calibrated probability, risk band, reasons with evidence and what-if.

Reasons work like adverse-action codes in credit scoring: exact TreeSHAP in log-odds from
LightGBM's ``pred_contrib``, summed over the features of each category; only categories that
push toward denial, above a floor, at most four, strongest first (ties by category order).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from features.batch import batch_from_requests
from features.categories import CATEGORIES, CATEGORY_TABLE, Category
from features.contract import ClaimIn
from features.definitions import REGISTRY
from features.facts import build_facts
from features.pipeline import feature_matrix
from serving.evidence import EVIDENCE, ClaimView, ScoredBatch
from serving.schemas import ModelInfo, ModelRef, Reason, ScoreOut, WhatIf
from serving.whatif import FIXES
from training.artifact import ClaimRiskModel

REASON_FLOOR = 0.15  # log-odds: below this a category is not worth a biller's time
MAX_REASONS = 4
NOT_CHECKED: dict[str, Category] = {
    "eligibility": "eligibility",
    "authorizations": "authorization",
    "provider_enrollment": "credentialing",
}
EXPLAIN_FROM = {"all": 0, "medium": 1, "high": 2}
BAND_RANK = {"low": 0, "medium": 1, "high": 2}


def top_reasons(category_contributions: np.ndarray) -> list[list[tuple[Category, float]]]:
    """Per row: (category, contribution) above the floor, strongest first, at most four."""
    result = []
    for row in category_contributions:
        order = sorted(
            (i for i in range(len(CATEGORIES)) if row[i] >= REASON_FLOOR),
            key=lambda i: (-row[i], i),
        )[:MAX_REASONS]
        result.append([(CATEGORIES[i], float(row[i])) for i in order])
    return result


@dataclass
class Scorer:
    """A loaded model and what the API says about it."""

    model: ClaimRiskModel
    version: str
    source: str
    alias: str | None = None
    folder: Path | None = None  # the model's files, for processes that load it themselves
    loaded_at: str = field(
        default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    )

    @property
    def ref(self) -> ModelRef:
        meta = self.model.meta
        return ModelRef(
            name=meta.get("name", "claimrisk"),
            version=self.version,
            training_window=meta.get("training_window", {}),
        )

    def info(self) -> ModelInfo:
        meta = self.model.meta
        return ModelInfo(
            name=self.ref.name,
            version=self.version,
            alias=self.alias,
            source=self.source,
            training_window=self.ref.training_window,
            feature_set=self.model.state.feature_set,
            metrics={k: float(v) for k, v in meta.get("metrics", {}).items()},
            bands={"medium": self.model.bands.medium, "high": self.model.bands.high},
            loaded_at=self.loaded_at,
        )

    def probabilities(self, claims: Sequence[ClaimIn]) -> np.ndarray:
        facts = build_facts(batch_from_requests(claims))
        return self.model.probability(feature_matrix(facts, self.model.state))

    def score(self, claims: Sequence[ClaimIn], explain: str = "all") -> list[ScoreOut]:
        """Score claims; reasons for those at or above the ``explain`` band (or none)."""
        return self.score_with_features(claims, explain)[0]

    def score_with_features(
        self, claims: Sequence[ClaimIn], explain: str = "all"
    ) -> tuple[list[ScoreOut], np.ndarray]:
        """``score``, and the feature matrix it scored (for the prediction store)."""
        model = self.model
        if not claims:  # an 837P whose every claim has a problem: nothing to score
            return [], np.empty((0, len(model.feature_names)))
        facts = build_facts(batch_from_requests(claims))
        x = feature_matrix(facts, model.state)
        shap_values = model.contributions(x) if explain == "all" else None
        # The contributions sum to the raw log-odds: no second pass through the trees.
        margin = model.margin(x) if shap_values is None else shap_values.sum(axis=1)
        probability = model.calibrated(margin)
        bands = model.bands.band(probability)
        explained = np.zeros(len(claims), dtype=bool)
        if explain in EXPLAIN_FROM:
            floor = EXPLAIN_FROM[explain]
            explained = np.array([BAND_RANK[b] >= floor for b in bands], dtype=bool)
        rows = np.flatnonzero(explained)
        reasons_of: dict[int, list[tuple[Category, float]]] = {}
        contributions: dict[int, np.ndarray] = {}
        if len(rows):
            if shap_values is None:
                shap_values = model.contributions(x[rows])
            by_category = model.category_contributions(shap_values)
            reasons_of = dict(zip(rows.tolist(), top_reasons(by_category), strict=True))
            contributions = dict(zip(rows.tolist(), shap_values, strict=True))
        names = model.feature_names
        batch = ScoredBatch(facts, model.state.fitted)
        views = {
            row: ClaimView(claims[row], batch, row, dict(zip(names, x[row].tolist(), strict=True)))
            for row in reasons_of
        }
        what_if = self._what_if(views, reasons_of)
        ref = self.ref
        results = []
        for row, claim in enumerate(claims):
            reasons = None
            if row in views:
                reasons = [
                    Reason(
                        category=category,
                        title=CATEGORY_TABLE[category].title,
                        contribution=round(contribution, 4),
                        evidence=EVIDENCE[category](views[row])
                        or [self._strongest_feature(category, views[row], contributions[row])],
                        action=CATEGORY_TABLE[category].action,
                        what_if=what_if.get((row, category)),
                    )
                    for category, contribution in reasons_of[row]
                ]
            results.append(
                ScoreOut(
                    claim_id=claim.claim_id,
                    denial_probability=round(float(probability[row]), 4),
                    risk_band=bands[row],
                    expected_denied_dollars=round(float(probability[row] * claim.total_charge), 2),
                    reasons=reasons,
                    not_checked=[
                        category
                        for context, category in NOT_CHECKED.items()
                        if getattr(claim, context) is None
                    ],
                    model=ref,
                )
            )
        return results, x

    def _strongest_feature(self, category: Category, view: ClaimView, shap: np.ndarray) -> str:
        """Evidence of last resort: the category's feature that pushed hardest, in words."""
        state = self.model.state
        names = [n for n in state.feature_names if state.categories[n] == category]
        index = {n: i for i, n in enumerate(state.feature_names)}
        name = max(names, key=lambda n: (shap[index[n]], n))
        feature = REGISTRY.features[name]
        value = view.values[name]
        shown = f"{value:.0%}" if feature.kind == "rate" else f"{value:g}"
        return f"{feature.description}: {shown}"

    def _what_if(
        self, views: dict[int, ClaimView], reasons_of: dict[int, list[tuple[Category, float]]]
    ) -> dict[tuple[int, Category], WhatIf]:
        """Re-score every fixable reason's fixed claim, all in one batch."""
        keys: list[tuple[int, Category]] = []
        fixes: list[str] = []
        fixed: list[ClaimIn] = []
        for row, reasons in reasons_of.items():
            for category, _ in reasons:
                fix = FIXES[category](views[row]) if category in FIXES else None
                if fix is not None:
                    keys.append((row, category))
                    fixes.append(fix[0])
                    fixed.append(fix[1])
        if not fixed:
            return {}
        probability = self.probabilities(fixed)
        return {
            key: WhatIf(fix=fix, denial_probability=round(float(p), 4))
            for key, fix, p in zip(keys, fixes, probability, strict=True)
        }
