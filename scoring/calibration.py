"""What turns the booster's raw score into what a biller reads: the calibrated probability
(isotonic or Platt, fitted on the validation window) and the risk bands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_recall_curve


@dataclass
class Calibrator:
    """Maps the model's raw probability to a calibrated one (isotonic or Platt)."""

    method: Literal["isotonic", "platt", "none"]
    isotonic: IsotonicRegression | None = None
    platt: LogisticRegression | None = None

    @staticmethod
    def fit(raw: np.ndarray, y: np.ndarray, method: Literal["isotonic", "platt"]) -> Calibrator:
        if method == "isotonic":
            iso = IsotonicRegression(y_min=1e-4, y_max=1 - 1e-4, out_of_bounds="clip")
            return Calibrator("isotonic", isotonic=iso.fit(raw, y))
        platt = LogisticRegression(C=1e6).fit(logit(raw)[:, None], y)
        return Calibrator("platt", platt=platt)

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        """The fitted maps applied in numpy (sklearn's own ``predict`` costs ~0.2 ms a call)."""
        if self.isotonic is not None:
            iso = self.isotonic
            return np.interp(raw, iso.X_thresholds_, iso.y_thresholds_)
        if self.platt is not None:
            slope, intercept = self.platt.coef_[0, 0], self.platt.intercept_[0]
            return 1.0 / (1.0 + np.exp(-(slope * logit(raw) + intercept)))
        return raw


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


BAND_PRECISION = {"high": 0.70, "medium": 0.35}


@dataclass(frozen=True)
class RiskBands:
    """Probability thresholds of the medium and high bands, set from validation precision."""

    medium: float
    high: float
    precision: dict[str, float]

    def band(self, probability: np.ndarray) -> np.ndarray:
        return np.where(
            probability >= self.high, "high", np.where(probability >= self.medium, "medium", "low")
        )

    @staticmethod
    def fit(probability: np.ndarray, y: np.ndarray) -> RiskBands:
        """The lowest thresholds above which validation precision stays at the band's target."""
        precision, _, thresholds = precision_recall_curve(y, probability)
        staying = np.minimum.accumulate(precision[:-1][::-1])[::-1]
        found = {}
        for band, target in BAND_PRECISION.items():
            reaching = np.flatnonzero(staying >= target)
            found[band] = float(thresholds[reaching[0]]) if len(reaching) else 1.0
        medium = min(found["medium"], found["high"])
        return RiskBands(medium=medium, high=found["high"], precision=dict(BAND_PRECISION))
