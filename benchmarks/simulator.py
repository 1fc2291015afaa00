"""Simulator throughput: 100k and 1M claims into a temporary folder (parquet).

Run: python -m benchmarks.simulator [--csv]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from simulator import simulate


def main(sizes: tuple[int, ...] = (100_000, 1_000_000)) -> None:
    fmt = "csv" if "--csv" in sys.argv else "parquet"
    for claims in sizes:
        with tempfile.TemporaryDirectory() as folder:
            began = time.perf_counter()
            summary = simulate(Path(folder), claims, seed=0, fmt=fmt)
            seconds = time.perf_counter() - began
            size = sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())
        print(
            f"{claims:>9,} claims ({fmt}): {seconds:6.1f} s  {claims / seconds:>9,.0f} claims/s  "
            f"denial rate {summary.denial_rate:.1%}  {size / 1e6:,.0f} MB written"
        )


if __name__ == "__main__":
    main()
