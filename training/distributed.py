"""Training on a Dask cluster: the same windows, model shapes, calibration, category map and
evaluation as ``training.train``, with the features and the LightGBM fits distributed.

- Features: the feature state is a reduction over the member groups and each group's
  features come from the single-process code (``features.distributed``); context dropout is
  applied per group with the single-process function.
- Shape and rounds: ``training.model.fit_candidates`` on a sample of the training and
  validation windows in this process (up to ``SAMPLE`` claims each; below ``SMALL_DATA_ROWS``
  training claims the sample is the whole window, and the linear model competes as in one
  process), then a fixed-round ``lightgbm.dask`` fit of the chosen shape on the whole training
  window (early stopping inside a distributed fit is known to hang, LightGBM #6351, #7009).
  One distributed fit at a time on a cluster (a cluster-wide lock, LightGBM #4942), a network
  time-out, and as many LightGBM threads as each worker has (more would oversubscribe it).
- Calibration, bands, category map and evaluation: the validation and test windows and a
  sample of the denied training claims are gathered from the workers (fractions of the
  history), then ``training.train.evaluate`` and ``finish`` run unchanged: the artifact, the
  MLflow run and the gate cannot tell how the model was trained.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable
from functools import partial
from operator import itemgetter
from typing import Any

import dask.array as da
import lightgbm as lgb
import numpy as np
import pandas as pd
from distributed import Client, Future, Lock, wait

from features.batch import batch_from_history
from features.distributed import (
    ADJ_DAY,
    CATEGORY,
    LABEL,
    META_COLUMNS,
    ORDER,
    PAYER,
    SUB_DAY,
    broadcast,
    feature_frames,
    fit_distributed_state,
)
from features.history import History, known_at
from features.partitioned import PartitionedHistory
from features.pipeline import FeatureState
from scoring.artifact import Estimator
from training.dataset import (
    Dataset,
    TimeSplit,
    check_windows,
    window_masks,
    window_starts,
    with_context_dropout,
)
from training.model import Candidate, best, categorical_features, fit_candidates
from training.train import (
    CONTEXT_DROPOUT,
    SHAP_SAMPLE,
    Progress,
    TrainResult,
    Window,
    evaluate,
    finish,
    training_window,
)

SAMPLE = 300_000  # claims of each window the shape and rounds are chosen on (and the baseline)
TIME_OUT_MINUTES = 60  # LightGBM's network time-out between the workers of one fit
FIT_LOCK = "claimrisk-lightgbm-fit"
WINDOW = "_window"
WINDOWS = ("train", "validation", "test")
LABELED = "labeled"  # every labelled claim: what the refit learns from


def _with_dropout(frame: pd.DataFrame, history: History, state: FeatureState,
                  rows: np.ndarray, seed: int) -> pd.DataFrame:  # fmt: skip
    """The group's features with ``rows`` recomputed without context (as single-process)."""
    features = frame.drop(columns=[*META_COLUMNS, WINDOW], errors="ignore")
    dataset = Dataset(
        features=features,
        label=frame[LABEL].to_numpy(float),
        category=frame[CATEGORY].to_numpy(dtype=object, na_value=None),
        submission_day=frame[SUB_DAY].to_numpy(),
        adjudication_day=frame[ADJ_DAY].to_numpy(),
        charge=np.zeros(len(frame)),
        state=state,
        batch=batch_from_history(history),
    )
    dropped = with_context_dropout(dataset, rows, CONTEXT_DROPOUT, seed=seed)
    return pd.concat(
        [dropped.features, frame[[c for c in frame.columns if c.startswith("_")]]], axis=1
    )


