"""How well the pattern monitor does on a simulated history whose truth is known.

A world knows what it injected: ``world.json`` lists the simulator's policy change and its
dialect's rule changes (``changes_from_world``), and ``ground_truth.parquet`` holds each
claim's true denial probability (the simulator's also per category). A weekly
``patterns.sequential`` scan is scored against both:

- **detection delay** of each injected change: days from the change's effective date to the
  first scan that alerts on one of its cells (payer x code for each code the change names;
  payer x category of the change's category for a payer-wide change such as a filing limit);
- **false alarms**: every alerted cell is judged at the first scan of each of its episodes (an
  unbroken run of weekly alerts; once the baseline has absorbed a rise, the alerts that continue
  it are the same finding). The verdict, first that applies:

  1. ``injected``: the cell is one of an injected change's cells (or the payer x category cell
     of a code change's payer and category) and the scan is on or after the change's start;
  2. ``real rise``: the cell's *true* rate (mean true probability of the same claims; for a
     payer x category cell the true probability of that category) over the trailing 14, 28 or
     56 days rose against the 364 days before that window by at least 1.5 points and 25%
     (half the default detector's smallest alertable effect; the windows are fixed here so that
     a detector's settings cannot redefine the truth). Other mechanisms of a world (credential
     lapses, coverage churn) really do move some cells: flagging them is not a false alarm;
  3. ``new cell above peers``: fewer than 8 baseline claims (no past of its own) and its true
     rate is that much above its parent's;
  4. ``unjudged``: a payer x category cell of a world whose truth has no per-category
     probabilities (the independent world) and no injected change explains it;
  5. ``false alarm``: otherwise.

  **False-alarm cells** count the distinct cells with at least one false-alarm episode.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analytics.patterns import DAY, CellCounts, SequentialScan, as_of_default
from features.categories import CATEGORIES

# the category a rule change's denials fall in (the CARC the simulator reports for it)
RULE_CATEGORY = {
    "prior_authorization_required": "authorization",
    "units_limit": "coding",
    "modifier_25_required": "coding",
    "frequency_limit": "non_covered",
}


@dataclass(frozen=True)
class PolicyChange:
    """A change a world injected: from ``effective`` on, ``payer_id`` denies more claims of
    ``procedure_codes`` (all its claims when empty) in ``category``."""

    payer_id: str
    procedure_codes: tuple[str, ...]
    effective: pd.Timestamp
    category: str = "authorization"
    kind: str = "prior_authorization_required"

    @property
    def procedure_code(self) -> str:
        """The first code the change names ("" for a payer-wide change)."""
        return self.procedure_codes[0] if self.procedure_codes else ""

    @property
    def label(self) -> str:
        what = "/".join(self.procedure_codes) or f"{self.category} (all codes)"
        return f"{self.payer_id} x {what} {self.kind} from {self.effective.date()}"

    @staticmethod
    def from_world(path: Path) -> PolicyChange:
        """The first change of a simulator's ``world.json``."""
        return changes_from_world(path)[0]


def changes_from_world(path: Path) -> list[PolicyChange]:
    """Every change a simulator's ``world.json`` says it injected: its policy changes, then
    its dialect's rule changes."""
    world = json.loads(Path(path).read_text())
    listed = [*world["policy_changes"], *world.get("dialect", {}).get("rule_changes", [])]
    return [
        PolicyChange(
            str(change["payer_id"]),
            (str(change["procedure_code"]),),
            pd.Timestamp(change["effective"]),
            RULE_CATEGORY[change["kind"]],
            str(change["kind"]),
        )
        for change in listed
    ]


TRUTH_WINDOWS = (14, 28, 56)  # trailing days whose true rate is compared with the year before
TRUTH_BASELINE_DAYS = 364
NEW_CELL_CLAIMS = 8  # fewer baseline claims than this: no past of its own to compare with
TRUE_RISE_POINTS = 0.015
TRUE_RISE_RATIO = 1.25
VERDICTS = ("injected", "real rise", "new cell above peers", "unjudged", "false alarm")
EXPANDED_KINDS = ("category", "payer_category")  # cells whose truth needs p_<category>


