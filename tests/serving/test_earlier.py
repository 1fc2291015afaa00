"""Claims scored before count as earlier submissions: a quick resubmission sent in a call of
its own is a duplicate, whichever worker, process or restart scored its first copy; a claim
scored again under its own claim id is not; the store holds keyed digests, never the patient."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from serving.app import create_app
from serving.digest_key import DigestKeyError, digest, load_key
from serving.predictions import PredictionStore, SubmissionReader
from serving.settings import ServeSettings

FIRST = 20  # first copies sent one call at a time


@pytest.fixture(scope="module")
def firsts(world: Path) -> list[dict[str, Any]]:
    lines = (world / "requests.jsonl").read_text().splitlines()[:FIRST]
    return [json.loads(line) for line in lines]


def again(claim: dict[str, Any], days: int = 2, suffix: str = "-again") -> dict[str, Any]:
    """The same encounter sent again as a new original ``days`` later."""
    submitted = dt.date.fromisoformat(claim["submission_date"]) + dt.timedelta(days=days)
    return {
        **claim,
        "claim_id": claim["claim_id"] + suffix,
        "submission_date": submitted.isoformat(),
    }


def duplicate_reason(result: dict[str, Any]) -> dict[str, Any] | None:
    return next((r for r in result["reasons"] or [] if r["category"] == "duplicate"), None)


def score_each(client: TestClient, claims: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One call per claim, then wait until the worker has recorded them."""
    results = []
    for claim in claims:
        response = client.post("/v1/claims/score", json=claim)
        assert response.status_code == 200, response.text
        results.append(response.json())
    flush(client)
    return results


def flush(client: TestClient) -> None:
    writer = client.app.state.services.predictions  # type: ignore[attr-defined]
    writer.flush()


def app(settings: ServeSettings, keys: tuple[Path, str, str], **changes: Any) -> TestClient:
    changed = settings.model_copy(update=changes)
    return TestClient(create_app(changed), headers={"X-API-Key": keys[1]})


@pytest.fixture()
def forgetful(settings, keys) -> Iterator[TestClient]:
    """The service as it was: claims scored before are not looked up."""
    with app(settings, keys, remember_scored=False) as client:
        yield client


# --- pure: the key and the store --------------------------------------------------------------


def test_a_digest_is_stable_for_its_key_and_differs_across_keys():
    one, other = bytes(range(32)), bytes(range(1, 33))
    assert digest(one, 12345) == digest(one, 12345)
    assert digest(one, 12345) != digest(one, 12346)
    assert digest(one, 12345) != digest(other, 12345)
    assert len(digest(one, 2**64 - 1)) == 32


def test_the_default_key_file_is_created_once_privately_and_kept(tmp_path, caplog):
    path = tmp_path / "state" / "digest.key"
    with caplog.at_level(logging.INFO, logger="claimrisk.serving"):
        key = load_key(path, create=True)
    assert len(key) == 32 and path.stat().st_mode & 0o777 == 0o600
    assert load_key(path, create=True) == key == load_key(path, create=False)
    assert str(path) in caplog.text and key.hex() not in caplog.text
    assert [p.name for p in path.parent.iterdir()] == ["digest.key"]  # no temporary left


def test_a_named_key_file_must_exist_and_hold_a_key(tmp_path, caplog):
    with pytest.raises(DigestKeyError, match="no such digest key file"):
        load_key(tmp_path / "missing.key", create=False)
    short = tmp_path / "short.key"
    short.write_text("abc123\n")
    with pytest.raises(DigestKeyError, match="not a digest key") as refused:
        load_key(short, create=False)
    assert "abc123" not in str(refused.value)
    shared = tmp_path / "shared.key"
    shared.write_text("ab" * 32)
    os.chmod(shared, 0o644)
    with caplog.at_level(logging.WARNING, logger="claimrisk.serving"):
        assert load_key(shared, create=False) == bytes([0xAB]) * 32
    assert "chmod 600" in caplog.text


def test_the_store_keeps_each_claim_ids_latest_lines_and_prunes_old_ones(tmp_path):
    path = tmp_path / "predictions.db"
    reader = SubmissionReader(path)
    assert reader.find([b"x"]) == []  # no store yet: nothing to find, nothing created
    assert not path.exists()
    with PredictionStore(path) as store:
        store.write([], [("A", b"d1", "2026-01-10"), ("A", b"d2", "2026-01-10")])
        store.write([], [("B", b"d1", "2026-01-12")])
        assert sorted(reader.find([b"d1", b"d2"])) == [
            ("A", b"d1", "2026-01-10"),
            ("A", b"d2", "2026-01-10"),
            ("B", b"d1", "2026-01-12"),
        ]
        store.write([], [("A", b"d3", "2026-01-11")])  # A checked again, its code fixed
        assert sorted(reader.find([b"d1", b"d2", b"d3"])) == [
            ("A", b"d3", "2026-01-11"),
            ("B", b"d1", "2026-01-12"),
        ]
        assert store.prune_submissions(1, today=dt.date(2030, 1, 1)) == 1
        assert reader.find([b"d1", b"d3"]) == [("B", b"d1", "2026-01-12")]
        # a mistyped date in the future does not sweep the others away
        store.write([], [("C", b"d4", "2099-01-01")])
        assert store.prune_submissions(30, today=dt.date(2026, 2, 1)) == 0
    reader.close()


