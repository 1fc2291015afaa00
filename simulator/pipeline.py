"""simulate(): run the world and write its history, requests, ground truth and world.json."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np

from simulator.dialects import DEFAULT, Dialect
from simulator.run import run
from simulator.summary import SimulationSummary
from simulator.tables import Builder
from simulator.write import write_ground_truth, write_history, write_requests, write_world


def simulate(
    out: Path,
    claims: int,
    seed: int = 0,
    *,
    requests: int = 2000,
    fmt: Literal["parquet", "csv", "partitioned"] = "parquet",
    start: dt.date = dt.date(2024, 1, 1),
    months: int = 24,
    progress: Callable[[str], None] | None = None,
    dialect: Dialect = DEFAULT,
) -> SimulationSummary:
    """Simulate `claims` history claims over `months` from `start`, plus `requests` claim
    requests for the month after, into `out`. Same seed, same bytes. A dialect (see
    ``simulator.zoo``) changes the world's mechanisms."""
    if claims < 1 or months < 1 or requests < 0:
        raise ValueError("claims and months must be positive, requests not negative")
    began = time.perf_counter()
    say = progress or (lambda _msg: None)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sim = run(seed, claims, requests, start, months, say, dialect)
    builder = Builder(sim)
    rows = write_history(builder, out / "history", fmt)
    say(f"history written: {rows['claims']:,} claims, {rows['outcomes']:,} outcomes")
    n_requests = write_requests(builder, out / "requests.jsonl", np.random.default_rng([seed, 1]))
    write_ground_truth(builder, out / "ground_truth.parquet")
    summary = SimulationSummary.of(sim, out, fmt, rows, n_requests)
    write_world(sim.world, out / "world.json", summary.facts())
    summary.elapsed_seconds = time.perf_counter() - began
    say(f"done in {summary.elapsed_seconds:.1f} s")
    return summary
