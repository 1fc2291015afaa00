"""The self-describing model artifact, and what both evaluation and serving do with it.

One folder holds the booster, the fitted feature state (rate tables, learned limits, ordered
feature names, feature-set version), the calibrator, the risk bands, the category table and
the training metadata. Serving needs nothing else. Reasons are LightGBM's own exact TreeSHAP
(``pred_contrib``, log-odds; the last column is the base value), summed per category.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from features.batch import ClaimBatch, batch_from_requests
from features.contract import ClaimIn
from features.facts import build_facts
from features.pipeline import FeatureState, feature_matrix, transform
from features.rules import RULES
from scoring.blend import Blend
from scoring.calibration import Calibrator, RiskBands
from scoring.category_map import CategoryMap
from scoring.linear import LinearModel
from scoring.treeshap import contributions as tree_contributions

(
    BOOSTER_FILE,
    LINEAR_FILE,
    BLEND_FILE,
    CATEGORY_MAP_FILE,
    STATE_FILE,
    CALIBRATION_FILE,
    META_FILE,
) = (
    "booster.txt",
    "linear.json",
    "blend.json",
    "category_map.json",
    "feature_state.pkl",
    "calibration.pkl",
    "meta.json",
)
# Trees; for a small history a linear model, or the two blended.
Estimator = lgb.Booster | LinearModel | Blend


def _threads(x: np.ndarray) -> int:
    """One thread for a few rows: waking OpenMP threads costs more than the rows themselves
    (milliseconds when the other core is busy); all cores for a batch."""
    return 1 if len(x) < 256 else 0


def estimator_margin(estimator: Estimator, x: np.ndarray) -> np.ndarray:
    """Raw log-odds."""
    if isinstance(estimator, Blend):
        return estimator.combine(
            estimator_margin(estimator.trees, x), estimator_margin(estimator.linear, x)
        )
    if isinstance(estimator, LinearModel):
        return estimator.margin(x)
    return np.asarray(estimator.predict(x, raw_score=True, num_threads=_threads(x)), dtype=float)


def estimator_contributions(estimator: Estimator, x: np.ndarray) -> np.ndarray:
    """Exact contributions in log-odds (TreeSHAP for trees, weight times centred value for the
    linear model, their weighted sum for a blend): one column per feature, then the base."""
    if isinstance(estimator, Blend):
        return estimator.combine(
            estimator_contributions(estimator.trees, x),
            estimator_contributions(estimator.linear, x),
        )
    if isinstance(estimator, LinearModel):
        return estimator.contributions(x)
    return tree_contributions(estimator, x, _threads(x))


@dataclass
class ClaimRiskModel:
    booster: Estimator
    state: FeatureState
    calibrator: Calibrator
    bands: RiskBands
    meta: dict[str, Any] = field(default_factory=dict)
    category_map: CategoryMap | None = None  # None: every feature in its rule's category

    @property
    def feature_names(self) -> list[str]:
        return list(self.state.feature_names)

    @property
    def categories(self) -> CategoryMap:
        """Which category each feature's SHAP is summed into, per payer."""
        return self.category_map or CategoryMap.declared(self.state.categories)

    def features(self, batch: ClaimBatch) -> pd.DataFrame:
        return transform(batch, self.state)

    def request_matrix(self, claims: Sequence[ClaimIn]) -> np.ndarray:
        """The feature matrix of claim requests, in the model's feature order."""
        return feature_matrix(build_facts(batch_from_requests(claims)), self.state)

    @property
    def kind(self) -> str:
        if isinstance(self.booster, Blend):
            return "blend"
        return "linear" if isinstance(self.booster, LinearModel) else "lightgbm"

    def margin(self, x: np.ndarray) -> np.ndarray:
        return estimator_margin(self.booster, x)

    def probability(self, x: np.ndarray) -> np.ndarray:
        """Calibrated denial probability."""
        return self.calibrated(self.margin(x))

    def calibrated(self, margin: np.ndarray) -> np.ndarray:
        """Calibrated denial probability from the raw log-odds (or the sum of contributions)."""
        return self.calibrator(1.0 / (1.0 + np.exp(-margin)))

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """Exact contributions in log-odds: one column per feature, then the base value."""
        return estimator_contributions(self.booster, x)

    def prepare(self) -> ClaimRiskModel:
        """Explain a claim now, so that the first claim a server explains does not wait while
        TreeSHAP's tables are made (and their code compiled or loaded)."""
        self.contributions(np.zeros((1, len(self.feature_names))))
        return self

    def category_contributions(
        self, contributions: np.ndarray, x: np.ndarray, payers: np.ndarray
    ) -> np.ndarray:
        """SHAP summed per category (columns in ``CATEGORIES`` order), each claim by the
        category map of its payer and its identity features' levels (``x``)."""
        return self.categories.by_category(contributions, x, payers)

    def save(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        _save_estimator(self.booster, folder)
        self.state.save(folder / STATE_FILE)
        (folder / CATEGORY_MAP_FILE).write_text(self.categories.to_json())
        (folder / CALIBRATION_FILE).write_bytes(pickle.dumps((self.calibrator, self.bands)))
        meta = {
            **self.meta,
            "feature_set": self.state.feature_set,
            "feature_names": self.feature_names,
            "feature_categories": self.state.categories,
            "categories": {name: rule.describe() for name, rule in RULES.items()},
            "estimator": self.kind,
            "calibration": self.calibrator.method,
            "bands": {"medium": self.bands.medium, "high": self.bands.high},
        }
        (folder / META_FILE).write_text(json.dumps(meta, indent=2, default=str))
        return folder

    @staticmethod
    def load(folder: Path) -> ClaimRiskModel:
        folder = Path(folder)
        blend, linear = (folder / BLEND_FILE).is_file(), (folder / LINEAR_FILE).is_file()
        estimator_files = (
            [BOOSTER_FILE, LINEAR_FILE] if blend else [LINEAR_FILE if linear else BOOSTER_FILE]
        )
        missing = [
            name
            for name in (*estimator_files, STATE_FILE, CALIBRATION_FILE, META_FILE)
            if not (folder / name).is_file()
        ]
        if missing:
            raise FileNotFoundError(f"{folder}: not a claimrisk model (missing {missing})")
        booster: Estimator
        if blend:
            booster = Blend(
                lgb.Booster(model_file=str(folder / BOOSTER_FILE)),
                LinearModel.load(folder / LINEAR_FILE),
                Blend.weight_from(folder / BLEND_FILE),
            )
        elif linear:
            booster = LinearModel.load(folder / LINEAR_FILE)
        else:
            booster = lgb.Booster(model_file=str(folder / BOOSTER_FILE))
        state = FeatureState.load(folder / STATE_FILE)
        calibrator, bands = pickle.loads((folder / CALIBRATION_FILE).read_bytes())
        meta = json.loads((folder / META_FILE).read_text())
        if booster.feature_name() != list(state.feature_names):
            raise ValueError(f"{folder}: model and feature state disagree on features")
        mapped = folder / CATEGORY_MAP_FILE
        category_map = CategoryMap.from_json(mapped.read_text()) if mapped.is_file() else None
        return ClaimRiskModel(booster, state, calibrator, bands, meta, category_map)


def _save_estimator(estimator: Estimator, folder: Path) -> None:
    if isinstance(estimator, Blend):
        _save_estimator(estimator.trees, folder)
        _save_estimator(estimator.linear, folder)
        estimator.save(folder / BLEND_FILE)
    elif isinstance(estimator, LinearModel):
        estimator.save(folder / LINEAR_FILE)
    else:
        estimator.save_model(str(folder / BOOSTER_FILE))
