"""The feature pipeline on a Dask cluster (a LocalCluster of two worker processes started
here): a partitioned history loads and validates on the workers, and its distributed feature
matrix is the single-process one, row for row."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from dask.sizeof import sizeof
from distributed import Client

from features.batch import batch_from_history
from features.contract import TABLE_MODELS
from features.distributed import (
    META_COLUMNS,
    broadcast,
    feature_frames,
    fit_distributed_state,
)
from features.facts import build_facts
from features.history import History, HistoryError
from features.partitioned import load_partitioned
from features.pipeline import compute_features
from features.rules import REGISTRY
from training.dataset import build_dataset


def _decayed_rate_features() -> set[str]:
    return {f.name for f in REGISTRY if f.kind == "rate"}  # what the DecayedRate learners give


def test_distributed_features_equal_single_process_row_for_row(
    dask_client: Client, partitioned_history: Path, history: History
):
    loaded = load_partitioned(dask_client, partitioned_history, parts=5)
    assert loaded.report.rows_kept["claims"] == len(history.claims)
    state = fit_distributed_state(loaded)
    frames = dask_client.gather(feature_frames(loaded, broadcast(loaded, state)))
    distributed = pd.concat(frames).drop(columns=list(META_COLUMNS))
    single = build_dataset(history).features
    assert sorted(distributed.index) == sorted(single.index)
    distributed = distributed.reindex(single.index)
    rates = _decayed_rate_features()
    assert rates and len(rates) < single.shape[1]
    for name in single.columns:
        ours, theirs = distributed[name].to_numpy(float), single[name].to_numpy(float)
        np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs), err_msg=name)
        if name in rates:  # cumulative float sums over other orders: rounding only
            np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6, err_msg=name)
        else:
            np.testing.assert_array_equal(ours, theirs, err_msg=name)

    some = single.index[::97]  # what the gate gathers: a few claims, in the history's order
    local = loaded.claims_of(some)
    assert local.claims["claim_id"].tolist() == some.tolist()
    assert set(local.claim_lines["claim_id"]) == set(some)
    again = compute_features(build_facts(batch_from_history(local)), state)
    pd.testing.assert_frame_equal(again, distributed.loc[some])


def _break(history: Path, table: str, column: str, row: int, value: object) -> str:
    files = sorted((history / table).rglob("*.parquet"))
    target = files[len(files) // 2]
    frame = pd.read_parquet(target)
    frame = frame.drop(columns=[c for c in frame.columns if c == "month"])
    frame[column] = frame[column].astype(object)
    frame.loc[row, column] = value
    frame.to_parquet(target, index=False)
    return str(target.relative_to(history))


def test_a_contract_error_in_one_partition_names_file_row_and_column(
    dask_client: Client, partitioned_history: Path, tmp_path: Path
):
    broken = tmp_path / "history"
    shutil.copytree(partitioned_history, broken)
    name = _break(broken, "claim_lines", "procedure_code", 3, "not a code!")
    with pytest.raises(HistoryError) as raised:
        load_partitioned(dask_client, broken, parts=3)
    assert re.search(rf"{re.escape(name)}: row 4, column 'procedure_code'", str(raised.value))

    loaded = load_partitioned(dask_client, broken, parts=3, skip_invalid=True)
    assert loaded.report.skipped["claim_lines: invalid rows"] == 1
    assert loaded.report.skipped["claims: dropped with an invalid line"] == 1


def test_dask_counts_a_held_history_at_its_size_so_it_can_spill_it(history: History):
    frames = sum(history.table(t).memory_usage().sum() for t in TABLE_MODELS)
    assert frames > 1_000_000
    assert sizeof(history) >= frames