def true_sums(counts: CellCounts, truth: pd.DataFrame) -> np.ndarray:
    """Cumulative daily sums of the true denial probability per cell (same layout as
    ``counts.k_cum``); NaN for category cells when the truth has no per-category columns."""
    known = truth.set_index("claim_id").reindex(counts.claims["claim_id"])
    if known["true_probability"].isna().any():
        raise ValueError("ground truth lacks some claims of the history")
    columns = [f"p_{c}" for c in CATEGORIES]
    if set(columns) <= set(known.columns):
        by_category = known[columns].to_numpy(float)
    else:
        by_category = np.full((len(known), len(CATEGORIES)), np.nan)
    n_days = counts.n_cum.shape[1] - 1
    return counts.index.sums(
        counts.day, n_days, known["true_probability"].to_numpy(float), by_category
    )


def truly_rose(recent: np.ndarray, base: np.ndarray) -> np.ndarray:
    """A real rise of the true rate: at least 1.5 points and 25%."""
    with np.errstate(invalid="ignore"):
        return (recent - base >= TRUE_RISE_POINTS) & (recent >= TRUE_RISE_RATIO * base)


def true_rise(counts: CellCounts, true_cum: np.ndarray, as_of: pd.Timestamp) -> pd.DataFrame:
    """Per cell at a scan on ``as_of``: whether its true rate rose (``rose``) over any of
    ``TRUTH_WINDOWS`` against the year before it, whether it rose above its parent's
    (``above_peers``), its baseline claims and true rates over the 28-day window."""
    date = as_of_default(counts, as_of)
    parent = counts.index.parent
    n = len(counts.index)
    rose, above, truth_known = np.zeros(n, bool), np.zeros(n, bool), np.ones(n, bool)
    out: dict[str, np.ndarray] = {}
    for days in TRUTH_WINDOWS:
        start = date - days * DAY
        before = start - TRUTH_BASELINE_DAYS * DAY
        with np.errstate(divide="ignore", invalid="ignore"):
            recent_n = counts.window(counts.n_cum, start, date)
            recent = counts.window(true_cum, start, date) / recent_n
            base_n = counts.window(counts.n_cum, before, start)
            own = counts.window(true_cum, before, start) / base_n
        peers = np.where(parent >= 0, own[np.maximum(parent, 0)], own)
        rose |= truly_rose(recent, own)
        above |= truly_rose(recent, peers)
        truth_known &= ~np.isnan(counts.window(true_cum, before, date))
        if days == 28:
            out = {"recent": recent, "own": own, "peers": peers, "baseline_claims": base_n}
    return pd.DataFrame({**out, "rose": rose, "above_peers": above, "known": truth_known})


def injected_mask(alerts: pd.DataFrame, changes: Sequence[PolicyChange]) -> np.ndarray:
    """Alerts on a cell of an injected change, on or after its start."""
    hit = np.zeros(len(alerts), dtype=bool)
    for change in changes:
        after = (alerts["payer_id"] == change.payer_id) & (alerts["as_of"] >= change.effective)
        category = (alerts["kind"] == "payer_category") & (alerts["category"] == change.category)
        code = (alerts["kind"] == "payer_code") & alerts["procedure_code"].isin(
            change.procedure_codes
        )
        hit |= (after & (category | code)).to_numpy()
    return hit


def detecting_mask(alerts: pd.DataFrame, change: PolicyChange) -> np.ndarray:
    """Alerts that find ``change``: on its payer x code cells, or for a payer-wide change
    its payer x category cell, on or after its start."""
    mine = (alerts["payer_id"] == change.payer_id) & (alerts["as_of"] >= change.effective)
    if change.procedure_codes:
        on = (alerts["kind"] == "payer_code") & alerts["procedure_code"].isin(
            change.procedure_codes
        )
    else:
        on = (alerts["kind"] == "payer_category") & (alerts["category"] == change.category)
    return (mine & on).to_numpy()


