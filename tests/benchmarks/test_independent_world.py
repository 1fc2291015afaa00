"""Data tier: the independent world honours the data contract, its seed and its own oracle.

The world is checked with `claimrisk validate` in a subprocess, as a user would, never with
the library: the generator must stay independent of claimrisk's code.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from benchmarks.independent_world import simulate, write_world
from benchmarks.independent_world.adjudication import CATEGORY_BY_CARC

CLAIMRISK = Path(sys.executable).with_name("claimrisk")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("indw") / "seed3"
    write_world(simulate(3, "small"), out)
    return out


def _read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)


def _requests(world: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (world / "requests.jsonl").read_text().splitlines()]


def test_history_passes_the_contract_check_of_the_cli(world: Path) -> None:
    done = subprocess.run(
        [str(CLAIMRISK), "validate", "--history", str(world / "history")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Valid." in done.stdout


def test_same_seed_same_world_other_seed_other_world(world: Path, tmp_path: Path) -> None:
    write_world(simulate(3, "small"), tmp_path / "again")
    write_world(simulate(4, "small"), tmp_path / "other")
    files = [
        f"history/{t}.csv"
        for t in (
            "claims",
            "claim_lines",
            "outcomes",
            "eligibility_checks",
            "authorizations",
            "provider_enrollments",
        )
    ] + ["requests.jsonl"]
    for name in files:
        assert (world / name).read_bytes() == (tmp_path / "again" / name).read_bytes(), name
    pd.testing.assert_frame_equal(
        pd.read_parquet(world / "ground_truth.parquet"),
        pd.read_parquet(tmp_path / "again" / "ground_truth.parquet"),
    )
    assert (world / "requests.jsonl").read_bytes() != (
        tmp_path / "other" / "requests.jsonl"
    ).read_bytes()


def test_ground_truth_has_one_row_per_history_claim_and_request(world: Path) -> None:
    truth = pd.read_parquet(world / "ground_truth.parquet")
    claims = _read(world / "history", "claims")
    requests = _requests(world)
    assert truth.claim_id.is_unique
    assert set(truth[truth.split == "history"].claim_id) == set(claims.claim_id)
    assert set(truth[truth.split == "request"].claim_id) == {r["claim_id"] for r in requests}
    assert len(requests) >= 300 and len(claims) >= 1500
    assert truth.true_probability.between(0, 1).all()
    assert (truth.denied == truth.true_category.notna()).all()
    assert (truth.denied == truth.true_cause.notna()).all()
    assert (truth.denied == (truth.n_fired > 0)).all()
    assert set(truth.true_category.dropna()) <= set(CATEGORY_BY_CARC.values())


def test_outcomes_label_each_claim_as_the_oracle_drew_it(world: Path) -> None:
    """The contract's label rule applied to the 835 rows gives back the drawn denial and cause."""
    outcomes = _read(world / "history", "outcomes")
    truth = pd.read_parquet(world / "ground_truth.parquet").set_index("claim_id")

    def category(row: pd.Series) -> str | None:
        for adj in filter(None, row.adjustments.split("|")):
            group, carc = adj.split("-", 1)
            if group in ("CO", "OA", "PI") and carc in CATEGORY_BY_CARC:
                return CATEGORY_BY_CARC[carc]
        return "other" if row.claim_status_code == "4" else None

    labels = outcomes.set_index("claim_id").apply(category, axis=1)
    expected = truth.loc[labels.index, "true_category"]
    assert (labels.fillna("") == expected.fillna("")).all()
    assert len(outcomes) < len(_read(world / "history", "claims"))  # some are still pending


def test_denial_rate_is_that_of_a_real_practice(world: Path) -> None:
    truth = pd.read_parquet(world / "ground_truth.parquet")
    assert 0.06 <= truth.denied.mean() <= 0.20
    assert abs(truth.denied.mean() - truth.true_probability.mean()) < 0.03
    assert truth.true_category.nunique() >= 8


def test_requests_follow_the_claim_request_shape(world: Path) -> None:
    requests = _requests(world)
    required = {
        "claim_id",
        "patient_id",
        "member_id",
        "payer_id",
        "plan_type",
        "billing_npi",
        "place_of_service",
        "frequency_code",
        "service_date",
        "submission_date",
        "total_charge",
        "diagnosis_codes",
        "lines",
    }
    for r in requests:
        assert required <= set(r)
        assert r["lines"] and all(
            set(ln)
            >= {"line_number", "procedure_code", "units", "line_charge", "diagnosis_pointers"}
            for ln in r["lines"]
        )
    # the PM system does not always send its context
    for key in ("eligibility", "authorizations", "provider_enrollment"):
        present = sum(key in r for r in requests)
        assert 0 < present < len(requests), key
