"""The monitor's statistic on synthetic claims whose rates are known: a stationary history
stays within the false-alarm budget over many weekly runs, a jump is flagged within weeks,
and the empirical-Bayes prior strength recovers the spread it was drawn with."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics.detection import changes_from_world
from analytics.patterns import (
    SCANS_PER_YEAR,
    CellCounts,
    PatternSettings,
    count_claims,
    estimated_strength,
    scan,
    sequential,
)
from simulator import simulate
from simulator.zoo import world

DAYS = 730
START = pd.Timestamp("2024-01-01")


def synthetic(seed: int, jump: tuple[int, int, int, float] | None = None) -> CellCounts:
    """Two years of claims adjudicated every day: 4 payers x 8 codes x 6 providers, each
    payer x code with its own stationary denial rate; ``jump`` = (payer, code, day, rise)
    raises one cell's rate from that day on."""
    rng = np.random.default_rng(seed)
    n = DAYS * 40
    payer = rng.integers(0, 4, n)
    code = rng.integers(0, 8, n)
    day = np.sort(rng.integers(0, DAYS, n))
    rate = rng.beta(2.0, 30.0, (4, 8))[payer, code]
    if jump is not None:
        p, c, start, rise = jump
        rate = np.where((payer == p) & (code == c) & (day >= start), rate + rise, rate)
    denied = rng.random(n) < rate
    claims = pd.DataFrame(
        {
            "claim_id": [f"C{i}" for i in range(n)],
            "payer_id": [f"P{p}" for p in payer],
            "provider_npi": [f"N{v}" for v in rng.integers(0, 6, n)],
            "adjudication_date": START + pd.to_timedelta(day, unit="D"),
            "denied": denied,
            "denial_category": np.where(denied, "coding", ""),
            "total_charge": 100.0,
        }
    )
    codes = pd.DataFrame({"claim_id": claims["claim_id"], "procedure_code": code.astype(str)})
    return count_claims(claims, codes)


def test_windows_double_up_to_the_longest_and_the_budget_is_spread_over_a_year():
    assert PatternSettings(window_days=28).windows == (7, 14, 28)
    assert PatternSettings(window_days=56).windows == (7, 14, 28, 56)
    assert PatternSettings(window_days=5).windows == (5,)
    assert PatternSettings(false_alarms_per_year=2.0).alpha == pytest.approx(2 / SCANS_PER_YEAR)


def test_a_stationary_history_stays_within_the_budget():
    """No cell changes: over 88 weekly runs (1.7 years) at the budget of two false alerts a year,
    at most a couple of alerts in all, where the same effect minimums with each cell and run
    tested at 5% raise dozens."""
    counts = synthetic(1)
    settings = PatternSettings()
    scanned = sequential(counts=counts, settings=settings)
    years = len(scanned.dates) / SCANS_PER_YEAR
    assert years > 1.5
    assert len(scanned.alerts) <= 2 * settings.false_alarms_per_year * years
    assert min(scanned.tested) > 80  # every cell had claims to test
    uncorrected = sum(
        int((scan(counts, np.datetime64(date.date(), "D"), settings)["p_value"] <= 0.05).sum())
        for date in scanned.dates
    )
    assert uncorrected > 50


def test_a_jump_is_flagged_within_weeks_on_its_own_cell():
    start = 500
    counts = synthetic(3, jump=(2, 5, start, 0.15))
    scanned = sequential(counts=counts, settings=PatternSettings())
    alerts = scanned.alerts
    mine = alerts[(alerts["kind"] == "payer_code") & (alerts["payer_id"] == "P2")]
    mine = mine[mine["procedure_code"] == "5"]
    changed = START + pd.Timedelta(days=start)
    assert not (mine["as_of"] < changed).any()
    first = mine["as_of"].min()
    assert pd.notna(first) and (first - changed).days <= 35
    # the short window finds it: the recent claims are those since the jump, not four weeks'
    assert mine.loc[mine["as_of"] == first, "recent_days"].iloc[0] < 28
    others = alerts[alerts["as_of"] < changed]
    assert len(others) <= 2


def test_the_prior_strength_is_recovered_from_the_spread_of_cells():
    rng = np.random.default_rng(4)
    cells, mean, strength = 600, 0.1, 30.0
    rate = rng.beta(strength * mean, strength * (1 - mean), cells)
    n0 = np.full(cells, 800.0)
    k0 = rng.binomial(800, rate).astype(float)
    kind = np.zeros(cells, dtype=np.int64)
    estimate = estimated_strength(n0, k0, np.full(cells, mean), kind)
    assert 20 < estimate[0] < 45
    # cells that do not spread beyond binomial noise get the strongest prior kept
    same = rng.binomial(800, mean, cells).astype(float)
    assert estimated_strength(n0, same, np.full(cells, mean), kind)[0] > 200


def test_a_world_lists_its_injected_changes_and_can_have_none(tmp_path: Path):
    simulate(tmp_path / "rules", 3000, seed=5, requests=0, months=18,
             dialect=world("new_limits"))  # fmt: skip
    changes = changes_from_world(tmp_path / "rules" / "world.json")
    assert [(c.payer_id, c.procedure_code, c.category) for c in changes] == [
        ("60054", "72148", "authorization"),
        ("60054", "97110", "coding"),
        ("77027", "97140", "coding"),
        ("62308", "99213", "coding"),
        ("87726", "99396", "non_covered"),
        ("60054", "99396", "non_covered"),
    ]
    quiet = replace(world("new_limits"), policy_change=False, rules=())
    simulate(tmp_path / "quiet", 3000, seed=5, requests=0, months=18, dialect=quiet)
    assert changes_from_world(tmp_path / "quiet" / "world.json") == []
