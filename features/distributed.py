"""The feature pipeline on a Dask cluster: one code path, run per member group.

``fit_state`` fits every learner on each member group of a ``PartitionedHistory`` and merges
the fits pairwise on the workers (``features.pipeline.merge_states``: as-of tables of disjoint
partitions merge exactly, sums up to rounding), so only the merged state reaches the client.
That state is broadcast to every worker and ``feature_frames`` computes each group's features
with the single-process ``build_facts`` + ``feature_matrix``. A claim's features use only its
own facts and as-of lookups strictly before its submission date, so the leakage rule holds as
in one process, and the matrix equals the single-process one row for row.
"""

from __future__ import annotations

from dataclasses import dataclass

import fsspec
import numpy as np
import pandas as pd
from distributed import Future

from features.asof import day_numbers
from features.batch import batch_from_history
from features.facts import build_facts
from features.history import History
from features.partitioned import ORDER, PartitionedHistory
from features.pipeline import FeatureState, compute_features, fit_state, merge_states, outcomes_for

# Per claim, beside its features: what training and evaluation need.
LABEL, CATEGORY, PAYER = "_label", "_category", "_payer"
SUB_DAY, ADJ_DAY, CHARGE = "_sub_day", "_adj_day", "_charge"
META_COLUMNS = (LABEL, CATEGORY, PAYER, SUB_DAY, ADJ_DAY, CHARGE, ORDER)


def group_state(history: History) -> FeatureState:
    """The state fitted on one member group."""
    facts = build_facts(batch_from_history(history))
    return fit_state(facts, outcomes_for(history, history.claims["claim_id"]))


def _merge_pair(*states: FeatureState) -> FeatureState:
    return merge_states(list(states))


def fit_distributed_state(history: PartitionedHistory) -> FeatureState:
    """The feature state of the whole history, by a tree of pairwise merges on the workers."""
    client = history.client
    level: list[Future] = history.map(group_state)
    while len(level) > 1:
        pairs = [level[i : i + 2] for i in range(0, len(level), 2)]
        level = [client.submit(_merge_pair, *pair) for pair in pairs]
    state: FeatureState = level[0].result()
    return state


def group_features(history: History, state: FeatureState) -> pd.DataFrame:
    """One member group's feature matrix (indexed by claim id) and its label columns."""
    facts = build_facts(batch_from_history(history))
    frame = compute_features(facts, state)
    outcomes = outcomes_for(history, history.claims["claim_id"])
    labeled = outcomes.adj_day >= 0
    frame[LABEL] = np.where(labeled, outcomes.denied.astype(float), np.nan)
    frame[CATEGORY] = pd.array(outcomes.category, dtype="string")
    frame[PAYER] = pd.array(history.claims["payer_id"].to_numpy(object), dtype="string")
    frame[SUB_DAY] = day_numbers(history.claims["submission_date"])
    frame[ADJ_DAY] = outcomes.adj_day
    frame[CHARGE] = history.claims["total_charge"].to_numpy(float)
    frame[ORDER] = history.claims[ORDER].to_numpy(np.int64)
    return frame


def broadcast(history: PartitionedHistory, state: FeatureState) -> Future:
    """The state on every worker, sent once (a task that names it is not resent the state).
    Scatter a state once per job: a second scatter of the same state is the same key, and
    releasing either would drop it from under the other's tasks."""
    return history.client.scatter(state, broadcast=True)


def feature_frames(history: PartitionedHistory, state: Future) -> list[Future]:
    """Per member group, a future of its features and label columns (kept on the workers);
    ``state``: the ``broadcast`` state."""
    return history.map(group_features, state)


SUMMARY_SAMPLE = 200_000  # claims the printed summary is computed on


def _write(frame: pd.DataFrame, path: str) -> int:
    with fsspec.open(path, "wb") as handle:
        frame.drop(columns=list(META_COLUMNS)).to_parquet(handle)
    return len(frame)


def _sample(frame: pd.DataFrame, share: float, seed: int) -> pd.DataFrame:
    return frame[np.random.default_rng(seed).random(len(frame)) < share]


@dataclass(frozen=True)
class FeatureRun:
    """What ``claimrisk features --cluster`` reports: claims, and a sample to summarise."""

    claims: int
    sample: pd.DataFrame  # features of a random sample of claims
    denied: np.ndarray  # their labels (NaN: pending)


def features_on_cluster(history: PartitionedHistory, out: str | None) -> FeatureRun:
    """Fit the state, compute every claim's features on the workers; with ``out``, each
    group's matrix is written there by its worker as ``part-NNNNN.parquet``."""
    client = history.client
    frames = feature_frames(history, broadcast(history, fit_distributed_state(history)))
    claims = sum(client.gather([client.submit(len, f) for f in frames]))
    if out is not None:
        fs, root = fsspec.core.url_to_fs(out)
        fs.makedirs(root, exist_ok=True)
        paths = [f"{out.rstrip('/')}/part-{g:05d}.parquet" for g in range(len(frames))]
        client.gather([client.submit(_write, f, p) for f, p in zip(frames, paths, strict=True)])
    share = min(1.0, SUMMARY_SAMPLE / max(claims, 1))
    sample = pd.concat(
        client.gather([client.submit(_sample, f, share, g) for g, f in enumerate(frames)])
    )
    return FeatureRun(
        claims, sample.drop(columns=list(META_COLUMNS)), sample[LABEL].to_numpy(float)
    )
