"""Serving speed: model shape vs TreeSHAP cost, one claim in-process, 10k batches, and HTTP.

Run: python -m benchmarks.serving [--claims 200000] [--http-seconds 10] (0: no HTTP part)
Figures are medians over repeated calls on this machine; nothing here is asserted.
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
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import lightgbm as lgb
import numpy as np
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

from features.contract import ClaimIn
from features.history import load_history
from scoring import treeshap
from scoring.artifact import ClaimRiskModel
from scoring.scorer import Scorer
from serving.keys import KeyStore
from simulator import simulate
from training.dataset import build_dataset, time_split
from training.model import fit_booster, params_for
from training.train import train

SHAPES = {
    "unconstrained (63 leaves, no depth limit, lr 0.05)": {
        "num_leaves": 63,
        "max_depth": -1,
        "learning_rate": 0.05,
    },
    "default (15 leaves, depth 6, lr 0.08)": {},
    "small (7 leaves, depth 4, lr 0.1)": {"num_leaves": 7, "max_depth": 4, "learning_rate": 0.1},
}


BATCH, ROUNDS = 10_000, 5


def median_ms(function, repeat: int = 2000) -> float:  # type: ignore[no-untyped-def]
    for _ in range(50):
        function()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return float(np.median(times) * 1000)


def shapes(history) -> None:  # type: ignore[no-untyped-def]
    dataset = build_dataset(history)
    split = time_split(dataset)
    names = dataset.features.columns.tolist()
    x_train, y_train = dataset.rows(split.masks["train"])
    x_valid, y_valid = dataset.rows(split.masks["validation"])
    x_test, y_test = dataset.rows(split.masks["test"])
    print("\nModel shape: test AUC and exact TreeSHAP on one row (pred_contrib; tables, as scored)")
    for label, overrides in SHAPES.items():
        params = params_for(len(y_train), {**overrides, "num_threads": 1})
        booster = fit_booster(x_train, y_train, x_valid, y_valid, names, params)
        auc = roc_auc_score(y_test, booster.predict(x_test))
        row = x_test[:1]
        contrib = median_ms(lambda b=booster, r=row: b.predict(r, pred_contrib=True), 1000)
        tables = median_ms(lambda b=booster, r=row: treeshap.contributions(b, r, 1), 1000)
        proba = median_ms(lambda b=booster, r=row: b.predict(r), 1000)
        print(
            f"  {label:52s} AUC {auc:.4f}  trees {booster.num_trees():4d}  "
            f"pred_contrib {contrib:.3f} ms  from tables {tables:.3f} ms  predict {proba:.3f} ms"
        )


def in_process(scorer: Scorer, requests: list[ClaimIn]) -> None:
    model = scorer.model
    one = requests[0]
    x = model.request_matrix([one])
    contrib = median_ms(lambda: model.contributions(x))
    features = median_ms(lambda: model.request_matrix([one]))
    risky = max(requests[:300], key=lambda r: scorer.probabilities([r])[0])
    full = median_ms(lambda: scorer.score([risky]), 500)
    each = []
    for claim in requests[:300]:
        scorer.score([claim])
        started = time.perf_counter()
        scorer.score([claim])
        each.append(time.perf_counter() - started)
    typical = float(np.median(each) * 1000)
    probability = median_ms(lambda: scorer.probabilities([one]))
    print("\nOne claim in-process (median)")
    print(
        f"  exact TreeSHAP alone {contrib:.3f} ms; features {features:.3f} ms; "
        f"probability with features {probability:.3f} ms"
    )
    print(
        f"  riskiest of 300, with reasons, evidence and what-if: {full:.3f} ms = "
        f"{full / contrib:.2f}x TreeSHAP; median over 300 claims {typical:.3f} ms = "
        f"{typical / contrib:.2f}x"
    )
    batch = (requests * (BATCH // len(requests) + 1))[:BATCH]
    distinct = min(len(requests), BATCH)
    print(f"\n{BATCH:,}-claim batch ({distinct:,} distinct claims), median of {ROUNDS} runs")
    print(f"  {'':44s} {'claims/s':>10s} {'per CPU-second':>15s}")
    for label, run in (
        ("probabilities (features included)", lambda: scorer.probabilities(batch)),
        ("reasons for every claim", lambda: scorer.score(batch, explain="all")),
        ("reasons for medium and high band", lambda: scorer.score(batch, explain="medium")),
        ("reasons for high band", lambda: scorer.score(batch, explain="high")),
    ):
        print("  {:44s} {:10,.0f} {:15,.0f}".format(label, *per_second(run)))
    with one_core():
        label = "reasons for every claim, ONE CORE"
        print(
            "  {:44s} {:10,.0f} {:15,.0f}".format(label, *per_second(lambda: scorer.score(batch)))
        )
        booster = model.booster
        if isinstance(booster, lgb.Booster):
            x_batch = model.request_matrix(batch)
            row_by_row, _ = per_second(
                lambda: booster.predict(x_batch, pred_contrib=True, num_threads=1), 1
            )
            tables, _ = per_second(lambda: model.contributions(x_batch))
            print(
                f"  exact TreeSHAP alone, one core: pred_contrib of every row {row_by_row:,.0f} "
                f"claims/s; from per-leaf tables (as scored) {tables:,.0f} claims/s"
            )


@contextmanager
def one_core() -> Iterator[None]:
    """All work on one core: LightGBM's OpenMP and BLAS held to one thread, and this thread
    pinned to one CPU."""
    cpus = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cpus)})
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        os.sched_setaffinity(0, cpus)


def per_second(run: Callable[[], object], rounds: int = ROUNDS) -> tuple[float, float]:
    """A batch's claims per second of wall time and per second of CPU time (every thread of
    the process), medians over ``rounds`` runs."""
    run()
    wall, cpu = [], []
    for _ in range(rounds):
        started, cpu_started = time.perf_counter(), time.process_time()
        run()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    return BATCH / float(np.median(wall)), BATCH / float(np.median(cpu))


WORKERS = 2


def _wrk_script(folder: Path, key: str, requests: list[ClaimIn]) -> Path:
    bodies = [r.model_dump_json() for r in requests[:100]]
    script = folder / "post.lua"
    script.write_text(  # cycles through 100 different claims
        f"bodies = {{{', '.join(json.dumps(b) for b in bodies)}}}\n"
        "i = 0\n"
        f'headers = {{["Content-Type"] = "application/json", ["X-API-Key"] = "{key}"}}\n'
        "request = function()\n"
        "  i = i % #bodies + 1\n"
        '  return wrk.format("POST", "/v1/claims/score", headers, bodies[i])\n'
        "end\n"
    )
    return script


def _connections_per_worker(port: int) -> str:
    """How the kernel split the load generator's connections between the workers (``ss``)."""
    if shutil.which("ss") is None:
        return "?"
    out = subprocess.run(
        ["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
        capture_output=True,
        text=True,
    ).stdout
    pids = [part.split(",")[0] for part in out.split("pid=")[1:]]
    return "/".join(str(pids.count(pid)) for pid in sorted(set(pids))) or "?"


def _wrk(wrk: str, script: Path, port: int, connections: int, seconds: int) -> tuple[str, float]:
    """One wrk run: its figures in a line, and its p99 in ms."""
    command = [wrk, "-t", str(min(connections, 2)), "-c", str(connections), "-d", f"{seconds}s"]
    command += ["--latency", "-s", str(script), f"http://127.0.0.1:{port}/v1/claims/score"]
    run = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    time.sleep(min(2, seconds / 2))
    split = _connections_per_worker(port)
    out, _ = run.communicate(timeout=seconds + 30)
    wanted = ("50%", "99%", "Requests/sec", "Non-2xx")
    figures = [ln.strip() for ln in out.splitlines() if ln.strip().startswith(wanted)]
    p99 = next((_ms(f.split()[1]) for f in figures if f.startswith("99%")), float("nan"))
    line = f"connections per worker {split}: " + "; ".join(" ".join(f.split()) for f in figures)
    return line, p99


def _ms(duration: str) -> float:
    """wrk's '812.00us', '12.34ms' or '1.02s' in milliseconds."""
    for unit, scale in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if duration.endswith(unit):
            return float(duration.removesuffix(unit)) * scale
    raise ValueError(f"not a wrk duration: {duration}")


def http(model_dir: Path, requests: list[ClaimIn], seconds: int, rounds: int) -> None:
    """Closed-loop load (wrk keeps c requests in flight) on a real uvicorn with 2 workers.

    The kernel hands each of wrk's keep-alive connections to one worker for good, and at
    c=8 the split is often uneven (5/3, 6/2, now and then 8/0), which moves the p99 by a few
    ms. Each round starts new connections, so the rounds show the spread."""
    wrk = shutil.which("wrk")
    if wrk is None:
        print("\nHTTP: wrk not installed (apt-get install wrk); skipped")
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _, key = KeyStore(folder / "keys.json").create("bench")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        env = {
            **os.environ,
            "CLAIMRISK_SERVE_API_KEYS_FILE": str(folder / "keys.json"),
            "CLAIMRISK_SERVE_PREDICTION_STORE": str(folder / "predictions.db"),
            "CLAIMRISK_SERVE_QUEUE_STORE": str(folder / "queue.db"),
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
            for _ in range(300):  # every worker, not just the first, has loaded the model
                if log.read_text().count("Application startup complete") >= WORKERS:
                    break
                time.sleep(0.2)
            script = _wrk_script(folder, key, requests)
            _wrk(wrk, script, port, 8, 3)  # warm-up
            print(f"\nHTTP, POST /v1/claims/score on loopback (uvicorn, {WORKERS} workers, uvloop)")
            print(f"  concurrency 1: {_wrk(wrk, script, port, 1, seconds)[0]}")
            p99s = []
            for round_ in range(rounds):
                line, p99 = _wrk(wrk, script, port, 8, seconds)
                p99s.append(p99)
                print(f"  concurrency 8, round {round_ + 1}: {line}")
            print(
                f"  concurrency 8, p99 over {rounds} rounds: median {np.median(p99s):.2f} ms, "
                f"worst {max(p99s):.2f} ms; {sum(p < 15 for p in p99s)} rounds under 15 ms"
            )
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--claims", type=int, default=200_000)
    parser.add_argument("--http-seconds", type=int, default=10)
    parser.add_argument("--http-rounds", type=int, default=5)
    parser.add_argument("--model", type=Path, help="a saved model folder: skip simulate+train")
    parser.add_argument("--requests", type=Path, help="claim requests (JSONL), with --model")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        model_dir, requests_file = args.model, args.requests
        if model_dir is None or requests_file is None:
            simulate(folder, args.claims, seed=21, requests=BATCH)
            history = load_history(folder / "history")
            shapes(history)
            model_dir = train(history).model.save(folder / "model")
            requests_file = folder / "requests.jsonl"
        scorer = Scorer(ClaimRiskModel.load(model_dir), "bench", str(model_dir))
        requests = [
            ClaimIn.model_validate_json(line) for line in requests_file.read_text().splitlines()
        ]
        in_process(scorer, requests)
        if args.http_seconds > 0:
            http(model_dir, requests, args.http_seconds, args.http_rounds)


if __name__ == "__main__":
    main()
