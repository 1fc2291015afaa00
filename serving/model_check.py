"""Check a model folder in a child process before the server loads it.

LightGBM's model parser can crash the whole process (a segfault on a truncated
``booster.txt``), which no ``try`` catches. So a candidate is first loaded and made to score
the smoke claim in a separate interpreter: only when that child exits cleanly does the server
load the same files itself. ``python -m serving.model_check FOLDER`` is the child.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

CHECK_SECONDS = 300.0  # a cold interpreter imports LightGBM and pandas in a few seconds


class ModelRefused(RuntimeError):
    """A candidate model failed to load or to score the smoke claim."""


def check_in_child(folder: Path, timeout: float = CHECK_SECONDS) -> None:
    """Load ``folder`` and score the smoke claim in a child interpreter; ``ModelRefused``
    with the reason when the child fails, crashes or hangs."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "serving.model_check", str(folder)],
            capture_output=True,
            text=True,
            errors="replace",  # LightGBM echoes the broken file's bytes
            timeout=timeout,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise ModelRefused(f"checking it took more than {timeout:.0f} s") from error
    if done.returncode < 0:
        name = signal.Signals(-done.returncode).name
        raise ModelRefused(f"loading it crashed the checking process ({name})")
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        raise ModelRefused(lines[-1] if lines else f"the check exited {done.returncode}")


def main(folder: str) -> int:
    from scoring.artifact import ClaimRiskModel
    from scoring.scorer import Scorer
    from serving.holder import smoke_test

    try:
        smoke_test(Scorer(ClaimRiskModel.load(Path(folder)), "candidate", folder))
    except Exception as error:
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
