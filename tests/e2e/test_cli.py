"""The CLI as a user runs it: simulate, validate, features, train, promote, score, keys."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pandas as pd
import pyarrow.json as pj
import pyarrow.parquet as pq
import pytest

from tests.e2e.conftest import CLAIMRISK, REPO


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("cli")
    return {
        **os.environ,
        "CLAIMRISK_TRACKING_URI": f"sqlite:///{folder / 'mlflow.db'}",
        "CLAIMRISK_ARTIFACT_ROOT": str(folder / "mlartifacts"),
        "CLAIMRISK_SERVE_API_KEYS_FILE": str(folder / "keys.json"),
        "COLUMNS": "200",
    }


def run(env: dict[str, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [CLAIMRISK, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=600
    )
    if ok:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_simulate_train_promote_score(env, tmp_path: Path):
    world = tmp_path / "world"
    simulated = run(
        env,
        "simulate",
        "--out",
        str(world),
        "--claims",
        "8000",
        "--seed",
        "3",
        "--requests",
        "50",
        "--months",
        "12",
    )
    assert "denial" in simulated.stdout.lower()
    assert "Valid." in run(env, "validate", "--history", str(world / "history")).stdout
    summary = run(env, "features", "--history", str(world / "history")).stdout
    assert "auth_no_valid_auth_rate" in summary and "claims/s" in summary
    overrides = tmp_path / "overrides.csv"  # as `monitor --overrides-out` writes it
    first = pd.read_parquet(world / "history" / "claims.parquet")["claim_id"].iloc[0]
    overrides.write_text(f"claim_id,category,model_version,recorded_at\n{first},coding,0,x\n")
    trained = run(
        env, "train", "--history", str(world / "history"), "--overrides", str(overrides)
    ).stdout
    assert "registered" in trained and "challenger" in trained and "Oracle AUC" in trained
    assert "Billers' overrides" in trained and "coding" in trained
    promoted = run(env, "promote", "--history", str(world / "history")).stdout
    assert "Promoted version 1 to champion" in promoted
    again = run(env, "promote", "--history", str(world / "history"), ok=False)
    assert again.returncode == 1 and "already the champion" in again.stdout
    report = tmp_path / "report.html"
    run(env, "report", "--history", str(world / "history"), "--out", str(report))
    assert report.read_text().lower().startswith("<!doctype html>")
    found = json.loads(run(env, "patterns", "--history", str(world / "history"), "--json").stdout)
    assert found["tested_cells"] > 0 and isinstance(found["alerts"], list)
    scores = tmp_path / "scores.jsonl"
    # 50 lines and a final newline in chunks of 25: the empty third chunk is no error
    run(env, "score", "--input", str(world / "requests.jsonl"), "--output", str(scores),
        "--chunk", "25")  # fmt: skip
    results = [json.loads(line) for line in scores.read_text().splitlines()]
    assert len(results) == 50 and results[0]["model"]["version"] == "1"
    # bad claims in a file are answered in their place, the good ones scored
    requests = (world / "requests.jsonl").read_text().splitlines()
    mixed = tmp_path / "mixed.jsonl"
    no_lines = json.dumps({**json.loads(requests[1]), "lines": []})
    mixed.write_text("\n".join([requests[0], no_lines, "{not json", *requests[2:5]]) + "\n")
    answered = run(env, "score", "--input", str(mixed), "--output", str(scores), "--chunk", "2")
    assert "2 claims not scored" in answered.stdout and "Scored 4 claims" in answered.stdout
    lines = [json.loads(line) for line in scores.read_text().splitlines()]
    assert [("problems" in line) for line in lines] == [False, True, True, False, False, False]
    assert lines[1]["line"] == 2 and lines[1]["problems"][0]["loc"] == ["lines"]
    assert lines[2]["line"] == 3
    assert lines[3]["denial_probability"] == results[2]["denial_probability"]
    exported = tmp_path / "models" / "claimrisk-v1"
    run(env, "export", "--out", str(exported))
    again = run(env, "export", "--out", str(exported), ok=False)
    assert again.returncode == 2 and "already exists" in again.stderr
    early = run(
        env, "train", "--history", str(world / "history"), "--until", "1990-01-01", ok=False
    )
    assert (
        early.returncode == 2 and "Cannot train on the claims known on 1990-01-01" in early.stdout
    )
    run(env, "score", "--input", str(world / "requests.jsonl"), "--output", str(scores),
        "--model", str(exported))  # fmt: skip
    from_folder = [json.loads(line) for line in scores.read_text().splitlines()]
    assert [r["denial_probability"] for r in from_folder] == [
        r["denial_probability"] for r in results
    ]


def test_bad_history_and_bad_requests_get_clear_errors(env, tmp_path: Path):
    missing = run(env, "validate", "--history", str(tmp_path), ok=False)
    assert missing.returncode == 2 and "required table claims" in missing.stdout
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"claim_id": "X"}\n')
    scored = run(
        env,
        "score",
        "--input",
        str(bad),
        "--output",
        str(tmp_path / "out.jsonl"),
        "--model",
        str(tmp_path),
        ok=False,
    )
    assert scored.returncode != 0
    earlier = tmp_path / "earlier.jsonl"
    earlier.write_text("kept\n")
    for args, says in (
        (["--input", str(tmp_path / "missing.jsonl")], "does not exist"),
        (["--input", str(tmp_path)], "is a directory"),
        (["--input", str(bad), "--chunk", "0"], "greater than or equal to 1"),
        (["--input", str(bad), "--reasons", "some"], "'some' is not one of"),
        (["--input", str(bad), "--output", str(tmp_path / "no" / "o.jsonl")], "cannot write into"),
    ):
        refused = run(env, "score", "--output", str(earlier), *args, ok=False)
        assert refused.returncode == 2 and says in refused.stdout + refused.stderr, args
        assert "Traceback" not in refused.stdout + refused.stderr
    failed = run(env, "score", "--input", str(bad), "--output", str(earlier),
                 "--model", str(tmp_path), ok=False)  # fmt: skip
    assert failed.returncode == 2 and earlier.read_text() == "kept\n"
    assert sorted(p.name for p in tmp_path.iterdir() if "earlier" in p.name) == ["earlier.jsonl"]
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("claim_id\nA1\n")
    refused = run(env, "train", "--history", str(tmp_path), "--overrides", str(wrong), ok=False)
    assert refused.returncode == 2 and "missing column" in refused.stdout
    for command in (
        ["train", "--until", "2025/06/30"],
        ["backtest", "--every", "monthly"],
        ["backtest", "--every", "1h"],
    ):
        refused = run(env, *command, "--history", str(tmp_path), ok=False)
        assert refused.returncode == 2 and "Invalid value for '--" in refused.stderr


def test_keys_are_stored_hashed(env):
    created = run(env, "keys", "create", "billing-office").stdout
    key = created.strip().splitlines()[-1]
    assert key.startswith("crk_")
    stored = Path(env["CLAIMRISK_SERVE_API_KEYS_FILE"]).read_text()
    assert key not in stored
    listed = run(env, "keys", "list").stdout
    key_id = listed.split()[0]
    assert "billing-office" in listed
    assert f"revoked {key_id}" in run(env, "keys", "revoke", key_id).stdout


def test_features_and_score_on_a_cluster(env, dask_client, partitioned_history: Path,
                                         model_dir: Path, world: Path, tmp_path: Path):  # fmt: skip
    address = dask_client.scheduler.address
    out = tmp_path / "features"
    shown = run(env, "features", "--history", str(partitioned_history), "--cluster", address,
                "--out", str(out))  # fmt: skip
    assert "30,000 claims x" in shown.stdout
    assert len(pd.read_parquet(out)) == 30_000

    requests = tmp_path / "requests"
    requests.mkdir()
    pq.write_table(pj.read_json(world / "requests.jsonl"), requests / "part-0.parquet")
    scored = run(env, "score", "--input", str(requests), "--output", str(tmp_path / "scores"),
                 "--model", str(model_dir), "--cluster", address)  # fmt: skip
    assert "Scored 300 claims in 1 file(s)" in scored.stdout
    scores = pd.read_parquet(tmp_path / "scores")
    assert scores["score"].notna().all() and scores["problem"].isna().all()

    missing = run(env, "score", "--input", str(tmp_path / "none"), "--output",
                  str(tmp_path / "s2"), "--model", str(model_dir), "--cluster", address,
                  ok=False)  # fmt: skip
    assert missing.returncode == 2 and "no Parquet file" in missing.stdout

    backtested = run(env, "backtest", "--history", str(partitioned_history), "--every", "4M",
                     "--cluster", address)  # fmt: skip
    assert (
        "roc_auc" in backtested.stdout and "Weeks until the model learned it" in backtested.stdout
    )
