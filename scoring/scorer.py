"""Score claim requests: calibrated probability, risk band, reasons (``scoring.reasons``) with
the evidence and what-if their rule (``features.rules``) declares."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from importlib import resources
from pathlib import Path

import numpy as np

from features.batch import batch_from_requests
from features.categories import Category
from features.contract import ClaimIn, ClaimProblem
from features.facts import Facts, build_facts
from features.pipeline import feature_matrix, remember_submissions
from features.reading import Item
from features.rules import NOT_CHECKED, REGISTRY, RULES, ClaimView, ScoredBatch
from features.rules.duplicate import remember_earlier
from scoring.artifact import ClaimRiskModel
from scoring.reasons import top_reasons
from scoring.schemas import ModelInfo, ModelRef, Reason, ScoreOut, WhatIf

EXPLAIN_FROM = {"all": 0, "medium": 1, "high": 2}
# A claim every model must score before it serves (and that examples are drawn from).
SMOKE_CLAIM = ClaimIn.model_validate_json(
    resources.files("scoring").joinpath("smoke_claim.json").read_text()
)
SPEAKS = 0.05  # log-odds a rule's features must add to a reason for its evidence to be shown
BAND_RANK = {"low": 0, "medium": 1, "high": 2}
# Finds claims scored before the given ones: their duplicate keys and submission days
# (``features.rules.duplicate``), counted as earlier submissions.
Earlier = Callable[[Facts], tuple[np.ndarray, np.ndarray]]


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

    @cached_property
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
        return self.model.probability(self.model.request_matrix(claims))

    def score(self, claims: Sequence[ClaimIn], explain: str = "all") -> list[ScoreOut]:
        """Score claims; reasons for those at or above the ``explain`` band (or none)."""
        return self.score_with_features(claims, explain)[0]

    def remembering(self, claims: Sequence[ClaimIn]) -> Scorer:
        """This scorer, with ``claims`` counted as submitted: the claims of a file scored
        in chunks see the earlier chunks' claims as they see each other's."""
        return self._remembering(build_facts(batch_from_requests(claims)))

    def _remembering(self, facts: Facts) -> Scorer:
        state = remember_submissions(self.model.state, facts)
        return replace(self, model=replace(self.model, state=state))

    def score_with_features(
        self,
        claims: Sequence[ClaimIn],
        explain: str = "all",
        together: bool = True,
        earlier: Earlier | None = None,
    ) -> tuple[list[ScoreOut], np.ndarray]:
        """``score``, and the feature matrix it scored (for the prediction store).

        ``together``: the claims were sent together (a batch, a file), so each sees the
        earlier-dated ones among them as earlier submissions; otherwise (independent requests
        scored in one pass) each is scored as if alone. ``earlier``: claims scored before
        (by the API), counted as earlier submissions too."""
        if not claims:  # an 837P whose every claim has a problem: nothing to score
            return [], np.empty((0, len(self.model.feature_names)))
        facts = build_facts(batch_from_requests(claims))
        scorer = self._remembering(facts) if together and len(claims) > 1 else self
        if earlier is not None:
            keys, days = earlier(facts)
            if len(keys):
                state = scorer.model.state
                state = replace(state, fitted=remember_earlier(state.fitted, keys, days))
                scorer = replace(scorer, model=replace(scorer.model, state=state))
        return scorer._score(claims, facts, explain)

    def _score(
        self, claims: Sequence[ClaimIn], facts: Facts, explain: str
    ) -> tuple[list[ScoreOut], np.ndarray]:
        model = self.model
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
        contributions: dict[int, list[float]] = {}
        if len(rows):
            if shap_values is None:
                shap_values = model.contributions(x[rows])
            payers = np.array([claims[row].payer_id for row in rows.tolist()], dtype=object)
            by_category = model.category_contributions(shap_values, x[rows], payers)
            reasons_of = dict(zip(rows.tolist(), top_reasons(by_category), strict=True))
            contributions = dict(zip(rows.tolist(), shap_values.tolist(), strict=True))
        names = model.feature_names
        batch = ScoredBatch(facts, model.state.fitted)
        views = {
            row: ClaimView(claims[row], batch, row, dict(zip(names, x[row].tolist(), strict=True)))
            for row in reasons_of
        }
        speakers = {
            (row, category): self._speakers(category, claims[row].payer_id, contributions[row])
            for row, reasons in reasons_of.items()
            for category, _ in reasons
        }
        what_if = self._what_if(views, speakers)
        ref = self.ref
        results = []
        for row, claim in enumerate(claims):
            reasons = None
            if row in views:
                reasons = [
                    Reason(
                        category=category,
                        title=RULES[category].title,
                        contribution=round(contribution, 4),
                        evidence=[
                            note
                            for rule in speakers[row, category]
                            for note in RULES[rule].evidence(views[row])
                        ]
                        or [self._strongest_feature(category, views[row], contributions[row])],
                        action=RULES[category].action,
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

    def _speakers(self, category: Category, payer: str, shap: list[float]) -> list[Category]:
        """The rules that speak for a reason: those whose features the payer's category map
        sums into ``category`` and that pushed toward denial by at least ``SPEAKS``, strongest
        first, at most two; the category's own rule when none did. Usually that is the
        category's own rule; where a payer files a problem under another category (a diagnosis
        that does not support the procedure, denied as a coding error), it is the rule that
        found the problem, so the evidence and the fix are that rule's."""
        names, rules = self.model.feature_names, self.model.state.categories
        pushed: dict[Category, float] = {}
        for i in self._mapped(category, payer):
            if shap[i] > 0:
                rule = rules[names[i]]
                pushed[rule] = pushed.get(rule, 0.0) + shap[i]
        strong = sorted((r for r, v in pushed.items() if v >= SPEAKS), key=lambda r: -pushed[r])
        return strong[:2] or [category]

    def _mapped(self, category: Category, payer: str) -> list[int]:
        """Positions of the features the payer's category map sums into ``category``."""
        return self.model.categories.features_in(category, payer)

    def _strongest_feature(self, category: Category, view: ClaimView, shap: list[float]) -> str:
        """Evidence of last resort: the reason's feature that pushed hardest, in words; where
        the payer's map sums no feature into the category (its weight came from identity
        features), the category's own rule's feature."""
        names, rules = self.model.feature_names, self.model.state.categories
        features = self._mapped(category, view.claim.payer_id) or [
            i for i, name in enumerate(names) if rules[name] == category
        ]
        best = max(features, key=lambda i: (shap[i], names[i]))
        name = names[best]
        feature = REGISTRY.features[name]
        value = view.values[name]
        shown = f"{value:.0%}" if feature.kind == "rate" else f"{value:g}"
        return f"{feature.description}: {shown}"

    def _what_if(
        self, views: dict[int, ClaimView], speakers: dict[tuple[int, Category], list[Category]]
    ) -> dict[tuple[int, Category], WhatIf]:
        """Re-score every fixable reason's fixed claim, all in one batch: the fix of the first
        rule speaking for the reason that has one."""
        keys: list[tuple[int, Category]] = []
        fixes: list[str] = []
        fixed: list[ClaimIn] = []
        for (row, category), rules in speakers.items():
            for rule in rules:
                rule_fix = RULES[rule].fix
                fix = rule_fix(views[row]) if rule_fix is not None else None
                if fix is not None:
                    keys.append((row, category))
                    fixes.append(fix[0])
                    fixed.append(fix[1])
                    break
        if not fixed:
            return {}
        probability = self.probabilities(fixed)
        return {
            key: WhatIf(fix=fix, denial_probability=round(float(p), 4))
            for key, fix, p in zip(keys, fixes, probability, strict=True)
        }


def score_in_place(
    scorer: Scorer, items: Sequence[Item], explain: str = "all", earlier: Earlier | None = None
) -> tuple[list[ScoreOut | ClaimProblem], list[ScoreOut], np.ndarray]:
    """Every readable claim scored; the answers in input order, the scores alone, and the
    feature matrix of the scored claims (for the prediction store)."""
    claims = [item for item in items if isinstance(item, ClaimIn)]
    scored, features = scorer.score_with_features(claims, explain=explain, earlier=earlier)
    results = iter(scored)
    answers = [next(results) if isinstance(item, ClaimIn) else item for item in items]
    return answers, scored, features
