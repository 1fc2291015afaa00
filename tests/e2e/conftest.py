"""A real uvicorn server started by the tests, on a free loopback port."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from serving.keys import KeyStore

REPO = Path(__file__).parents[2]
CLAIMRISK = str(Path(sys.executable).parent / "claimrisk")


@dataclass
class Server:
    url: str
    key: str
    admin_key: str
    process: subprocess.Popen[str]
    log: Path

    def logs(self) -> str:
        return self.log.read_text()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_server(model: Path, folder: Path, workers: int = 1) -> Iterator[Server]:
    """``claimrisk serve`` on a free port with its own keys, audit log, stores; stopped after."""
    keys = KeyStore(folder / "api_keys.json")
    _, key = keys.create("e2e")
    _, admin = keys.create("e2e-admin", role="admin")
    port = free_port()
    log = folder / "server.log"
    env = {
        **os.environ,
        "CLAIMRISK_SERVE_API_KEYS_FILE": str(folder / "api_keys.json"),
        "CLAIMRISK_SERVE_AUDIT_LOG": str(folder / "audit.jsonl"),
        "CLAIMRISK_SERVE_PREDICTION_STORE": str(folder / "predictions.db"),
        "CLAIMRISK_SERVE_QUEUE_STORE": str(folder / "queue.db"),
        "CLAIMRISK_SERVE_STATE_FILE": str(folder / "state.db"),
    }
    command = [CLAIMRISK, "serve", "--model", str(model), "--port", str(port)]
    with log.open("w") as out:
        process = subprocess.Popen(
            [*command, "--workers", str(workers)],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None:
                raise RuntimeError(f"server exited:\n{log.read_text()}")
            time.sleep(0.3)
        else:
            raise RuntimeError(f"server not ready in 120 s:\n{log.read_text()}")
        yield Server(url, key, admin, process, log)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def server(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(model_dir, tmp_path_factory.mktemp("server")) as running:
        yield running


@pytest.fixture(scope="session")
def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("Chromium is not installed: `make test` installs Debian's chromium package")
    return path
