"""Input drift: population stability index of the model's features, training vs live.

The reference keeps, per feature, decile edges of the training-time values and the share of
values in each bin (plus a bin for unknown values), so it is small enough to store as JSON.
PSI = sum over bins of (live share - reference share) * ln(live / reference), shares floored
at 1e-4; above 0.2 the feature has shifted enough to look at.

Only the claim-fact features are compared by default: the learned rate features (registry kind
``rate``) read the fitted as-of state, which moves through the training window but is frozen
for live requests, so their PSI measures that freeze (and the payer mix), not the inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from features.batch import batch_from_history
from features.history import History
from features.rules import REGISTRY
from scoring.artifact import ClaimRiskModel

PSI_ALERT = 0.2
FLOOR = 1e-4
QUANTILES = np.linspace(0.1, 0.9, 9)


def main_features(names: list[str]) -> list[str]:
    """The features compared for drift: every registered feature except learned rates."""
    return [n for n in names if n in REGISTRY.features and REGISTRY.features[n].kind != "rate"]


def bin_edges(values: np.ndarray) -> np.ndarray:
    """Distinct decile edges of the known values (right-closed bins; empty if none known)."""
    known = values[np.isfinite(values)]
    return np.unique(np.quantile(known, QUANTILES)) if len(known) else np.array([])


def bin_shares(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Share of values per bin: ``len(edges) + 1`` value bins, then the unknown bin."""
    known = np.isfinite(values)
    index = np.where(known, np.searchsorted(edges, values, side="left"), len(edges) + 1)
    counts = np.bincount(index, minlength=len(edges) + 2).astype(float)
    return counts / max(len(values), 1)


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    e = np.maximum(expected, FLOOR)
    a = np.maximum(actual, FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


@dataclass(frozen=True)
class FeatureReference:
    """Training-time bins of each feature."""

    edges: dict[str, np.ndarray]
    shares: dict[str, np.ndarray]
    n: int
    source: str = ""

    @staticmethod
    def from_frame(frame: pd.DataFrame, source: str = "") -> FeatureReference:
        edges, shares = {}, {}
        for name in frame.columns:
            values = frame[name].to_numpy(float)
            edges[name] = bin_edges(values)
            shares[name] = bin_shares(values, edges[name])
        return FeatureReference(edges, shares, len(frame), source)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "source": self.source,
            "features": {
                name: {"edges": self.edges[name].tolist(), "shares": self.shares[name].tolist()}
                for name in self.edges
            },
        }

    @staticmethod
    def from_dict(data: dict[str, Any]) -> FeatureReference:
        features = data["features"]
        return FeatureReference(
            edges={k: np.asarray(v["edges"], float) for k, v in features.items()},
            shares={k: np.asarray(v["shares"], float) for k, v in features.items()},
            n=int(data["n"]),
            source=str(data.get("source", "")),
        )


def reference_from_history(
    history: History,
    model: ClaimRiskModel,
    days: int = 180,
    max_claims: int = 20_000,
    seed: int = 0,
) -> FeatureReference:
    """Reference from the history's claims submitted in the last ``days`` days of the model's
    training window (``meta["training_window"]``; the whole history without one), a seeded
    sample of at most ``max_claims``, features computed by the model itself."""
    dates = history.claims["submission_date"]
    window = model.meta.get("training_window") or {}
    end = pd.Timestamp(window.get("to", dates.max()))
    start = max(pd.Timestamp(window.get("from", dates.min())), end - pd.Timedelta(days=days))
    positions = np.flatnonzero(((dates >= start) & (dates <= end)).to_numpy())
    if not len(positions):
        raise ValueError(
            f"no claims of the history were submitted in the model's training window "
            f"{start.date()} to {end.date()}; give a reference frame instead"
        )
    if len(positions) > max_claims:
        rng = np.random.default_rng(seed)
        positions = np.sort(rng.choice(positions, max_claims, replace=False))
    frame = model.features(batch_from_history(history).take(positions))
    frame = frame.loc[:, main_features(list(frame.columns))]
    return FeatureReference.from_frame(
        frame, source=f"{len(positions):,} claims submitted {start.date()} to {end.date()}"
    )


def drift_table(reference: FeatureReference, live: pd.DataFrame) -> pd.DataFrame:
    """PSI per feature known to both, largest first, with ``flagged`` above ``PSI_ALERT``."""
    rows = []
    for name in reference.edges:
        if name not in live.columns:
            continue
        values = live[name].to_numpy(float)
        shares = bin_shares(values, reference.edges[name])
        rows.append(
            {
                "feature": name,
                "psi": psi(reference.shares[name], shares),
                "unknown_reference": float(reference.shares[name][-1]),
                "unknown_live": float(shares[-1]),
            }
        )
    frame = pd.DataFrame(rows, columns=["feature", "psi", "unknown_reference", "unknown_live"])
    frame["flagged"] = frame["psi"] > PSI_ALERT
    return frame.sort_values("psi", ascending=False).reset_index(drop=True)
