"""Live accuracy: recorded predictions joined with the outcomes ingested since, and input drift.

Per model version and month of scoring: precision and recall at the medium+ and high bands,
calibration (mean predicted vs observed denial rate, ECE over 10 equal-count bins), and, for
denied claims that were explained, whether the top reason named the outcome's denial
category. A claim scored more than once by a version counts with its last score. Claims still
pending count in ``pending`` and in nothing else.

Drift compares the recorded feature vectors of the last ``drift_days`` days of scoring with
the training-time reference of the model (``drift``), per model version, flagging PSI > 0.2.

Overrides (a biller disputing one reason of a score, kept in the store) are shown per
category with what the payer did since (``overrides``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Group
from rich.table import Table

from analytics.drift import (
    PSI_ALERT,
    FeatureReference,
    drift_table,
    reference_from_history,
)
from analytics.overrides import override_outcomes, overrides_table
from analytics.page import integer
from analytics.recorded import read_features, read_overrides, read_predictions
from analytics.tables import claim_outcomes
from features.history import History
from scoring.artifact import ClaimRiskModel
from training.metrics import expected_calibration_error

ECE_BINS = 10
FLAGGED_BANDS = {"medium": ("medium", "high"), "high": ("high",)}


def latest_per_claim(predictions: pd.DataFrame) -> pd.DataFrame:
    """The last recorded score of each claim per model version."""
    ordered = predictions.sort_values(["scored_at", "id"])
    return ordered.drop_duplicates(["model_version", "claim_id"], keep="last").reset_index(
        drop=True
    )


def join_outcomes(predictions: pd.DataFrame, history: History) -> pd.DataFrame:
    """Predictions with ``adjudicated``, ``denied`` and ``denial_category`` of their claim
    (not adjudicated when the claim has no outcome in the history, or is not in it)."""
    outcomes = claim_outcomes(history).loc[
        :, ["claim_id", "adjudicated", "denied", "denial_category"]
    ]
    joined = predictions.merge(outcomes, on="claim_id", how="left", validate="many_to_one")
    joined["adjudicated"] = joined["adjudicated"].fillna(False).astype(bool)
    joined["denied"] = joined["denied"].fillna(False).astype(bool)
    return joined


def band_metrics(denied: np.ndarray, band: np.ndarray) -> dict[str, float]:
    """Precision and recall of flagging the claims at or above each band."""
    out: dict[str, float] = {}
    for name, bands in FLAGGED_BANDS.items():
        flagged = np.isin(band, bands)
        out[f"precision_{name}"] = float(denied[flagged].mean()) if flagged.any() else np.nan
        out[f"recall_{name}"] = float(flagged[denied].mean()) if denied.any() else np.nan
        out[f"flagged_{name}"] = float(flagged.sum())
    return out


def top_reason(reasons: pd.Series) -> pd.Series:
    """The first (strongest) reason category; '' when explained without a reason, NA when
    not explained."""
    return reasons.str.split("|").str[0]


def reason_agreement(frame: pd.DataFrame) -> tuple[int, float]:
    """(explained denied claims, share whose top reason is their denial category)."""
    explained = frame[frame["denied"] & frame["reasons"].notna()]
    if explained.empty:
        return 0, np.nan
    hits = top_reason(explained["reasons"]) == explained["denial_category"].astype(str)
    return len(explained), float(hits.mean())


def performance_row(frame: pd.DataFrame) -> dict[str, float]:
    """Every figure of one group of predictions joined with outcomes."""
    done = frame[frame["adjudicated"]]
    y = done["denied"].to_numpy(bool)
    p = done["probability"].to_numpy(float)
    n_reason, agreement = reason_agreement(done)
    row: dict[str, float] = {
        "scored": float(len(frame)),
        "adjudicated": float(len(done)),
        "pending": float(len(frame) - len(done)),
        "denial_rate": float(y.mean()) if len(y) else np.nan,
        "mean_probability": float(p.mean()) if len(p) else np.nan,
        "ece": expected_calibration_error(y.astype(float), p, ECE_BINS) if len(y) else np.nan,
        **band_metrics(y, done["band"].to_numpy(object)),
        "explained_denied": float(n_reason),
        "reason_agreement": agreement,
    }
    return row


def performance(joined: pd.DataFrame) -> pd.DataFrame:
    """``performance_row`` per model version and month of scoring, then per version ('all')."""
    month = joined["scored_at"].dt.tz_convert("UTC").dt.strftime("%Y-%m")
    frame = joined.assign(month=month)
    rows = []
    for (version, month_), group in frame.groupby(["model_version", "month"], sort=True):
        rows.append({"model_version": version, "month": month_, **performance_row(group)})
    for version, group in frame.groupby("model_version", sort=True):
        if group["month"].nunique() > 1:
            rows.append({"model_version": version, "month": "all", **performance_row(group)})
    return pd.DataFrame(rows)


def live_drift(
    store_path: Path,
    predictions: pd.DataFrame,
    reference: FeatureReference,
    days: int,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """PSI per model version over the recorded vectors of the last ``days`` days of scoring."""
    if predictions.empty:
        return pd.DataFrame(), {}
    since = predictions["scored_at"].max() - pd.Timedelta(days=days)
    recent = predictions[predictions["scored_at"] >= since]
    vectors = read_features(store_path, recent["id"].to_numpy(), since=since)
    frames = []
    for version, group in recent.groupby("model_version", sort=True):
        live = vectors.reindex(vectors.index.intersection(group["id"]))
        if live.empty:
            continue
        frames.append(drift_table(reference, live).assign(model_version=version, rows=len(live)))
    window = {"from": str(since), "to": str(predictions["scored_at"].max()), "days": days}
    return (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()), window


@dataclass
class MonitorReport:
    store: str
    performance: pd.DataFrame
    drift: pd.DataFrame
    drift_window: dict[str, Any] = field(default_factory=dict)
    reference: str = ""
    notes: list[str] = field(default_factory=list)
    overrides: pd.DataFrame = field(default_factory=pd.DataFrame)

    def to_dict(self) -> dict[str, Any]:
        def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
            clean = frame.astype(object).where(frame.notna(), None)
            return list(clean.to_dict(orient="records"))

        return {
            "store": self.store,
            "performance": records(self.performance),
            "drift": records(self.drift),
            "drift_window": self.drift_window,
            "reference": self.reference,
            "psi_alert": PSI_ALERT,
            "overrides": records(self.overrides),
            "notes": self.notes,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=str)

    def tables(self, drift_rows: int = 15) -> list[Table]:
        performance = Table(title=f"Live accuracy ({self.store})")
        columns: list[tuple[str, str, Callable[[Any], str]]] = [
            ("model_version", "version", str),
            ("month", "month", str),
            ("scored", "scored", integer),
            ("adjudicated", "adjudicated", integer),
            ("denial_rate", "denied", _pct),
            ("mean_probability", "predicted", _pct),
            ("ece", "ECE", _num),
            ("precision_medium", "prec med+", _pct),
            ("recall_medium", "recall med+", _pct),
            ("precision_high", "prec high", _pct),
            ("recall_high", "recall high", _pct),
            ("reason_agreement", "top reason = outcome", _pct),
        ]
        for _, title, _ in columns:
            performance.add_column(
                title, justify="left" if title in ("version", "month") else "right"
            )
        for record in self.performance.to_dict(orient="records"):
            performance.add_row(*(fmt(record[c]) for c, _, fmt in columns))
        drift = Table(title=f"Input drift, PSI (flag > {PSI_ALERT}); reference: {self.reference}")
        for title in ("version", "feature", "PSI", "unknown ref", "unknown live", ""):
            drift.add_column(title, justify="left" if title in ("version", "feature") else "right")
        for record in self.drift.head(drift_rows).to_dict(orient="records"):
            drift.add_row(
                str(record["model_version"]),
                str(record["feature"]),
                _num(record["psi"]),
                _pct(record["unknown_reference"]),
                _pct(record["unknown_live"]),
                "[red]drift[/red]" if record["flagged"] else "",
            )
        if self.overrides.empty:
            return [performance, drift]
        return [performance, drift, overrides_table(self.overrides, "Billers' overrides")]

    def __rich__(self) -> Group:
        notes = [f"[yellow]note[/yellow] {n}" for n in self.notes]
        return Group(*self.tables(), *notes)


def _pct(value: Any) -> str:
    return "-" if pd.isna(value) else f"{float(value):.1%}"


def _num(value: Any) -> str:
    return "-" if pd.isna(value) else f"{float(value):.3f}"


def monitor(
    store_path: Path | str,
    history: History,
    model: ClaimRiskModel | None = None,
    reference: FeatureReference | pd.DataFrame | None = None,
    drift_days: int = 30,
) -> MonitorReport:
    """Join the store's predictions with the history's outcomes; drift against ``reference``
    (a ``FeatureReference``, or a frame of training-time features), else against the model's
    training window in the history, else no drift."""
    store_path = Path(store_path)
    predictions = latest_per_claim(read_predictions(store_path))
    notes: list[str] = []
    joined = join_outcomes(predictions, history)
    table = performance(joined) if len(joined) else pd.DataFrame()
    if not len(joined):
        notes.append("the store holds no predictions yet")
    elif not joined["adjudicated"].any():
        notes.append("no recorded claim has an outcome in the history yet")
    if isinstance(reference, pd.DataFrame):
        reference = FeatureReference.from_frame(reference, "given frame")
    if reference is None and model is not None:
        reference = reference_from_history(history, model)
    drift, window = pd.DataFrame(), dict[str, Any]()
    if reference is None:
        notes.append("no model or reference given: input drift not checked")
    else:
        drift, window = live_drift(store_path, predictions, reference, drift_days)
        if drift.empty and len(predictions):
            notes.append("no recorded feature vectors in the drift window")
        elif len(drift) and drift["flagged"].any():
            flagged = drift.loc[drift["flagged"], "feature"].unique().tolist()
            notes.append(f"PSI > {PSI_ALERT} on {', '.join(flagged)}")
    disputed = override_outcomes(read_overrides(store_path), history)
    if disputed.empty:
        notes.append("no biller has disputed a reason yet (overrides)")
    return MonitorReport(
        store=str(store_path),
        overrides=disputed,
        performance=table,
        drift=drift,
        drift_window=window,
        reference=reference.source if reference is not None else "",
        notes=notes,
    )