def verdicts(alerts: pd.DataFrame, changes: Sequence[PolicyChange]) -> np.ndarray:
    """Each alert's verdict (``VERDICTS``, see the module docstring)."""
    new = alerts["true_baseline_claims"].to_numpy() < NEW_CELL_CLAIMS
    rose = alerts["true_rose"].to_numpy(bool)
    above = alerts["true_above_peers"].to_numpy(bool)
    known = alerts["truth_known"].to_numpy(bool)
    return np.select(
        [injected_mask(alerts, changes), rose & ~new, new & above, ~known],
        list(VERDICTS[:4]),
        default=VERDICTS[4],
    )


@dataclass
class ChangeFound:
    """One injected change and when the monitor first alerted on it."""

    change: PolicyChange
    first_alert: pd.Timestamp | None

    @property
    def delay_days(self) -> int | None:
        if self.first_alert is None:
            return None
        return int((self.first_alert - self.change.effective).days)


@dataclass
class DetectionResult:
    found: list[ChangeFound]
    episodes: pd.DataFrame = field(repr=False)  # first scan of each alert run, with verdict
    alerts: pd.DataFrame = field(repr=False)  # every (scan, cell) alert with true rates
    scan_dates: list[pd.Timestamp] = field(default_factory=list)

    @property
    def scans(self) -> int:
        return len(self.scan_dates)

    @property
    def delay_days(self) -> int | None:
        """The first change's delay (the simulator's policy change)."""
        return self.found[0].delay_days if self.found else None

    def false_alarm_episodes(self, since: pd.Timestamp | None = None) -> pd.DataFrame:
        false = self.episodes[self.episodes["verdict"] == "false alarm"]
        return false if since is None else false[false["as_of"] >= since]

    @property
    def false_alarms(self) -> int:
        """Distinct cells with a false-alarm episode, over every scan."""
        return self.false_alarm_cells()

    def false_alarm_cells(self, since: pd.Timestamp | None = None) -> int:
        return int(self.false_alarm_episodes(since)["cell"].nunique())

    def summary(self) -> dict[str, Any]:
        counts = self.episodes["verdict"].value_counts()
        return {
            "changes": [
                {
                    "change": f.change.label,
                    "first_alert": str(f.first_alert.date()) if f.first_alert is not None else None,
                    "detection_delay_days": f.delay_days,
                }
                for f in self.found
            ],
            "false_alarm_cells": self.false_alarms,
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
    changes: Sequence[PolicyChange],
) -> DetectionResult:
    """Score a sequential scan against the ground truth and the injected changes."""
    alerts = scanned.alerts.copy()
    true_cum = true_sums(counts, truth)
    columns = {
        "recent": "true_recent_rate",
        "own": "true_baseline_rate",
        "peers": "true_peer_rate",
        "baseline_claims": "true_baseline_claims",
        "rose": "true_rose",
        "above_peers": "true_above_peers",
        "known": "truth_known",
    }
    values = {name: np.full(len(alerts), np.nan) for name in columns.values()}
    for as_of, rows in alerts.groupby("as_of").indices.items():
        rates = true_rise(counts, true_cum, pd.Timestamp(as_of))
        cells = alerts["cell"].to_numpy()[rows]
        for source, name in columns.items():
            values[name][rows] = rates[source].to_numpy(float)[cells]
    alerts = alerts.assign(**values)
    alerts["verdict"] = verdicts(alerts, changes) if len(alerts) else []
    found = []
    for change in changes:
        hits = alerts[detecting_mask(alerts, change)] if len(alerts) else alerts
        found.append(ChangeFound(change, pd.Timestamp(hits["as_of"].min()) if len(hits) else None))
    return DetectionResult(
        found=found,
        episodes=alerts[alerts["new"]].reset_index(drop=True) if len(alerts) else alerts,
        alerts=alerts,
        scan_dates=scanned.dates,
    )
