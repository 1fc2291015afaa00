"""The rolling backtest on the session's two-process LocalCluster and its world: the same
folds and claims scored as the single-process backtest, AUCs within a stated tolerance."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from distributed import Client

from features.history import History
from features.partitioned import load_partitioned
from training.backtest import Segment, backtest
from training.distributed_backtest import backtest_distributed


def test_cluster_backtest_agrees_with_one_process(
    dask_client: Client, history: History, partitioned_history: Path, world: Path
):
    change = json.loads((world / "world.json").read_text())["policy_changes"][0]
    segment = Segment(
        change["payer_id"], change["procedure_code"], pd.Timestamp(change["effective"])
    )
    local = backtest(history, "4M", segment=segment)
    loaded = load_partitioned(dask_client, partitioned_history, parts=4)
    cluster = backtest_distributed(loaded, "4M", segment=segment)

    assert len(local.periods) >= 3
    # The same folds over the same claims (the features equal one process's)
    columns = ["period", "claims", "denial_rate"]
    pd.testing.assert_frame_equal(cluster.periods[columns], local.periods[columns])
    weeks = ["week", "claims", "denied_share"]
    assert local.segment_weeks is not None and cluster.segment_weeks is not None
    pd.testing.assert_frame_equal(cluster.segment_weeks[weeks], local.segment_weeks[weeks])
    # The boosters differ (lightgbm.dask bins each worker's rows; which groups a worker holds
    # varies between runs): weighted by claims within 0.01, each period (the last holds 600
    # claims, the others 6-7k) within 0.03
    difference = np.abs(cluster.periods["roc_auc"] - local.periods["roc_auc"])
    weighted = np.average(difference, weights=local.periods["claims"])
    assert weighted < 0.01 and difference.max() < 0.03, difference.tolist()
    predicted = cluster.segment_weeks["mean_predicted"] - local.segment_weeks["mean_predicted"]
    assert np.abs(predicted).mean() < 0.05
