"""Training and scoring on a Dask cluster (the session's two-process LocalCluster): the same
model, as good as the single-process one, in the same artifact; the same scores."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.json as pj
import pyarrow.parquet as pq
from distributed import Client

from features.partitioned import load_partitioned
from features.uploads import parse_upload
from scoring.artifact import ClaimRiskModel
from scoring.distributed import score_on_cluster
from scoring.scorer import Scorer
from training.distributed import train_distributed
from training.train import TrainResult


def test_distributed_model_is_as_good_as_single_process(
    dask_client: Client, partitioned_history: Path, trained: TrainResult, truth, tmp_path: Path
):
    loaded = load_partitioned(dask_client, partitioned_history, parts=4)
    result = train_distributed(loaded, truth=truth)
    # Data-parallel LightGBM bags and bins rows per worker, and which partitions land on which
    # worker varies between runs: on this test window (4,380 claims, 599 denials) the same code
    # gave 0.9227 and 0.9173 against one process's 0.9222 at 28419a3, and 0.9214 and 0.9187
    # against 0.9246 at 43c539c. Within 0.01 is as good, up to that layout.
    assert abs(result.metrics["lgbm_roc_auc"] - trained.metrics["lgbm_roc_auc"]) < 0.01
    np.testing.assert_array_equal(result.test.claim_ids, trained.test.claim_ids)
    # The same shape, or one as good on validation (rates equal to 1e-6 can flip a near tie)
    shapes = {k: v for k, v in trained.metrics.items() if k.startswith("validation_auc_")}
    chosen = trained.metrics[f"validation_auc_{result.params['estimator']}"]
    assert chosen >= max(shapes.values()) - 0.002
    saved = ClaimRiskModel.load(result.model.save(tmp_path / "model"))  # the same artifact
    assert saved.feature_names == trained.model.feature_names
    assert saved.category_map is not None and saved.kind == trained.model.kind
    assert saved.meta["split"] == trained.model.meta["split"]
    assert saved.meta["training_window"] == trained.model.meta["training_window"]


def test_distributed_scoring_equals_single_process_and_keeps_problems(
    dask_client: Client, world: Path, model_dir: Path, tmp_path: Path
):
    requests = pj.read_json(world / "requests.jsonl")
    first, second = requests.slice(0, 150), requests.slice(150)
    charges = second.column("total_charge").to_pylist()
    charges[2] = -5.0  # against the contract: a problem, not a lost file
    column = second.schema.get_field_index("total_charge")
    second = second.set_column(column, "total_charge", pa.array(charges, pa.float64()))
    folder = tmp_path / "requests"
    folder.mkdir()
    pq.write_table(first, folder / "a.parquet")
    pq.write_table(second, folder / "b.parquet")
    scorer = Scorer(ClaimRiskModel.load(model_dir), version="7", source="test")

    counts = score_on_cluster(dask_client, scorer, str(folder), str(tmp_path / "scores"), "all")
    assert [(c.scored, c.problems) for c in counts] == [(150, 0), (requests.num_rows - 151, 1)]
    scores = pd.read_parquet(tmp_path / "scores")
    assert len(scores) == requests.num_rows
    bad = scores[scores["problem"].notna()]
    assert bad[["file", "row"]].values.tolist() == [["requests/b.parquet", 3]]
    problem = json.loads(bad["problem"].iloc[0])  # as `claimrisk score` answers it
    assert problem["line"] == 3 and problem["problems"][0]["loc"] == ["total_charge"]

    lines = (world / "requests.jsonl").read_text().splitlines()
    del lines[152]
    expected = [s.model_dump_json() for s in scorer.score(parse_upload("\n".join(lines), "jsonl"))]
    assert scores["score"].dropna().tolist() == expected