def training_frame(frame: pd.DataFrame, history: History, state: FeatureState,
                   starts: dict[str, int], seed: int) -> pd.DataFrame:  # fmt: skip
    """A group's rows with their window, the training window's rows with the context
    dropout of training (as single-process)."""
    masks = window_masks(
        frame[LABEL].to_numpy(float), frame[SUB_DAY].to_numpy(), frame[ADJ_DAY].to_numpy(), starts
    )
    window = np.full(len(frame), None, dtype=object)
    for name in WINDOWS:
        window[masks[name]] = name
    frame = frame.assign(**{WINDOW: window})
    return _with_dropout(frame, history, state, masks["train"], seed)


def refit_frame(frame: pd.DataFrame, history: History, state: FeatureState,
                seed: int) -> pd.DataFrame:  # fmt: skip
    """A group's training frame with the context dropout of the refit: every labelled claim
    after the training window too."""
    later = ~np.isnan(frame[LABEL].to_numpy(float)) & (frame[WINDOW] != "train").to_numpy(bool)
    return _with_dropout(frame, history, state, later, 10_000 + seed)


def _rows(frame: pd.DataFrame, which: str, share: float = 1.0, seed: int = 0,
          denied: bool = False) -> pd.DataFrame:  # fmt: skip
    """Rows of one window (or every labelled row), a seeded ``share`` of them, or only the
    denied ones."""
    label = frame[LABEL].to_numpy(float)
    chosen = ~np.isnan(label) if which == LABELED else (frame[WINDOW] == which).to_numpy(bool)
    if denied:
        chosen = chosen & (label == 1)
    if share < 1.0:
        chosen = chosen & (np.random.default_rng(seed).random(len(frame)) < share)
    return frame[chosen]


Select = Callable[[pd.DataFrame], pd.DataFrame]  # a group's frame -> the rows a fit learns from


def in_window(which: str) -> Select:
    """The rows of one window (or every labelled row) of a group's training frame."""
    return partial(_rows, which=which)


