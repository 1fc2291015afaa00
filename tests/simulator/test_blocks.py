"""A large partitioned world is simulated a block of practices at a time: blocks of bounded
size whatever the claims, and the result is one valid partitioned history."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds
import pytest
from distributed import Client

import simulator.blocks
import simulator.pipeline
from features.history import History
from features.partitioned import load_partitioned
from simulator import simulate
from simulator.blocks import BLOCK_CLAIMS, plan_blocks
from simulator.run import Simulation


@pytest.mark.parametrize("claims", [1_000_000, 10_000_000, 100_000_000])
def test_blocks_do_not_grow_with_the_claims(claims: int):
    plan = plan_blocks(claims, 2000, 7, BLOCK_CLAIMS)
    assert max(b.claims for b in plan) <= BLOCK_CLAIMS
    assert sum(b.claims for b in plan) == claims and sum(b.requests for b in plan) == 2000
    assert len({b.seed for b in plan}) == len(plan) and plan[0].seed == 7


def _table(folder: Path, table: str) -> pd.DataFrame:
    """A dataset's rows with the block each file came from (block 0: ``part-0.parquet``)."""
    frames = []
    for fragment in ds.dataset(folder / table, partitioning="hive").get_fragments():
        name = Path(fragment.path).name
        frame = fragment.to_table().to_pandas()
        frame["block"] = 0 if name == "part-0.parquet" else int(name.split("-")[1])
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _labels(history: History) -> pd.DataFrame:
    return history.labels.labels


def test_a_world_in_blocks_is_one_valid_partitioned_history(
    dask_client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(simulator.blocks, "BLOCK_CLAIMS", 4000)
    simulated: list[int] = []
    run = simulator.pipeline.run

    def counted(seed: int, claims: int, *args: object) -> Simulation:
        simulated.append(claims)
        return run(seed, claims, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(simulator.pipeline, "run", counted)
    summary = simulate(tmp_path, 10_000, seed=5, requests=60, months=12, fmt="partitioned")
    assert simulated == [3334, 3333, 3333]  # no more than a block's claims at once

    history = tmp_path / "history"
    loaded = load_partitioned(dask_client, history)  # contract-valid: it would raise
    assert loaded.report.rows_kept["claims"] == 10_000 == summary.claims
    claims = _table(history, "claims")
    assert claims["claim_id"].is_unique and set(claims["block"]) == {0, 1, 2}
    # A patient's history (and its NPIs) is whole in one block
    assert (claims.groupby("patient_id")["block"].nunique() == 1).all()
    assert (claims.groupby("billing_npi")["block"].nunique() == 1).all()
    outcomes = _table(history, "outcomes")
    assert outcomes["claim_id"].isin(claims["claim_id"]).all()
    assert 0.08 < summary.denial_rate < 0.25
    labels = pd.concat(dask_client.gather(loaded.map(_labels)))  # as training reads them
    assert len(labels) == len(outcomes) and 0.08 < labels["denied"].mean() < 0.25
    requests = (tmp_path / "requests.jsonl").read_text().splitlines()
    assert len(requests) == 60 and len({json.loads(r)["claim_id"] for r in requests}) == 60
    truth = pd.read_parquet(tmp_path / "ground_truth.parquet")
    assert truth["claim_id"].is_unique and set(claims["claim_id"]) <= set(truth["claim_id"])
    world = json.loads((tmp_path / "world.json").read_text())
    assert world["summary"]["claims"] == 10_000 and world["policy_changes"]
    shares = [p["share_of_encounters"] for p in world["practices"]]
    assert len(shares) == 9 and sum(shares) == pytest.approx(1.0, abs=0.01)


def test_a_world_of_one_block_is_the_one_shot_world(tmp_path: Path):
    simulate(tmp_path / "one", 3000, seed=2, requests=10, months=6)
    simulate(tmp_path / "blocks", 3000, seed=2, requests=10, months=6, fmt="partitioned")
    one = pd.read_parquet(tmp_path / "one" / "history" / "claims.parquet")
    blocks = _table(tmp_path / "blocks" / "history", "claims").drop(columns=["block"])
    blocks = blocks.set_index("claim_id").loc[one["claim_id"]].reset_index()
    pd.testing.assert_frame_equal(blocks[one.columns], one, check_dtype=False)
