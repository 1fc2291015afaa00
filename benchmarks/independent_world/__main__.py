"""`python -m benchmarks.independent_world --out DIR --seed N --size small|regular`."""

from __future__ import annotations

import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from benchmarks.independent_world import simulate, write_world


class Size(StrEnum):
    small = "small"
    regular = "regular"


def main(
    out: Annotated[Path, typer.Option(help="folder to write the world into")],
    seed: Annotated[int, typer.Option(help="random seed; the same seed gives the same world")] = 1,
    size: Annotated[Size, typer.Option(help="small: one practice; regular: four")] = Size.small,
) -> None:
    """Write history/, requests.jsonl, ground_truth.parquet and world.json into OUT."""
    t0 = time.perf_counter()
    params = write_world(simulate(seed, size.value), out)
    counts = params["counts"]
    typer.echo(
        f"{out}: {counts['history_claims']} history claims ({counts['labelled_history']} "
        f"adjudicated), {counts['requests']} requests, denial rate {counts['denial_rate']:.3f}, "
        f"{time.perf_counter() - t0:.1f}s"
    )


if __name__ == "__main__":
    typer.run(main)
