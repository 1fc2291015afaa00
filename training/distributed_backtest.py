"""The rolling backtest on a Dask cluster: ``training.backtest.run_backtest`` with the
history's member groups on the workers.

Features are computed once per member group with the single-process code
(``features.distributed``); each period's booster is a fixed-round ``lightgbm.dask`` fit on
the claims adjudicated before the period (``training.distributed.fit_on_cluster``), and every
group scores its own claims with ``training.backtest.scored_claims``: only the fold, label,
prediction, day and segment flag of each scored labelled claim reach the client.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from distributed import Future

from features.distributed import (
    ADJ_DAY,
    LABEL,
    SUB_DAY,
    broadcast,
    feature_frames,
    fit_distributed_state,
)
from features.history import History
from features.partitioned import PartitionedHistory
from training.backtest import (
    BacktestResult,
    Fold,
    Segment,
    fold_counts,
    run_backtest,
    scored_claims,
    training_rows,
)
from training.distributed import fit_on_cluster, submission_range
from training.train import Progress


def _days(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return frame[LABEL].to_numpy(float), frame[SUB_DAY].to_numpy(), frame[ADJ_DAY].to_numpy()


def _counts(frame: pd.DataFrame, folds: list[Fold]) -> np.ndarray:
    return fold_counts(*_days(frame), folds)


def _training(frame: pd.DataFrame, fold: Fold) -> pd.DataFrame:
    return frame[training_rows(*_days(frame), fold)]


Fits = list[tuple[Fold, lgb.Booster]]


def _scored(frame: pd.DataFrame, history: History, names: list[str], fits: Fits,
            segment: Segment | None) -> pd.DataFrame:  # fmt: skip
    label, day, _ = _days(frame)
    return scored_claims(
        frame[names], label, day, history.claims, history.claim_lines, fits, segment
    )


@dataclass
class OnCluster:
    """A partitioned history's claims and their features (``frames``, one per member group),
    on the workers."""

    history: PartitionedHistory
    frames: list[Future]
    names: list[str]

    def _each(self, function: Any, *args: Any) -> list[Any]:
        client = self.history.client
        return client.gather([client.submit(function, f, *args) for f in self.frames])

    def submission_range(self) -> tuple[int, int]:
        ranges = self._each(submission_range)
        return min(r[0] for r in ranges), max(r[1] for r in ranges)

    def counts(self, folds: list[Fold]) -> np.ndarray:
        return np.sum(self._each(_counts, folds), axis=0)

    def fit(self, fold: Fold, params: dict[str, Any], rounds: int) -> lgb.Booster:
        client, select = self.history.client, partial(_training, fold=fold)
        return fit_on_cluster(client, self.frames, self.names, params, rounds, select)

    def scored(self, fits: list[tuple[Fold, lgb.Booster]], segment: Segment | None) -> pd.DataFrame:
        client = self.history.client
        shared = client.scatter(fits, broadcast=True)  # the boosters, sent once per worker
        parts = client.gather(
            [
                client.submit(_scored, f, h, self.names, shared, segment)
                for f, h in zip(self.frames, self.history.groups, strict=True)
            ]
        )
        return pd.concat(parts, ignore_index=True)


def backtest_distributed(
    history: PartitionedHistory,
    every: str = "1M",
    warmup: float = 0.25,
    segment: Segment | None = None,
    progress: Progress = lambda *_: None,
) -> BacktestResult:
    """``training.backtest.backtest`` on a cluster; ``history`` stays on the workers."""
    progress("computing features once on the workers (as-of every claim's submission)", 0, 1)
    state = fit_distributed_state(history)
    frames = feature_frames(history, broadcast(history, state))
    claims = OnCluster(history, frames, list(state.feature_names))
    return run_backtest(claims, every, warmup, segment, progress)
