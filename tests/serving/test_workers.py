"""Two apps on one state file behave as two workers of one server: one truth."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from serving.app import create_app
from serving.settings import ServeSettings
from tests.claims import EXAMPLE, claim_json


@pytest.fixture()
def workers(settings: ServeSettings, keys) -> Iterator[tuple[TestClient, TestClient]]:
    fast = settings.model_copy(update={"reload_poll_seconds": 0.1})
    headers = {"X-API-Key": keys[1]}
    with (
        TestClient(create_app(fast), headers=headers) as one,
        TestClient(create_app(fast), headers=headers) as two,
    ):
        yield one, two


def test_the_last_batch_is_the_same_whichever_worker_answers(workers):
    one, two = workers
    for round_ in range(3):
        claims = [claim_json(claim_id=f"R{round_}-{i}") for i in range(3)]
        scorer = (one, two)[round_ % 2]
        assert scorer.post("/v1/claims/score-batch", json={"claims": claims}).status_code == 200
        for reader in (one, two):
            got = reader.get("/v1/claims/last-batch").json()
            assert [r["claim_id"] for r in got["results"]] == [c["claim_id"] for c in claims]


def test_an_admin_reload_reaches_every_worker(workers, keys):
    one, two = workers
    before = two.get("/v1/model").json()["loaded_at"]
    time.sleep(1.1)  # loaded_at has whole seconds
    assert one.post("/v1/admin/reload", headers={"X-API-Key": keys[2]}).status_code == 200
    deadline = time.monotonic() + 60
    while two.get("/v1/model").json()["loaded_at"] == before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert two.get("/v1/model").json()["loaded_at"] != before
    assert two.post("/v1/claims/score", json=EXAMPLE).status_code == 200
