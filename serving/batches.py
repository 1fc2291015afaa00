"""Batch scoring away from the single-claim path: a low-priority process, a bounded queue.

A 10,000-claim batch is seconds of CPU in Python and numpy. Run in a thread of the worker,
its body parsing, validation and scoring held the GIL against the event loop, and single
claims waited (p99 over a second). Here the event loop only reads the body; a separate
process per worker parses, validates, scores and serialises it at the lowest CPU priority
(``nice`` 19), keeps it as the key's last batch and records its predictions, and hands back
the finished answer. Its claims see the claims scored before (``serving.earlier``) as the
worker's single claims do. The kernel then gives the cores to single claims first and to
batches whatever is left. At most ``max_batches_waiting`` batches queue per worker; beyond that a
call gets 503 with ``Retry-After``. ``batch_processes = 0`` runs the same job in a thread
(for tests and tiny installs).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import time
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import ValidationError

from features.contract import MAX_BATCH, ClaimIn
from features.reading import Item, read_value
from features.uploads import UploadError, parse_upload
from features.x12 import UnsupportedTransaction, X12Error, decode
from scoring.artifact import ClaimRiskModel
from scoring.schemas import ScoreOut
from scoring.scorer import Scorer, score_in_place
from serving.digest_key import DigestKeyError, load_key
from serving.earlier import EarlierCheck, EarlierClaims
from serving.predictions import PredictionStore, PredictionStoreError, SubmissionReader
from serving.schemas import BatchIn, BatchOut, ClaimSummary, X12BatchOut
from serving.state import SharedState, StateUnavailable
from serving.x12 import score_837p

log = logging.getLogger("claimrisk.serving")
Kind = Literal["batch", "jsonl", "csv", "x12"]


class BatchRejected(Exception):
    """The batch cannot be scored as sent: ``problems`` say why (a 422)."""

    def __init__(self, problems: list[dict[str, Any]] | str) -> None:
        super().__init__(problems if isinstance(problems, str) else f"{len(problems)} problem(s)")
        self.problems = problems


class BatchesBusy(Exception):
    """Too many batches wait already (a 503 with Retry-After)."""


@dataclass(frozen=True)
class BatchJob:
    body: bytes
    kind: Kind
    explain: str
    key_id: str
    model_folder: str | None
    model_version: str
    model_source: str
    state_file: str
    prediction_store: str | None
    digest_key_file: str | None = None  # claims scored before are looked up (the worker's key)


@dataclass(frozen=True)
class BatchDone:
    body: bytes  # the JSON answer
    claim_ids: list[str]
    bands: list[str]
    kept: bool  # False: the key's last batch could not be stored
    recorded: bool | None  # predictions stored (None: no store)
    seconds: float


_scorers: dict[str, Scorer] = {}


def _scorer_for(job: BatchJob) -> Scorer:
    """The job's model, loaded once per batch process (it was checked when the worker
    loaded it)."""
    assert job.model_folder is not None
    if job.model_folder not in _scorers:
        _scorers.clear()
        model = ClaimRiskModel.load(Path(job.model_folder))
        _scorers[job.model_folder] = Scorer(model, job.model_version, job.model_source)
    return _scorers[job.model_folder]


def _earlier_for(job: BatchJob) -> EarlierClaims | None:
    """The lookup of claims scored before, with the key the worker holds, opened per batch
    as the store is (a key that went missing since leaves the batch scored without it)."""
    if job.prediction_store is None or job.digest_key_file is None:
        return None
    try:
        key = load_key(Path(job.digest_key_file), create=False)
    except DigestKeyError as error:
        log.error("%s: the batch's claims are not checked against earlier ones", error)
        return None
    return EarlierClaims(key, SubmissionReader(Path(job.prediction_store)))


def _items(job: BatchJob) -> tuple[list[Item], str]:
    """The batch's claims, each read on its own: one that cannot be read becomes its
    problems, answered in its place; only an envelope that cannot be read is rejected."""
    if job.kind == "batch":
        try:
            batch = BatchIn.model_validate_json(job.body)
        except ValidationError as error:
            raise BatchRejected(
                [
                    {"loc": ["body", *e["loc"]], "msg": e["msg"], "type": e["type"]}
                    for e in error.errors(include_url=False, include_input=False)
                ]
            ) from error
        return [read_value(value) for value in batch.claims], batch.reasons
    try:
        return parse_upload(decode(job.body), job.kind), job.explain
    except UploadError as error:
        raise BatchRejected(error.problems) from error


def _answer(
    job: BatchJob, scorer: Scorer, check: EarlierCheck | None
) -> tuple[bytes, list[ScoreOut], np.ndarray]:
    """The answer's JSON body, the scores in it, and the feature rows they were scored from."""
    if job.kind == "x12":
        try:
            found, context, features = score_837p(
                scorer, decode(job.body), "request body", job.explain, MAX_BATCH, check
            )
        except (X12Error, UnsupportedTransaction) as error:
            raise BatchRejected(str(error)) from error
        answer = X12BatchOut(model=scorer.ref, results=found, context=context)
        scored = [r.result for r in found if r.result is not None]
        return answer.model_dump_json().encode(), scored, features
    items, explain = _items(job)
    answers, scored, features = score_in_place(scorer, items, explain, check)
    summaries = [ClaimSummary.of(item) if isinstance(item, ClaimIn) else None for item in items]
    batch = BatchOut(model=scorer.ref, results=answers, claims=summaries)
    return batch.model_dump_json().encode(), scored, features


