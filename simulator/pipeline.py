"""simulate(): run the world and write its history, requests, ground truth and world.json."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from simulator.blocks import Numbering, block_claims, plan_blocks
from simulator.dialects import DEFAULT, Dialect
from simulator.run import run
from simulator.summary import SimulationSummary
from simulator.tables import Builder
from simulator.world import World
from simulator.write import (
    GroundTruthWriter,
    practice_documents,
    write_history,
    write_requests,
    write_world,
)


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
    requests for the months after (as many as the practices' monthly volume needs to hold
    them), into `out`. Same seed, same bytes. A dialect (see ``simulator.zoo``) changes the
    world's mechanisms. Partitioned output of more than ``simulator.blocks.BLOCK_CLAIMS``
    claims is simulated and written a block of practices at a time (``simulator.blocks``), so
    memory does not grow with ``claims``."""
    if claims < 1 or months < 1 or requests < 0:
        raise ValueError("claims and months must be positive, requests not negative")
    began = time.perf_counter()
    say = progress or (lambda _msg: None)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    plan = plan_blocks(claims, requests, seed, block_claims(claims, fmt, dialect))
    numbering = Numbering()
    summaries: list[SimulationSummary] = []
    practices: list[dict[str, Any]] = []
    first: World | None = None
    truth = GroundTruthWriter(out / "ground_truth.parquet")
    with (out / "requests.jsonl").open("wb") as requests_out:
        for block in plan:
            if len(plan) > 1:
                say(f"block {block.index + 1} of {len(plan)}: {block.claims:,} claims")
            where = (block.index, len(plan))
            sim = run(block.seed, block.claims, block.requests, start, months, say, dialect, where)
            numbering.renumber(sim)
            builder = Builder(sim)
            rows = write_history(builder, out / "history", fmt, block.index)
            n_requests = write_requests(builder, requests_out, block.requests_rng(seed))
            truth.write(builder)
            summaries.append(SimulationSummary.of(sim, out, fmt, rows, n_requests))
            practices += practice_documents(sim.world, block.claims / claims, len(practices))
            first = sim.world if first is None else first
            del sim, builder  # a block at a time: the next block's memory replaces this one's
    truth.close()
    summary = summaries[0] if len(summaries) == 1 else SimulationSummary.merged(summaries)
    say(f"history written: {summary.claims:,} claims, {summary.outcomes:,} outcomes")
    assert first is not None
    write_world(first, out / "world.json", summary.facts(), practices)
    summary.elapsed_seconds = time.perf_counter() - began
    say(f"done in {summary.elapsed_seconds:.1f} s")
    return summary
