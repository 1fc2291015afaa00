"""A cluster started by hand, as README "Running on a cluster" shows: `dask scheduler` and
one `dask worker` from this environment on loopback ports, and `claimrisk features
--cluster tcp://...` against it. The image runs the same commands (compose profile cluster)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from distributed import Client

from tests.e2e.conftest import CLAIMRISK, REPO, free_port

DASK = str(Path(sys.executable).parent / "dask")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture()
def scheduler(tmp_path: Path) -> Iterator[tuple[str, int, int]]:
    """A scheduler and one single-threaded worker; (address, scheduler and worker HTTP ports)."""
    port, http, worker_http = free_port(), free_port(), free_port()
    address = f"tcp://127.0.0.1:{port}"
    commands = {
        "scheduler": [DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                      "--dashboard-address", f"127.0.0.1:{http}"],
        "worker": [DASK, "worker", address, "--host", "127.0.0.1", "--nworkers", "1",
                   "--nthreads", "1", "--memory-limit", "4GB", "--local-directory",
                   str(tmp_path / "dask"), "--dashboard-address", f"127.0.0.1:{worker_http}"],
    }  # fmt: skip
    started: list[subprocess.Popen[bytes]] = []
    logs = []
    try:
        for name, command in commands.items():
            logs.append((tmp_path / f"{name}.log").open("wb"))
            started.append(
                subprocess.Popen(command, cwd=REPO, stdout=logs[-1], stderr=subprocess.STDOUT)
            )
        deadline = time.monotonic() + 60
        while True:  # the scheduler takes a moment to listen
            try:
                with Client(address, timeout="5s") as client:
                    client.wait_for_workers(1, timeout=60)
                break
            except OSError:
                if time.monotonic() > deadline or started[0].poll() is not None:
                    raise
                time.sleep(1)
        yield address, http, worker_http
    finally:
        for process in reversed(started):
            _stop(process)
        for log in logs:
            log.close()


def test_features_on_a_scheduler_and_worker_started_by_hand(
    scheduler: tuple[str, int, int], partitioned_history: Path, tmp_path: Path
):
    address, http, worker_http = scheduler
    # What compose.yaml's health checks ask of the scheduler and the worker
    assert httpx.get(f"http://127.0.0.1:{http}/health").text == "ok"
    assert httpx.get(f"http://127.0.0.1:{worker_http}/health").text == "ok"
    shown = subprocess.run(
        [CLAIMRISK, "features", "--history", str(partitioned_history), "--cluster", address,
         "--out", str(tmp_path / "features")],
        cwd=REPO, capture_output=True, text=True, timeout=600,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "30,000 claims x" in shown.stdout
    assert len(list((tmp_path / "features").glob("part-*.parquet"))) >= 1
