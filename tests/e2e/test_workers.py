"""The real server with one and two workers: a broken model never takes it down, and two
workers give one truth (last batch, metrics, reloads) and log as JSON from both."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import signal
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.claims import EXAMPLE
from tests.e2e.conftest import Server, running_server
from tests.serving.test_faults import truncated_copy

COUNTER = re.compile(r'^claimrisk_requests_total\{route="/v1/claims/score",status="200"\} (\S+)$')


@pytest.fixture(scope="module", params=[1, 2], ids=["1-worker", "2-workers"])
def served(
    request: pytest.FixtureRequest, model_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Path]]:
    folder = tmp_path_factory.mktemp(f"served-{request.param}")
    model = Path(shutil.copytree(model_dir, folder / "model"))
    with running_server(model, folder, workers=request.param) as server:
        yield server, model


def fresh(method: str, url: str, **kwargs: object) -> httpx.Response:
    """One request on a new connection, so the kernel may hand it to either worker."""
    with httpx.Client(timeout=60) as client:
        return client.request(method, url, **kwargs)  # type: ignore[arg-type]


def test_a_truncated_booster_is_refused_and_the_old_model_keeps_serving(served, model_dir):
    server, model = served
    headers = {"X-API-Key": server.key}
    booster = (model / "booster.txt").read_bytes()
    truncated = truncated_copy(model_dir, model.parent / "truncated")
    shutil.copy(truncated / "booster.txt", model / "booster.txt")
    try:
        refused = fresh(
            "POST", f"{server.url}/v1/admin/reload", headers={"X-API-Key": server.admin_key}
        )
        assert refused.status_code == 409, refused.text
        assert "SIGABRT" in refused.json()["detail"] or "SIGSEGV" in refused.json()["detail"]
        for _ in range(10):
            assert (
                fresh(
                    "POST", f"{server.url}/v1/claims/score", json=EXAMPLE, headers=headers
                ).status_code
                == 200
            )
        assert server.process.poll() is None
        assert "died" not in server.logs()
    finally:
        (model / "booster.txt").write_bytes(booster)


@pytest.mark.parametrize("served", [2], indirect=True, ids=["2-workers"])
def test_two_workers_share_the_last_batch_and_their_counters(served, world: Path):
    server, _ = served
    headers = {"X-API-Key": server.key}
    requests = [json.loads(line) for line in (world / "requests.jsonl").read_text().splitlines()]
    for round_ in range(2):
        claims = requests[round_ * 20 : round_ * 20 + 20]
        posted = fresh(
            "POST", f"{server.url}/v1/claims/score-batch", json={"claims": claims}, headers=headers
        )
        assert posted.status_code == 200
        for _ in range(20):
            got = fresh("GET", f"{server.url}/v1/claims/last-batch", headers=headers).json()
            assert [r["claim_id"] for r in got["results"]] == [c["claim_id"] for c in claims]
    seen = []
    for _ in range(12):
        fresh("POST", f"{server.url}/v1/claims/score", json=EXAMPLE, headers=headers)
        text = fresh("GET", f"{server.url}/metrics").text
        seen += [float(m.group(1)) for line in text.splitlines() if (m := COUNTER.match(line))]
    assert len(seen) == 12 and seen == sorted(seen) and seen[-1] >= 12
    lines = [json.loads(line) for line in server.logs().splitlines() if line.startswith("{")]
    audit_pids = {line["pid"] for line in lines if line["logger"] == "claimrisk.audit"}
    assert len(audit_pids) == 2, "both workers' audit lines reach stderr"


def test_sighup_reloads_every_worker(served):
    server, _ = served
    before = server.logs().count("loaded (was")
    workers = int(server.process.args[-1])
    server.process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 90
    while server.logs().count("loaded (was") < before + workers and time.monotonic() < deadline:
        time.sleep(0.5)
    assert server.logs().count("loaded (was") == before + workers
    assert fresh("GET", f"{server.url}/ready").status_code == 200


@pytest.mark.parametrize("served", [2], indirect=True, ids=["2-workers"])
def test_a_quick_resubmission_is_a_duplicate_whichever_process_scores_it(served, world: Path):
    """First copies one call at a time on either worker; their resubmissions one call at a time
    (either worker) and in a batch (the batch process): each process sees the others' claims."""
    server, model = served
    folder, headers = model.parent, {"X-API-Key": server.key}
    lines = (world / "requests.jsonl").read_text().splitlines()[100:130]
    firsts = [json.loads(line) for line in lines]
    for claim in firsts:
        response = fresh("POST", f"{server.url}/v1/claims/score", json=claim, headers=headers)
        assert response.status_code == 200
    wanted = {claim["claim_id"] for claim in firsts}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the workers record in the background
        with sqlite3.connect(folder / "predictions.db") as db:
            recorded = {row[0] for row in db.execute("SELECT claim_id FROM submissions")}
        if wanted <= recorded:
            break
        time.sleep(0.2)
    resent = [
        {**claim, "claim_id": f"{claim['claim_id']}-again", "submission_date": str(
            dt.date.fromisoformat(claim["submission_date"]) + dt.timedelta(days=2))}
        for claim in firsts
    ]  # fmt: skip
    singles = [
        fresh("POST", f"{server.url}/v1/claims/score", json=claim, headers=headers).json()
        for claim in resent[:15]
    ]
    with httpx.Client(timeout=300) as client:  # a first batch loads the model at nice 19
        batch = client.post(
            f"{server.url}/v1/claims/score-batch", json={"claims": resent[15:]}, headers=headers
        ).json()["results"]
    for results in (singles, batch):
        named = [any(r["category"] == "duplicate" for r in s["reasons"] or []) for s in results]
        assert sum(named) >= 0.7 * len(results)
    assert [p.name for p in folder.glob("*digest*")] == ["digest.key"]  # one key for all
    assert (folder / "digest.key").stat().st_mode & 0o777 == 0o600
