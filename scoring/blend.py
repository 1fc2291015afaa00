"""Trees and the linear model averaged in log-odds, for small histories.

On a history of a few thousand claims each model is wrong in its own way: the trees see
interactions but few claims per leaf, the linear model sees every claim but no interaction.
Their average in log-odds ranked a small world's later claims better than either alone, and
better than picking one of them on a small validation window, which picks the wrong one often
(``benchmarks.generalization``; the figures are in the model's docstring, ``training.model``).

The average of exact contributions is the exact contribution of the average: each feature's
blended contribution is the weighted sum of its TreeSHAP value and its linear term, and the
blended base value the weighted sum of the two base values, so contributions plus base still
equal the log-odds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import lightgbm as lgb
import numpy as np

from scoring.linear import LinearModel


@dataclass(frozen=True)
class Blend:
    trees: lgb.Booster
    linear: LinearModel
    weight: float = 0.5  # of the trees; the linear model gets the rest

    def feature_name(self) -> list[str]:
        """The feature names, in order (as ``lightgbm.Booster.feature_name``)."""
        return self.linear.feature_name()

    def combine(self, trees: np.ndarray, linear: np.ndarray) -> np.ndarray:
        """The blend of the trees' and the linear model's margins (or contributions)."""
        return self.weight * trees + (1.0 - self.weight) * linear

    def save(self, path: Path) -> None:
        """The weight; the trees and the linear model are saved in their own files."""
        path.write_text(json.dumps({"weight": self.weight}))

    @staticmethod
    def weight_from(path: Path) -> float:
        return float(json.loads(path.read_text())["weight"])
