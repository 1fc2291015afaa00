"""A synthetic claims world written independently of claimrisk's feature code.

`python -m benchmarks.independent_world --out DIR --seed N --size small|regular` writes a
history folder, later claim requests, the per-claim oracle and the generator's parameters.
The mechanisms, their CARCs and what reveals them are documented in README.md beside this file.
"""

from benchmarks.independent_world.output import write_world
from benchmarks.independent_world.simulate import SIZES, simulate

__all__ = ["SIZES", "simulate", "write_world"]
