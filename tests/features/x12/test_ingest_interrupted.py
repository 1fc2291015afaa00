"""A killed ingest: its files change together or not at all, so a re-run gives what an
uninterrupted ingest gives; and an ingest whose every file failed says so."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from cli import app
from features.x12 import ingest
from features.x12 import store as store_module
from tests.features.x12.helpers import FIXTURES, history_tables
from tests.features.x12.test_ingest import claims_file, remits_file

KEYS = {
    "claims": ["claim_id"],
    "claim_lines": ["claim_id", "line_number"],
    "outcomes": ["claim_id"],
}


class Killed(BaseException):
    """Stands for kill -9: nothing after it runs, no cleanup."""


def inputs(folder: Path) -> tuple[list[Path], list[Path]]:
    """Two claims now (their payments parked for later ones), then two more with the 835."""
    tables = history_tables()
    claims, lines = tables["claims"], tables["claim_lines"]
    early, late = claims["claim_id"].isin(["C1", "C2"]), claims["claim_id"].isin(["C3", "C4"])
    first = claims_file(folder, "a.837", claims[early], lines[lines["claim_id"].isin(["C1", "C2"])])
    second = claims_file(folder, "b.837", claims[late], lines[lines["claim_id"].isin(["C3", "C4"])])
    remits = remits_file(folder, "a.835", tables["outcomes"], claims)
    return [first, second], [remits]


def rows(out: Path, table: str) -> list[dict[str, object]]:
    found = pq.read_table(out / f"{table}.parquet").to_pylist()
    return sorted(found, key=lambda row: tuple(str(row[k]) for k in KEYS[table]))


def snapshot(out: Path) -> dict[str, object]:
    manifest = json.loads((out / "_ingested.json").read_text())
    return {
        **{table: rows(out, table) for table in KEYS},
        "files": sorted(f["name"] for f in manifest["files"].values()),
        "duplicates": manifest["duplicates"],
        "unmatched": (out / "_unmatched_remits.parquet").exists(),
        "left": sorted(p.name for p in out.iterdir()),
    }


def run(folder: Path, out: Path) -> None:
    (first, second), remits = inputs(folder)
    ingest([first], [], out)
    ingest([second], remits, out, append=True)


def test_a_killed_ingest_rerun_gives_the_uninterrupted_result(tmp_path, monkeypatch):
    reference = tmp_path / "reference"
    real_replace = store_module.os.replace
    calls: list[object] = []

    def counting(*args: object) -> None:
        calls.append(args)
        real_replace(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(store_module.os, "replace", counting)
    run(tmp_path, reference)
    monkeypatch.setattr(store_module.os, "replace", real_replace)
    expected = snapshot(reference)
    assert len(expected["claims"]) == 4  # type: ignore[arg-type]
    assert len(calls) >= 6  # each ingest renames its listing and at least two tables

    for kill_at in range(1, len(calls) + 1):
        out = tmp_path / f"killed-{kill_at}"
        seen = 0

        def dying(*args: object, at: int = kill_at) -> None:
            nonlocal seen
            seen += 1
            if seen == at:
                raise Killed
            real_replace(*args)  # type: ignore[arg-type]

        monkeypatch.setattr(store_module.os, "replace", dying)
        with pytest.raises(Killed):
            run(tmp_path, out)
        monkeypatch.setattr(store_module.os, "replace", real_replace)
        (first, second), remits = inputs(tmp_path)
        ingest([first], [], out, append=True)  # the re-runs, with --append
        ingest([second], remits, out, append=True)
        assert snapshot(out) == expected, f"killed at rename {kill_at}"


def test_ingest_exits_non_zero_when_every_file_failed(tmp_path):
    text = (FIXTURES / "professional.837").read_text()
    cut = tmp_path / "cut.837"
    cut.write_text(text[: len(text) // 2])
    out = tmp_path / "history"
    failed = CliRunner().invoke(
        app, ["ingest", "--claims-837", str(cut), "--remits-835", str(cut), "--out", str(out)]
    )
    assert failed.exit_code == 1, failed.output
    assert "No file could be ingested" in failed.output
    good = CliRunner().invoke(
        app,
        ["ingest", "--claims-837", str(FIXTURES / "professional.837"), "--out", str(out / "ok")],
    )
    assert good.exit_code == 0, good.output
