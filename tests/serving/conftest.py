"""An app around the session's tiny model, with one client key and one admin key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from serving.app import create_app
from serving.keys import KeyStore
from serving.settings import ServeSettings


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    path = tmp_path_factory.mktemp("keys") / "api_keys.json"
    store = KeyStore(path)
    _, client = store.create("pm-system")
    _, admin = store.create("ops", role="admin")
    return path, client, admin


@pytest.fixture()
def settings(model_dir: Path, keys: tuple[Path, str, str], tmp_path: Path) -> ServeSettings:
    return ServeSettings(
        model=str(model_dir),
        api_keys_file=keys[0],
        audit_log=tmp_path / "audit.jsonl",
        prediction_store=tmp_path / "predictions.db",
        queue_store=tmp_path / "queue.db",
        state_file=tmp_path / "state.db",
        batch_processes=0,  # batches in a thread: no process to start per test app
        max_body_bytes=2_000_000,
    )


@pytest.fixture()
def client(settings: ServeSettings, keys: tuple[Path, str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(settings), headers={"X-API-Key": keys[1]}) as test_client:
        yield test_client
