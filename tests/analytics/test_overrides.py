"""A biller's override, round trip: the API stores it with the prediction, `monitor` shows it
against the outcome, the exported file feeds `train --overrides`."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from rich.console import Console

from analytics.monitor import monitor
from analytics.overrides import (
    OverridesFileError,
    override_metrics,
    override_outcomes,
    read_overrides_file,
    write_overrides,
)
from analytics.recorded import read_overrides
from features.history import History
from serving.app import create_app
from serving.keys import KeyStore
from serving.settings import ServeSettings


def test_override_round_trip_through_api_store_and_monitor(
    model_dir: Path, world: Path, later_history: History, truth: pd.DataFrame, tmp_path: Path
):
    _, key = KeyStore(tmp_path / "keys.json").create("biller-ann")
    settings = ServeSettings(
        model=str(model_dir),
        api_keys_file=tmp_path / "keys.json",
        audit_log=tmp_path / "audit.jsonl",
        prediction_store=tmp_path / "predictions.db",
        queue_store=tmp_path / "queue.db",
    )
    lines = (world / "requests.jsonl").read_text()
    known = truth.set_index("claim_id")
    disputed: dict[str, str] = {}
    with TestClient(create_app(settings), headers={"X-API-Key": key}) as client:
        batch = client.post(
            "/v1/claims/score-upload", content=lines, headers={"content-type": "text/plain"}
        ).json()
        pending = {r["claim_id"] for r in batch["results"][-10:]}  # later_history: no outcome
        for result in batch["results"][:-10]:
            if result["reasons"] and len(disputed) < 6:
                category = result["reasons"][0]["category"]
                answer = client.post(
                    f"/v1/claims/{result['claim_id']}/overrides",
                    json={"category": category, "note": "not this"},
                )
                assert answer.status_code == 201, answer.text
                disputed[result["claim_id"]] = category
    assert len(disputed) == 6 and not pending & set(disputed)
    report = monitor(settings.prediction_store, later_history)
    table = report.overrides.set_index("category")
    upheld = {  # the payer denied the claim for the disputed category: the model was right
        claim_id
        for claim_id, category in disputed.items()
        if known.loc[claim_id, "denied"] and known.loc[claim_id, "true_category"] == category
    }
    assert table["overrides"].sum() == 6 and table["pending"].sum() == 0
    assert table["upheld"].sum() == len(upheld)
    assert table["refuted"].sum() == 6 - len(upheld)
    assert report.to_dict()["overrides"]
    console = Console(record=True, width=200)
    console.print(report)
    shown = console.export_text()
    assert "Billers' overrides" in shown and all(c in shown for c in disputed.values())
    # Exported for training: the same claims and categories, nothing about who or why.
    exported = tmp_path / "overrides.csv"
    write_overrides(read_overrides(settings.prediction_store), exported)
    assert "not this" not in exported.read_text() and "biller-ann" not in exported.read_text()
    again = override_outcomes(read_overrides_file(exported), later_history)
    assert again.set_index("category")["refuted"].sum() == 6 - len(upheld)
    metrics = override_metrics(again)
    assert sum(v for k, v in metrics.items() if k.startswith("overrides_upheld_")) == len(upheld)


def test_a_store_from_before_overrides_reads_as_none(recorded, later_history, tmp_path: Path):
    old = tmp_path / "old.db"
    shutil.copy(recorded.store, old)
    with sqlite3.connect(old) as db:
        db.execute("DROP TABLE overrides")
    assert read_overrides(old).empty
    report = monitor(old, later_history)
    assert report.overrides.empty and any("disputed" in note for note in report.notes)


def test_a_wrong_overrides_file_is_refused(tmp_path: Path):
    bad = tmp_path / "o.csv"
    bad.write_text("claim_id,category\nA1,coding\n")
    with pytest.raises(OverridesFileError, match="missing column"):
        read_overrides_file(bad)