def _matrix_of(
    select: Select, names: list[str], *frames: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """The selected rows' features (float64) and labels, the frames' rows one after another."""
    rows = [select(frame) for frame in frames]
    x = np.concatenate([part[names].to_numpy(float) for part in rows])
    return x, np.concatenate([part[LABEL].to_numpy(float) for part in rows]).astype(int)


def submission_range(frame: pd.DataFrame) -> tuple[int, int]:
    """A group's first and last submission day (an empty group's range is empty)."""
    days = frame[SUB_DAY].to_numpy()
    return (int(days.min()), int(days.max())) if len(days) else (1 << 30, -1)


def _counts(frame: pd.DataFrame) -> dict[str, tuple[int, float]]:
    """Claims and denials of each window, and of every labelled claim."""
    return {
        name: (len(rows := _rows(frame, name)), float(rows[LABEL].sum()))
        for name in (*WINDOWS, LABELED)
    }


def _labeled_days(frame: pd.DataFrame) -> np.ndarray:
    return frame[SUB_DAY].to_numpy()[~np.isnan(frame[LABEL].to_numpy(float))]


def _gather(client: Client, frames: list[Future], which: str, share: float = 1.0,
            denied: bool = False) -> pd.DataFrame:  # fmt: skip
    """Rows of one window from every group, in the history's order (as in one process)."""
    parts = client.gather(
        [client.submit(_rows, f, which, share, seed, denied) for seed, f in enumerate(frames)]
    )
    rows: pd.DataFrame = pd.concat(parts).sort_values(ORDER)
    return rows


def _window(rows: pd.DataFrame, names: list[str]) -> Window:
    return Window(
        claim_ids=rows.index.to_numpy(),
        features=rows[names].to_numpy(float),
        label=rows[LABEL].to_numpy(float),
        category=rows[CATEGORY].to_numpy(dtype=object, na_value=None),
        payers=rows[PAYER].to_numpy(dtype=object, na_value=None),
    )


def _denied_sample(client: Client, frames: list[Future], which: str, denials: float,
                   names: list[str]) -> Window:  # fmt: skip
    """At most ``SHAP_SAMPLE`` denied claims of ``which``, a seeded sample (what the category
    map is learned from, as in one process)."""
    rows = _gather(client, frames, which, min(1.0, 1.5 * SHAP_SAMPLE / max(denials, 1)), True)
    if len(rows) > SHAP_SAMPLE:
        keep = np.random.default_rng(0).choice(len(rows), SHAP_SAMPLE, replace=False)
        rows = rows.iloc[np.sort(keep)]
    return _window(rows, names)


def fit_on_cluster(client: Client, frames: list[Future], names: list[str],
                   params: dict[str, Any], rounds: int, select: Select) -> lgb.Booster:  # fmt: skip
    """A fixed-round ``lightgbm.dask`` fit on the rows ``select`` picks of each group's frame
    (``features.distributed.group_features`` columns); the booster, local."""
    from lightgbm.dask import DaskLGBMClassifier

    # One part per worker, its groups in order, the workers in the order of their first
    # group (LightGBM's ranks): lightgbm.dask concatenates a worker's parts in no fixed order,
    # the rows' order changes a fit (bagging draws rows by position), and so does the rank
    # (each rank bins its share of the features on its own rows). The same groups on the same
    # number of workers give the same booster, whatever the workers' addresses.
    wait(frames)
    holders: dict[str, list[Future]] = {}
    who_has = client.who_has(frames)
    for frame in frames:
        holders.setdefault(sorted(who_has[frame.key])[0], []).append(frame)
    # Each worker's part is the float64 matrix LightGBM reads in place, and its labels: a
    # frame would be copied twice more on the way (column selection, then to NumPy), which
    # at 10M claims was more than a worker's memory.
    place = {"allow_other_workers": False}
    x_parts: list[Future] = []
    y_parts: list[Future] = []
    for worker, held in holders.items():
        both = client.submit(_matrix_of, select, names, *held, workers=[worker], **place)
        for parts, item in ((x_parts, 0), (y_parts, 1)):
            parts.append(client.submit(itemgetter(item), both, workers=[worker], **place))
    rows = client.gather([client.submit(len, y) for y in y_parts])
    x = da.concatenate(
        [da.from_delayed(p, (n, len(names)), float) for p, n in zip(x_parts, rows, strict=True)]
    )
    y = da.concatenate([da.from_delayed(p, (n,), int) for p, n in zip(y_parts, rows, strict=True)])
    # num_threads: lightgbm.dask gives each worker's fit that worker's threads.
    native = {k: v for k, v in params.items() if k not in ("num_threads", "verbosity", "seed")}
    model = DaskLGBMClassifier(
        client=client,
        n_estimators=rounds,
        random_state=params.get("seed", 0),
        verbose=-1,
        time_out=TIME_OUT_MINUTES,
        **native,
    )
    codes = [name for name in names if name in categorical_features()]
    with Lock(FIT_LOCK), warnings.catch_warnings():
        # The sklearn wrapper always passes n_jobs; lightgbm.dask sets each worker's threads.
        warnings.filterwarnings("ignore", "Parameter n_jobs will be ignored")
        model.fit(x, y, feature_name=names, categorical_feature=codes)
    booster: lgb.Booster = model.to_local().booster_
    return booster


def _refit(client: Client, chosen: Candidate, frames: list[Future],
           names: list[str], labelled: int) -> Estimator:  # fmt: skip
    """The chosen model on every labelled claim (``labelled`` of them): trees on the cluster,
    a small history's blend (a few thousand claims) here."""
    if not isinstance(chosen.estimator, lgb.Booster):
        rows = _gather(client, frames, LABELED)
        return chosen.refit(rows[names].to_numpy(float), rows[LABEL].to_numpy(float), names)
    rounds = chosen.rounds_for(labelled)
    return fit_on_cluster(client, frames, names, chosen.params, rounds, in_window(LABELED))


def train_distributed(
    history: PartitionedHistory,
    *,
    until: dt.date | None = None,
    refit: bool = True,
    params: dict[str, Any] | None = None,
    truth: pd.DataFrame | None = None,
    progress: Progress = lambda *_: None,
) -> TrainResult:
    """``training.train.train`` on a cluster; ``history`` stays on the workers."""
    steps = 6 if refit else 5
    client = history.client
    if until is not None:
        history = history.restricted(known_at, pd.Timestamp(until))
    progress("fitting the feature state (a reduction over the member groups)", 0, steps)
    state = fit_distributed_state(history)
    progress("computing features on the workers", 0, steps)
    shared = broadcast(history, state)
    plain = feature_frames(history, shared)
    days = np.concatenate(client.gather([client.submit(_labeled_days, f) for f in plain]))
    starts = window_starts(days, 0.15, 0.15)
    frames = [
        client.submit(training_frame, f, h, shared, starts, seed)
        for seed, (f, h) in enumerate(zip(plain, history.groups, strict=True))
    ]
    counts = client.gather([client.submit(_counts, f) for f in frames])
    del plain  # the training frames hold every claim: the workers keep one copy
    totals = {
        n: (sum(c[n][0] for c in counts), sum(c[n][1] for c in counts)) for n in (*WINDOWS, LABELED)
    }
    check_windows({n: totals[n] for n in WINDOWS})
    (n_train, train_denials), n_valid = totals["train"], totals["validation"][0]
    names = list(state.feature_names)

    share = min(1.0, SAMPLE / n_train)
    progress(f"choosing the model shape and rounds on {share:.0%} of the training claims", 1, steps)
    train_sample = _gather(client, frames, "train", share)
    valid_sample = _gather(client, frames, "validation", min(1.0, SAMPLE / n_valid))
    x_sample, y_sample = train_sample[names].to_numpy(float), train_sample[LABEL].to_numpy(float)
    candidates = fit_candidates(
        x_sample, y_sample, valid_sample[names].to_numpy(float),
        valid_sample[LABEL].to_numpy(float), names, params,
    )  # fmt: skip
    chosen = best(candidates)
    if isinstance(chosen.estimator, lgb.Booster):  # a small history's blend saw the whole window
        progress(f"fitting LightGBM on {n_train:,} claims on the cluster", 2, steps)
        booster = fit_on_cluster(
            client, frames, names, chosen.params, chosen.rounds, in_window("train")
        )
        chosen = Candidate(
            chosen.name, booster, chosen.params, chosen.rounds, chosen.validation_auc
        )
    evaluation = evaluate(
        chosen,
        candidates,
        state,
        _window(_gather(client, frames, "validation"), names),
        _denied_sample(client, frames, "train", train_denials, names),
        _window(_gather(client, frames, "test"), names),
        (x_sample, y_sample),
        train_denials / n_train,
        truth,
        lambda message, done: progress(message, done + 1, steps),
    )
    model = evaluation.model
    ranges = client.gather([client.submit(submission_range, f) for f in frames])
    if refit:
        progress(f"refitting on all {totals[LABELED][0]:,} labelled claims", 5, steps)
        denied = _denied_sample(client, frames, LABELED, totals[LABELED][1], names)
        refit_frames = [
            client.submit(refit_frame, f, h, shared, seed)
            for seed, (f, h) in enumerate(zip(frames, history.groups, strict=True))
        ]
        del frames  # each is freed once its refit frame exists: the workers keep one copy
        refitted = _refit(client, chosen, refit_frames, names, totals[LABELED][0])
        model = evaluation.refitted(refitted, denied)
    window = training_window(np.array([min(r[0] for r in ranges), max(r[1] for r in ranges)]))
    return finish(
        model,
        evaluation,
        TimeSplit({}, starts),
        window,
        refit,
        chosen.params | {"rounds": chosen.rounds, "estimator": chosen.name, "trained_on": "dask"},
        None,
    )