def run_job(job: BatchJob, scorer: Scorer | None = None) -> BatchDone:
    """Parse, score, keep (as the key's last batch: not an 837P, whose answer is another
    shape) and record one batch (in the batch process, or a thread)."""
    started = time.perf_counter()
    scorer = scorer or _scorer_for(job)
    earlier = _earlier_for(job)
    check = earlier.check() if earlier is not None else None
    try:
        body, results, features = _answer(job, scorer, check)
    finally:
        if earlier is not None:
            earlier.close()
    kept = job.kind == "x12" or _keep(job, body)
    recorded = None
    if job.prediction_store:
        lines = check.submissions() if check is not None else []
        try:
            with PredictionStore(Path(job.prediction_store)) as store:
                store.record(results, features, scorer.model.feature_names, submissions=lines)
            recorded = True
        except (PredictionStoreError, sqlite3.Error, OSError) as error:  # never fails the call
            log.error("prediction store: %s", type(error).__name__)
            recorded = False
    return BatchDone(
        body,
        [r.claim_id for r in results],
        [r.risk_band for r in results],
        kept,
        recorded,
        time.perf_counter() - started,
    )


def _keep(job: BatchJob, body: bytes) -> bool:
    """Stored as the key's last batch; False when the shared state could not take it."""
    state = SharedState(Path(job.state_file))  # opened per batch: a millisecond per batch
    try:
        state.put_last_batch(job.key_id, body)
        return True
    except StateUnavailable as error:
        log.error("last batch not kept: %s", error)
        return False
    finally:
        state.close()


def _lowest_priority() -> None:
    os.nice(19)
    os.environ.setdefault("OMP_NUM_THREADS", "1")


class BatchRunner:
    def __init__(self, processes: int, max_waiting: int) -> None:
        self.processes, self.max_waiting = processes, max_waiting
        self._executor: Executor | None = None
        self._running = 0

    def _pool(self) -> Executor:
        if self._executor is None:
            if self.processes == 0:  # or a model without files (built in tests)
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="batches")
            else:
                self._executor = ProcessPoolExecutor(
                    self.processes, mp_context=get_context("spawn"), initializer=_lowest_priority
                )
        return self._executor

    def warm_up(self) -> None:
        """Start the batch process now rather than on the first batch."""
        if self.processes:
            self._pool().submit(os.getpid)

    async def run(self, job: BatchJob, scorer: Scorer) -> BatchDone:
        if self._running >= self.max_waiting + max(self.processes, 1):
            raise BatchesBusy
        self._running += 1
        try:
            loop = asyncio.get_running_loop()
            if self.processes == 0 or job.model_folder is None:
                return await loop.run_in_executor(self._pool(), run_job, job, scorer)
            try:
                return await loop.run_in_executor(self._pool(), run_job, job)
            except BrokenProcessPool:
                log.error("the batch process died; starting a new one")
                self.close()
                raise
        finally:
            self._running -= 1

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
