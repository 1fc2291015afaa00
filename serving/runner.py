"""Run the API under uvicorn as ``claimrisk serve`` does: JSON logs from every worker, one
Prometheus view of all workers, and SIGHUP passed on to every worker.

With ``workers > 1`` uvicorn's supervisor would answer SIGHUP by replacing every worker,
which loads the model afresh and, with a broken model, leaves none serving. Here SIGHUP is
forwarded to the workers instead, and each reloads in place (a refused model changes
nothing). Metrics use prometheus_client's multiprocess mode in a folder wiped at start.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from pathlib import Path

import uvicorn
from uvicorn.supervisors import Multiprocess

from serving.logs import log_config
from serving.metrics import MULTIPROC_ENV


class Supervisor(Multiprocess):
    def handle_hup(self) -> None:
        for worker in self.processes:
            if worker.pid is not None:
                os.kill(worker.pid, signal.SIGHUP)


def _metrics_folder() -> Path | None:
    """The multiprocess metrics folder (the one given, emptied, or a new one to remove)."""
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        folder = Path(given)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):  # counters of an earlier run
            stale.unlink()
        return None
    folder = Path(tempfile.mkdtemp(prefix="claimrisk-metrics-"))
    os.environ[MULTIPROC_ENV] = str(folder)
    return folder


def run(host: str, port: int, workers: int) -> None:
    config = uvicorn.Config(
        "serving.main:app",
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        log_config=log_config(),
        access_log=False,
        timeout_graceful_shutdown=20,
        # A worker imports pandas, LightGBM and the app before it answers the supervisor's
        # ping; on a busy 2-core machine that took more than uvicorn's 5 s, and the
        # supervisor killed and replaced workers that were only starting.
        timeout_worker_healthcheck=60,
    )
    if workers == 1:
        server = uvicorn.Server(config)
        server.run()
        if not server.started:
            raise SystemExit(3)  # uvicorn's start-up failure code
        return
    created = _metrics_folder()
    try:
        Supervisor(config, sockets=[config.bind_socket()]).run()
    finally:
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)
