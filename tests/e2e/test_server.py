"""The real server: score over HTTP, reload on SIGHUP, logs without PHI."""

from __future__ import annotations

import json
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.claims import EXAMPLE
from tests.e2e.conftest import running_server


def test_score_over_http_with_reasons(server, world: Path):
    requests = [json.loads(line) for line in (world / "requests.jsonl").read_text().splitlines()]
    headers = {"X-API-Key": server.key}
    one = httpx.post(f"{server.url}/v1/claims/score", json=requests[0], headers=headers)
    assert one.status_code == 200 and one.json()["claim_id"] == requests[0]["claim_id"]
    batch = httpx.post(
        f"{server.url}/v1/claims/score-batch",
        json={"claims": requests},
        headers=headers,
        timeout=60,
    )
    assert batch.status_code == 200
    assert any(r["reasons"] for r in batch.json()["results"])
    assert httpx.post(f"{server.url}/v1/claims/score", json=EXAMPLE).status_code == 401
    docs = httpx.get(f"{server.url}/openapi.json").json()
    assert "/v1/claims/score" in docs["paths"] and "/v1/claims/score-batch" in docs["paths"]


def test_sighup_reloads_and_keeps_serving(server):
    headers = {"X-API-Key": server.key}
    before = httpx.get(f"{server.url}/v1/model", headers=headers).json()["loaded_at"]
    time.sleep(1.1)
    server.process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        now = httpx.get(f"{server.url}/v1/model", headers=headers).json()["loaded_at"]
        if now != before:
            break
        time.sleep(0.2)
    assert now != before
    assert (
        httpx.post(f"{server.url}/v1/claims/score", json=EXAMPLE, headers=headers).status_code
        == 200
    )


def test_server_logs_hold_no_phi(server, world: Path):
    requests = [json.loads(line) for line in (world / "requests.jsonl").read_text().splitlines()]
    httpx.post(
        f"{server.url}/v1/claims/score-batch",
        json={"claims": requests[:50]},
        headers={"X-API-Key": server.key},
        timeout=60,
    )
    logs = server.logs()
    assert "model version" in logs
    for request in requests[:50]:
        assert request["member_id"] not in logs
        if request.get("patient_birth_date"):
            assert request["patient_birth_date"] not in logs


def test_claim_statuses_agree_across_two_workers(model_dir: Path, tmp_path: Path):
    """Two uvicorn processes share the queue store: concurrent marks from many connections
    (spread over both workers by the kernel) are all kept, and every connection reads them."""
    wanted = {f"W{i}": ("fixed", "sent_as_is")[i % 2] for i in range(60)}
    with running_server(model_dir, tmp_path, workers=2) as started:
        headers = {"X-API-Key": started.key}

        def mark(item: tuple[str, str]) -> int:
            claim_id, state = item
            url = f"{started.url}/v1/claims/{claim_id}/status"
            return httpx.put(url, json={"status": state}, headers=headers).status_code

        with ThreadPoolExecutor(8) as pool:
            assert set(pool.map(mark, wanted.items())) == {200}
        for _ in range(6):  # a new connection each time
            found = httpx.post(
                f"{started.url}/v1/claims/statuses",
                json={"claim_ids": list(wanted)},
                headers=headers,
            ).json()
            assert {s["claim_id"]: s["status"] for s in found} == wanted
            assert {s["who"] for s in found} == {"e2e"}
    assert '"level": "error"' not in started.logs().lower()