# --- API: one call at a time ----------------------------------------------------------------


def test_a_quick_resubmission_is_a_duplicate_of_the_claim_scored_before(client, forgetful, firsts):
    resent = [again(c) for c in firsts]
    score_each(forgetful, firsts)
    before = score_each(forgetful, resent)
    score_each(client, firsts)
    after = score_each(client, resent)
    flagged = [duplicate_reason(r) for r in after]
    assert not any(duplicate_reason(r) for r in before)
    assert sum(r is not None for r in flagged) >= 0.7 * FIRST
    for first, reason in zip(firsts, flagged, strict=True):
        if reason is not None:
            said = " ".join(reason["evidence"])
            assert f"for submission on {first['submission_date']}, 2 days before" in said
            assert reason["what_if"]["fix"].startswith("sent as a corrected claim")
    raised = [
        a["denial_probability"] > b["denial_probability"]
        for a, b in zip(after, before, strict=True)
    ]
    assert sum(raised) >= 0.7 * FIRST


def test_a_claim_scored_again_is_not_its_own_duplicate(client, forgetful, firsts):
    claims = firsts[:8]
    first = score_each(client, claims)
    assert score_each(client, claims) == first  # a retried request: the same answer
    later = [again(c, days=3, suffix="") for c in claims]  # held, checked again, same id
    assert score_each(client, later) == score_each(forgetful, later)
    store = client.app.state.services.settings.prediction_store
    with sqlite3.connect(store) as db:
        lines = db.execute(
            "SELECT claim_id, COUNT(*), MIN(submitted_on) FROM submissions GROUP BY claim_id"
        ).fetchall()
    assert {claim_id for claim_id, _, _ in lines} == {c["claim_id"] for c in claims}
    by_id = {claim_id: (n, on) for claim_id, n, on in lines}
    for claim in later:  # the latest check's lines only
        assert by_id[claim["claim_id"]] == (len(claim["lines"]), claim["submission_date"])


def test_batches_and_single_calls_see_each_others_claims(client, firsts):
    half = FIRST // 2
    batch = client.post("/v1/claims/score-batch", json={"claims": firsts[:half]})
    assert batch.status_code == 200
    single = score_each(client, [again(c) for c in firsts[:half]])
    assert sum(duplicate_reason(r) is not None for r in single) >= 0.7 * half
    score_each(client, firsts[half:])
    resent = {"claims": [again(c) for c in firsts[half:]]}
    results = client.post("/v1/claims/score-batch", json=resent).json()["results"]
    assert sum(duplicate_reason(r) is not None for r in results) >= 0.7 * half


def test_another_worker_and_a_restart_see_the_first_ones_claims(settings, keys, firsts):
    """Two apps on one store are two workers; a new app on the same files is a restart."""
    resent = [again(c) for c in firsts]
    with app(settings, keys) as one, app(settings, keys) as two:
        score_each(one, firsts[:10])
        seen = score_each(two, resent[:10])
    assert sum(duplicate_reason(r) is not None for r in seen) >= 7
    key_file = settings.prediction_store.parent / "digest.key"
    key = key_file.read_text()
    with app(settings, keys) as restarted:
        assert score_each(restarted, resent[:10]) == seen
        score_each(restarted, firsts[10:])
    assert key_file.read_text() == key
    key_file.write_text("cd" * 32)  # a new key: what the old one digested cannot be found
    with app(settings, keys) as rekeyed:
        assert not any(duplicate_reason(r) for r in score_each(rekeyed, resent[10:]))
    store = settings.prediction_store
    stored = b"".join(p.read_bytes() for p in (store, Path(f"{store}-wal")) if p.exists())
    assert b"".join(c["claim_id"].encode() for c in firsts[:1]) in stored  # the rows are here
    with sqlite3.connect(settings.prediction_store) as db:
        assert db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] >= 2 * FIRST
    for claim in firsts:
        for phi in (claim["member_id"], claim["patient_id"], claim["patient_birth_date"]):
            assert phi is None or phi.encode() not in stored


def test_a_named_key_file_that_is_missing_leaves_the_check_off_not_the_service(
    settings, keys, firsts, tmp_path, caplog
):
    missing = tmp_path / "secrets" / "digest.key"
    with (
        caplog.at_level(logging.ERROR, logger="claimrisk.serving"),
        app(settings, keys, digest_key_file=missing) as client,
    ):
        score_each(client, firsts[:5])
        resent = score_each(client, [again(c) for c in firsts[:5]])
        assert not any(duplicate_reason(r) for r in resent)
    assert "no such digest key file" in caplog.text and not missing.exists()
