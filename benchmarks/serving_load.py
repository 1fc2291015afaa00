"""Single claims while 10k-claim batches are posted: do batches starve single claims?

Starts ``claimrisk serve --workers 2`` on a model folder, then measures POST
/v1/claims/score at concurrency 8 with ``wrk`` (needs the ``wrk`` program: ``apt-get install
wrk``), first alone, then while two clients post 10,000-claim batches back to back; and
/health latency during the batches. Medians of repeated rounds; nothing is asserted.

Run: python -m benchmarks.serving_load [--model DIR --requests FILE] [--seconds 10] [--rounds 3]
Without --model it simulates a small world and trains a model first (a few minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

from benchmarks.serving import _wrk, _wrk_script
from features.contract import ClaimIn
from features.history import load_history
from serving.keys import KeyStore
from simulator import simulate
from training.train import train

WORKERS = 2
BATCH = 10_000


def _batch(requests: list[ClaimIn]) -> bytes:
    claims = []
    for i in range(BATCH):
        claim = json.loads(requests[i % len(requests)].model_dump_json())
        claim["claim_id"] = f"{claim['claim_id']}-{i}"
        claims.append(claim)
    return json.dumps({"claims": claims}).encode()


class Batches:
    """Clients posting 10k batches back to back until stopped; counts and times them."""

    def __init__(self, url: str, key: str, body: bytes, clients: int = 2) -> None:
        self.url, self.key, self.body = url, key, body
        self.stop = threading.Event()
        self.seconds: list[float] = []
        self.statuses: list[int] = []
        self.threads = [threading.Thread(target=self._post) for _ in range(clients)]

    def _post(self) -> None:
        headers = {"X-API-Key": self.key, "content-type": "application/json"}
        with httpx.Client(timeout=300) as client:
            while not self.stop.is_set():
                started = time.perf_counter()
                answer = client.post(
                    f"{self.url}/v1/claims/score-batch", content=self.body, headers=headers
                )
                self.statuses.append(answer.status_code)
                self.seconds.append(time.perf_counter() - started)

    def __enter__(self) -> Batches:
        for thread in self.threads:
            thread.start()
        time.sleep(3)  # the first batches are being parsed and scored
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()


def _round(wrk: str, script: Path, port: int, seconds: int) -> tuple[str, float]:
    """One wrk round at concurrency 8; a round in which no call completed has p99 infinity
    (wrk reports 0.00us then)."""
    line, p99 = _wrk(wrk, script, port, 8, seconds)
    return line, p99 if p99 > 0 else float("inf")


def _health_p99(url: str, seconds: float) -> tuple[float, float]:
    """p50 and p99 of GET /health, one request every 20 ms on one connection, in ms."""
    times = []
    deadline = time.monotonic() + seconds
    with httpx.Client(timeout=30) as client:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            client.get(f"{url}/health")
            times.append(time.perf_counter() - started)
            time.sleep(0.02)
    return float(np.percentile(times, 50) * 1000), float(np.percentile(times, 99) * 1000)


def run(model_dir: Path, requests: list[ClaimIn], seconds: int, rounds: int) -> None:
    wrk = shutil.which("wrk")
    if wrk is None:
        print("needs wrk (apt-get install wrk); nothing measured")
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _, key = KeyStore(folder / "keys.json").create("bench")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "CLAIMRISK_SERVE_API_KEYS_FILE": str(folder / "keys.json"),
            "CLAIMRISK_SERVE_PREDICTION_STORE": str(folder / "predictions.db"),
            "CLAIMRISK_SERVE_STATE_FILE": str(folder / "state.db"),
        }
        claimrisk = str(Path(sys.executable).parent / "claimrisk")
        log = folder / "server.log"
        command = [claimrisk, "serve", "--model", str(model_dir), "--port", str(port)]
        with log.open("w") as server_log:
            server = subprocess.Popen(
                [*command, "--workers", str(WORKERS)],
                env=env,
                stdout=server_log,
                stderr=subprocess.STDOUT,
            )
        try:
            for _ in range(600):
                if log.read_text().count("Application startup complete") >= WORKERS:
                    break
                time.sleep(0.2)
            time.sleep(10)  # the batch processes import and load the model
            script = _wrk_script(folder, key, requests)
            _wrk(wrk, script, port, 8, 3)  # warm-up
            print(f"POST /v1/claims/score at concurrency 8, {WORKERS} workers, {seconds} s rounds")
            alone = []
            for round_ in range(rounds):
                line, p99 = _round(wrk, script, port, seconds)
                alone.append(p99)
                print(f"  alone, round {round_ + 1}: {line}")
            body = _batch(requests)
            busy = []
            with Batches(url, key, body) as batches:
                for round_ in range(rounds):
                    line, p99 = _round(wrk, script, port, seconds)
                    busy.append(p99)
                    print(f"  with 10k batches, round {round_ + 1}: {line}")
                health = _health_p99(url, seconds)
            done = len(batches.seconds)
            print(
                f"  p99 median over rounds: alone {np.median(alone):.2f} ms, "
                f"with batches {np.median(busy):.2f} ms (target <= 25 ms)"
            )
            print(f"  /health during batches: p50 {health[0]:.2f} ms, p99 {health[1]:.2f} ms")
            if done:
                print(
                    f"  batches: {done} of {BATCH:,} claims, median "
                    f"{np.median(batches.seconds):.1f} s each, "
                    f"statuses {sorted(set(batches.statuses))}"
                )
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, help="a saved model folder: skip simulate+train")
    parser.add_argument("--requests", type=Path, help="claim requests (JSONL), with --model")
    parser.add_argument("--claims", type=int, default=50_000, help="world size without --model")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        model_dir, requests_file = args.model, args.requests
        if model_dir is None or requests_file is None:
            simulate(folder, args.claims, seed=21, requests=2000)
            model_dir = train(load_history(folder / "history")).model.save(folder / "model")
            requests_file = folder / "requests.jsonl"
        requests = [
            ClaimIn.model_validate_json(line) for line in requests_file.read_text().splitlines()
        ]
        run(model_dir, requests, args.seconds, args.rounds)


if __name__ == "__main__":
    main()
