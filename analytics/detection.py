"""How well the pattern monitor does on a simulated history whose truth is known.

The simulator writes each claim's true denial probability (and per-category probabilities)
to ``ground_truth.parquet`` and the injected policy change to ``world.json``. A weekly
``patterns.sequential`` scan is scored on two figures:

- **detection delay**: days from the change's effective date to the first alert on its payer x
  code cell;
- **false alarms**: alert episodes (a cell's unbroken run of weekly alerts) that began while
  the cell's *true* rate had not risen between the same two windows (mean true probability of
  the same claims; for payer x category cells, the mean true probability of that category).
  A rise is real when it is at least 1.5 points and 25% (half the default detector's smallest
  alertable effect, fixed so that looser settings cannot redefine the truth). A cell with
  fewer than 8 baseline claims has no past of its own: it is compared with its peers (the
  parent's true rate) and, if above them, counted as a "new cell above peers", not a false
  alarm. An episode is judged at its first scan: once the baseline window has absorbed a real
  rise, the alerts that continue it are the same finding, not new ones.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analytics.patterns import (
    DAY,
    CellCounts,
    PatternSettings,
    SequentialScan,
    as_of_default,
)
from features.categories import CATEGORIES


@dataclass(frozen=True)
class PolicyChange:
    payer_id: str
    procedure_code: str
    effective: pd.Timestamp

    @staticmethod
    def from_world(path: Path) -> PolicyChange:
        """The first policy change of a simulator's ``world.json``."""
        change = json.loads(Path(path).read_text())["policy_changes"][0]
        return PolicyChange(
            str(change["payer_id"]),
            str(change["procedure_code"]),
            pd.Timestamp(change["effective"]),
        )


def true_sums(counts: CellCounts, truth: pd.DataFrame) -> np.ndarray:
    """Cumulative daily sums of the true denial probability per cell (same layout as
    ``counts.k_cum``)."""
    known = truth.set_index("claim_id").reindex(counts.claims["claim_id"])
    if known["true_probability"].isna().any():
        raise ValueError("ground truth lacks some claims of the history")
    by_category = known[[f"p_{c}" for c in CATEGORIES]].to_numpy(float)
    n_days = counts.n_cum.shape[1] - 1
    return counts.index.sums(
        counts.day, n_days, known["true_probability"].to_numpy(float), by_category
    )


NEW_CELL_CLAIMS = 8  # fewer baseline claims than this: no past of its own to compare with
TRUE_RISE_POINTS = 0.015
TRUE_RISE_RATIO = 1.25
VERDICTS = ("injected", "real rise", "new cell above peers", "false alarm")


def true_rates(
    counts: CellCounts, true_cum: np.ndarray, as_of: pd.Timestamp, settings: PatternSettings
) -> pd.DataFrame:
    """Per cell at a scan on ``as_of``: mean true probability in the recent window
    (``recent``), in the baseline window (``own``, NaN without claims), its parent's
    (``peers``), and the baseline claim count (``baseline_claims``)."""
    date = as_of_default(counts, as_of)
    start = date - settings.window_days * DAY
    before = start - settings.baseline_days * DAY
    with np.errstate(divide="ignore", invalid="ignore"):
        recent = counts.window(true_cum, start, date) / counts.window(counts.n_cum, start, date)
        base_n = counts.window(counts.n_cum, before, start)
        own = counts.window(true_cum, before, start) / base_n
    parent = counts.index.parent
    peers = np.where(parent >= 0, own[np.maximum(parent, 0)], own)
    return pd.DataFrame({"recent": recent, "own": own, "peers": peers, "baseline_claims": base_n})


def truly_rose(recent: np.ndarray, base: np.ndarray) -> np.ndarray:
    """A real rise of the true rate: at least 1.5 points and 25%."""
    with np.errstate(invalid="ignore"):
        return (recent - base >= TRUE_RISE_POINTS) & (recent >= TRUE_RISE_RATIO * base)


def verdicts(alerts: pd.DataFrame, change: PolicyChange) -> np.ndarray:
    """Each alert's verdict (``VERDICTS``) from its true rates: the injected cell after the
    change; a real rise of its own true rate; a cell too new to have a past whose true rate
    is above its peers'; otherwise a false alarm."""
    injected = (
        (alerts["kind"] == "payer_code")
        & (alerts["payer_id"] == change.payer_id)
        & (alerts["procedure_code"] == change.procedure_code)
        & (alerts["as_of"] >= change.effective)
    ).to_numpy()
    recent = alerts["true_recent_rate"].to_numpy(float)
    new = alerts["baseline_claims"].to_numpy() < NEW_CELL_CLAIMS
    rose = truly_rose(recent, alerts["true_baseline_rate"].to_numpy(float))
    above_peers = truly_rose(recent, alerts["true_peer_rate"].to_numpy(float))
    return np.select(
        [injected, rose & ~new, new & above_peers],
        list(VERDICTS[:3]),
        default=VERDICTS[3],
    )


@dataclass
class DetectionResult:
    change: PolicyChange
    delay_days: int | None  # None: never detected
    first_alert: pd.Timestamp | None
    episodes: pd.DataFrame = field(repr=False)  # first scan of each alert run, with verdict
    alerts: pd.DataFrame = field(repr=False)  # every (scan, cell) alert with true rates
    scans: int = 0

    @property
    def false_alarms(self) -> int:
        return int((self.episodes["verdict"] == "false alarm").sum())

    def summary(self) -> dict[str, Any]:
        counts = self.episodes["verdict"].value_counts()
        return {
            "change": f"payer {self.change.payer_id} x code {self.change.procedure_code} "
            f"from {self.change.effective.date()}",
            "detection_delay_days": self.delay_days,
            "first_alert": str(self.first_alert.date()) if self.first_alert is not None else None,
            "false_alarms": self.false_alarms,
            "episodes": len(self.episodes),
            **{f"episodes_{v.replace(' ', '_')}": int(counts.get(v, 0)) for v in VERDICTS},
            "alerted_cells": int(self.alerts["cell"].nunique()) if len(self.alerts) else 0,
            "alert_scans": len(self.alerts),
            "scans": self.scans,
        }


def evaluate_detection(
    scanned: SequentialScan,
    counts: CellCounts,
    truth: pd.DataFrame,
    change: PolicyChange,
    settings: PatternSettings,
) -> DetectionResult:
    """Score a sequential scan against the ground truth and the injected change."""
    alerts = scanned.alerts.copy()
    true_cum = true_sums(counts, truth)
    columns = {"recent": "true_recent_rate", "own": "true_baseline_rate", "peers": "true_peer_rate"}
    for name in columns.values():
        alerts[name] = np.nan
    for as_of, rows in alerts.groupby("as_of").groups.items():
        rates = true_rates(counts, true_cum, pd.Timestamp(as_of), settings)
        cells = alerts.loc[rows, "cell"].to_numpy()
        for source, name in columns.items():
            alerts.loc[rows, name] = rates[source].to_numpy()[cells]
    alerts["verdict"] = verdicts(alerts, change) if len(alerts) else []
    hits = alerts[alerts["verdict"] == "injected"]
    first = pd.Timestamp(hits["as_of"].min()) if len(hits) else None
    return DetectionResult(
        change=change,
        delay_days=int((first - change.effective).days) if first is not None else None,
        first_alert=first,
        episodes=alerts[alerts["new"]].reset_index(drop=True),
        alerts=alerts,
        scans=len(scanned.dates),
    )
