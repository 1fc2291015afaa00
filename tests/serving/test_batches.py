"""Batches run in a low-priority process, give what scoring in-process gives, and queue
with a limit."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import serving.batches
from serving.app import create_app
from serving.batches import BatchesBusy, BatchJob, BatchRunner
from serving.settings import ServeSettings


def job(body: bytes = b"{}") -> BatchJob:
    return BatchJob(body, "batch", "all", "k", None, "1", "test", "state.db", None)


def test_a_batch_scored_in_the_batch_process_is_what_a_thread_gives(
    settings: ServeSettings, keys, world: Path
):
    claims = [json.loads(line) for line in (world / "requests.jsonl").read_text().splitlines()]
    body = {"claims": claims[:40], "reasons": "all"}
    answers = []
    for processes in (0, 1):
        app = create_app(settings.model_copy(update={"batch_processes": processes}))
        with TestClient(app, headers={"X-API-Key": keys[1]}) as client:
            answer = client.post("/v1/claims/score-batch", json=body)
            assert answer.status_code == 200
            answers.append(answer.json())
            assert client.get("/v1/claims/last-batch").json() == answer.json()
            unread = client.post("/v1/claims/score-batch", json={"claims": [{"claim_id": 1}]})
            assert unread.status_code == 200  # the claim is answered in its place
            problems = unread.json()["results"][0]["problems"]
            assert ["claim_id"] in [p["loc"] for p in problems]
            bad = client.post("/v1/claims/score-batch", json={"claims": "not a list"})
            assert bad.status_code == 422
            assert ["body", "claims"] in [e["loc"] for e in bad.json()["errors"]]
            if processes:
                pool = app.state.services.batches._pool()
                pid = pool.submit(os.getpid).result()
                assert pid != os.getpid()
                assert pool.submit(os.nice, 0).result() == 19  # the lowest CPU priority
    assert answers[0]["results"] == answers[1]["results"]


def test_batches_beyond_the_limit_get_busy(monkeypatch):
    release = threading.Event()
    monkeypatch.setattr(serving.batches, "run_job", lambda job, scorer=None: release.wait(30))

    async def scenario() -> None:
        runner = BatchRunner(processes=0, max_waiting=1)
        first = asyncio.ensure_future(runner.run(job(), None))  # type: ignore[arg-type]
        second = asyncio.ensure_future(runner.run(job(), None))  # type: ignore[arg-type]
        await asyncio.sleep(0.05)
        with pytest.raises(BatchesBusy):
            await runner.run(job(), None)  # type: ignore[arg-type]
        release.set()
        await asyncio.gather(first, second)
        await runner.run(job(), None)  # type: ignore[arg-type]  # room again
        runner.close()

    asyncio.run(scenario())
