"""Behavioural: on two small zoo worlds it was not built on, claimrisk (trained and scored as
a user would) beats the untuned reference trained on the same history. No timing."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from benchmarks.generalization import evaluate_world, table, worst, zoo_world

WORLDS = ("dirty_exports", "unknown_auth_rule")


@pytest.mark.parametrize("name", WORLDS)
def test_claimrisk_beats_the_untuned_reference(tmp_path: Path, name: str) -> None:
    result = evaluate_world(name, zoo_world(name, tmp_path, claims=8000, requests=1500))
    assert result.refused == 0  # dirty context is scored, not refused
    assert result.requests >= 1400 and result.single_cause > 50
    assert result.auc >= result.reference_auc + 0.01, table([result])
    assert 0.5 < result.of_oracle <= 1.0 and math.isfinite(result.ece)
    assert name in worst([result])
