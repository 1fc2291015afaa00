"""Temporary folders of killed processes are swept by the next one; live ones are kept."""

import os
import subprocess
import sys
from pathlib import Path

from features.cluster import SCRATCH_PREFIX
from features.scratch import owned_prefix, sweep_abandoned
from serving.holder import MODEL_COPY_PREFIX


def test_a_killed_processes_folders_are_swept_and_a_live_ones_kept(tmp_path: Path):
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)  # fmt: skip
    for prefix in (SCRATCH_PREFIX, MODEL_COPY_PREFIX):
        dead = tmp_path / f"{prefix}{finished.stdout.strip()}-abc"
        alive = tmp_path / f"{owned_prefix(prefix)}def"
        other = tmp_path / f"{prefix}notes"  # no pid in its name: not ours to judge
        for folder in (dead, alive, other):
            (folder / "spill").mkdir(parents=True)
            (folder / "spill" / "block").write_bytes(b"x" * 1024)
        assert sweep_abandoned(prefix, tmp_path) == [dead]
        assert not dead.exists() and alive.exists() and other.exists()
    assert owned_prefix(SCRATCH_PREFIX) == f"{SCRATCH_PREFIX}{os.getpid()}-"
