"""Emerging-pattern detection: the test's arithmetic, the cell counts, and the injected change."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rich.console import Console
from scipy import stats

from analytics.cells import build_cells
from analytics.detection import VERDICTS, PolicyChange, evaluate_detection
from analytics.patterns import (
    SCANS_PER_YEAR,
    CellCounts,
    PatternSettings,
    benjamini_hochberg,
    count_cells,
    find_patterns,
    jump_p_value,
    scan,
    sequential,
)
from analytics.render import patterns_json, patterns_table
from analytics.tables import claim_codes
from features.history import History


@pytest.fixture(scope="module")
def counts(history: History) -> CellCounts:
    return count_cells(history)


@pytest.fixture(scope="module")
def change(world: Path) -> PolicyChange:
    return PolicyChange.from_world(world / "world.json")


def test_benjamini_hochberg_matches_the_definition():
    p = np.array([0.01, 0.04, 0.03, 0.005, 0.5, 0.2])
    q = benjamini_hochberg(p)
    order = np.argsort(p)
    ranked = p[order] * len(p) / np.arange(1, len(p) + 1)
    expected = np.minimum.accumulate(ranked[::-1])[::-1]
    assert q[order] == pytest.approx(expected)
    assert (q >= p).all()


@pytest.mark.parametrize(("k", "n"), [(0, 5), (3, 8), (9, 10), (40, 100)])
def test_jump_p_value_is_the_binomial_mid_p_when_the_baseline_is_sure(k: int, n: int):
    rate = 0.1
    sure = np.array([1e7])  # a baseline of ten million claims: no uncertainty left
    p = jump_p_value(np.array([k]), np.array([n]), sure * rate, sure * (1 - rate))[0]
    mid = stats.binom.sf(k, n, rate) + 0.5 * stats.binom.pmf(k, n, rate)
    assert p == pytest.approx(mid, rel=1e-3, abs=1e-9)


def test_an_uncertain_baseline_demands_more_evidence():
    k, n = np.array([4]), np.array([10])
    sure = jump_p_value(k, n, np.array([1000.0]), np.array([9000.0]))
    unsure = jump_p_value(k, n, np.array([1.0]), np.array([9.0]))
    assert sure < unsure < 1


def test_window_counts_match_the_tables(history: History, counts: CellCounts, change):
    """Claims of the injected payer x code adjudicated in a window, counted by hand."""
    as_of = change.effective + pd.Timedelta(days=35)
    scanned = scan(counts, np.datetime64(as_of.date(), "D"), PatternSettings())
    cell = scanned[
        (scanned["kind"] == "payer_code")
        & (scanned["payer_id"] == change.payer_id)
        & (scanned["procedure_code"] == change.procedure_code)
    ].iloc[0]
    days = int(cell["recent_days"])  # the most significant of the windows tested
    assert days in PatternSettings().windows
    lines = history.claim_lines
    ids = set(lines.loc[lines["procedure_code"] == change.procedure_code, "claim_id"])
    outcomes = history.outcomes.merge(history.labels.labels, on="claim_id").merge(
        history.claims[["claim_id", "payer_id"]], on="claim_id"
    )
    mine = outcomes[outcomes["claim_id"].isin(ids) & (outcomes["payer_id"] == change.payer_id)]
    recent = mine[
        (mine["adjudication_date"] > as_of - pd.Timedelta(days=days))
        & (mine["adjudication_date"] <= as_of)
    ]
    assert cell["recent_claims"] == len(recent)
    assert cell["recent_denied"] == recent["denied"].sum()
    before = mine[
        (mine["adjudication_date"] > as_of - pd.Timedelta(days=days + 364))
        & (mine["adjudication_date"] <= as_of - pd.Timedelta(days=days))
    ]
    assert cell["baseline_claims"] == len(before)


def test_every_claim_is_in_one_payer_x_category_cell_per_category(history: History, claims):
    adjudicated = claims[claims["adjudicated"]].reset_index(drop=True)
    index = build_cells(adjudicated, claim_codes(history))
    day = np.zeros(len(adjudicated), dtype=np.int64)
    totals = index.sums(day, 1, np.ones(len(adjudicated)), np.ones((len(adjudicated), 11)))
    per_kind = pd.Series(totals[:, -1]).groupby(index.cells["kind"]).sum()
    assert per_kind["payer"] == len(adjudicated)
    assert per_kind["payer_category"] == 11 * len(adjudicated)
    assert per_kind["provider_payer"] == len(adjudicated)


def test_the_injected_change_is_found_within_weeks_and_listed_first(
    history: History, counts: CellCounts, change: PolicyChange
):
    as_of = change.effective + pd.Timedelta(days=35)
    alerts = find_patterns(history, as_of=as_of, counts=counts)
    top = alerts.iloc[0]
    assert (top["kind"], top["payer_id"], top["procedure_code"]) == (
        "payer_code",
        change.payer_id,
        change.procedure_code,
    )
    assert top["top_category"] == "authorization"
    assert change.effective < top["first_significant"] <= as_of
    assert top["recent_rate"] > 3 * top["baseline_rate"]
    assert alerts.attrs["as_of"] == str(as_of.date())
    json.loads(alerts.to_json(orient="records", date_format="iso"))  # the CLI's --json


def test_no_alert_on_the_injected_cell_before_the_change(history: History, counts, change):
    before = find_patterns(history, as_of=change.effective - pd.Timedelta(days=1), counts=counts)
    injected = (before["payer_id"] == change.payer_id) & (
        before["procedure_code"] == change.procedure_code
    )
    assert not injected.any()


def test_online_detection_delay_and_false_alarms(
    counts: CellCounts, truth: pd.DataFrame, change: PolicyChange
):
    settings = PatternSettings()
    scanned = sequential(counts=counts, settings=settings)
    result = evaluate_detection(scanned, counts, truth, [change])
    assert result.delay_days is not None and 0 < result.delay_days <= 35
    budget = math.ceil(settings.false_alarms_per_year * result.scans / SCANS_PER_YEAR)
    assert result.false_alarms <= budget, result.false_alarm_episodes()[["as_of", "label"]]
    assert set(result.episodes["verdict"]) <= set(VERDICTS)
    assert json.dumps(result.summary())


def test_cli_faces_of_the_alerts(history: History, counts: CellCounts, change: PolicyChange):
    alerts = find_patterns(history, as_of=change.effective + pd.Timedelta(days=35), counts=counts)
    data = json.loads(patterns_json(alerts))
    assert data["as_of"] == str((change.effective + pd.Timedelta(days=35)).date())
    assert data["alerts"][0]["procedure_code"] == change.procedure_code
    console = Console(record=True, width=160)
    console.print(patterns_table(alerts))
    assert f"payer {change.payer_id} x code {change.procedure_code}" in console.export_text()
    empty = find_patterns(history, as_of=change.effective - pd.Timedelta(days=200), counts=counts)
    console.print(patterns_table(empty.iloc[:0]))
    assert json.loads(patterns_json(empty.iloc[:0]))["alerts"] == []
