"""Temporary folders named after the process that owns them (``PREFIX<pid>-…``), so that the
next process can remove what a killed one left behind: a Dask run's spilled blocks, a
server's private copy of its model."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import psutil


def owned_prefix(prefix: str) -> str:
    """The ``tempfile`` prefix of a folder this process owns."""
    return f"{prefix}{os.getpid()}-"


def sweep_abandoned(prefix: str, root: Path | None = None) -> list[Path]:
    """Remove the folders ``PREFIX<pid>-…`` under ``root`` (the temporary folder) whose
    process is gone; what was removed. A name without a pid is not ours to judge."""
    removed = []
    for folder in (root or Path(tempfile.gettempdir())).glob(f"{prefix}*"):
        owner = folder.name.removeprefix(prefix).split("-", 1)[0]
        if folder.is_dir() and owner.isdigit() and not psutil.pid_exists(int(owner)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed
