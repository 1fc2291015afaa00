"""Behavioural: on two small zoo worlds it was not built on, claimrisk (trained and scored as
a user would) beats the untuned reference trained on the same history. No timing."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from benchmarks.generalization import evaluate_world, table, worst, zoo_world
from benchmarks.reference import fit_reference, read_requests
from simulator import simulate
from simulator.zoo import WORLDS as WORLD

WORLDS = ("dirty_exports", "unknown_auth_rule")


@pytest.mark.parametrize("name", WORLDS)
def test_claimrisk_beats_the_untuned_reference(tmp_path: Path, name: str) -> None:
    result = evaluate_world(name, zoo_world(name, tmp_path, claims=8000, requests=1500))
    assert result.refused == 0  # dirty context is scored, not refused
    assert result.requests >= 1400 and result.single_cause > 50
    assert result.auc >= result.reference_auc + 0.01, table([result])
    assert 0.5 < result.of_oracle <= 1.0 and math.isfinite(result.ece)
    assert name in worst([result])


def test_the_reference_reads_csv_and_parquet_worlds_alike(tmp_path: Path) -> None:
    for fmt in ("parquet", "csv"):
        simulate(tmp_path / fmt, 4000, 2, requests=300, fmt=fmt, dialect=WORLD["dirty_exports"])
    requests = read_requests(tmp_path / "csv" / "requests.jsonl")
    p_csv = fit_reference(tmp_path / "csv" / "history").probability(requests)
    p_parquet = fit_reference(tmp_path / "parquet" / "history").probability(requests)
    assert len(p_csv) == 300 and np.allclose(p_csv, p_parquet)
