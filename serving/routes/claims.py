"""Scoring routes: one claim, a batch, an uploaded file, and the caller's last batch."""

from __future__ import annotations

import logging
import sqlite3
import time
from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request, status

from features.contract import MAX_BATCH, ClaimIn
from features.reading import Item, read_value
from features.uploads import UploadError, parse_upload
from features.x12 import UnsupportedTransaction, X12Error, decode
from scoring.schemas import ScoreOut
from scoring.scorer import Scorer, score_in_place
from serving.deps import CallerDep, ScorerDep, get_scorer
from serving.predictions import PredictionStoreError
from serving.schemas import BatchIn, BatchOut, ClaimSummary, X12BatchOut
from serving.x12 import score_837p

router = APIRouter(prefix="/v1/claims", tags=["claims"])
log = logging.getLogger("claimrisk.serving")


def _record(
    request: Request,
    who: str,
    route: str,
    scorer: Scorer,
    results: list[ScoreOut],
    features: np.ndarray | None = None,
) -> None:
    """Metrics, the audit line, and the prediction store (which never fails a request)."""
    state = request.app.state
    bands = [r.risk_band for r in results]
    for band in bands:
        state.metrics.scores.labels(band=band).inc()
    state.auditor.record(who, route, [r.claim_id for r in results], scorer.version, bands)
    if state.predictions is not None:
        try:
            state.predictions.record(results, features, scorer.model.feature_names)
        except (sqlite3.Error, PredictionStoreError) as error:
            log.error("prediction store: %s", type(error).__name__)


@router.post(
    "/score",
    response_model=ScoreOut,
    summary="Score one claim before submission",
    dependencies=[Depends(get_scorer)],
)
async def score(claim: ClaimIn, request: Request, caller: CallerDep) -> ScoreOut:
    """Scored on the event loop, together with the claims of concurrent calls (see
    ``serving.batcher``): a thread would only add a hop and a GIL hand-back to a few
    milliseconds of CPU. Batches, which take seconds, run in threads."""
    scored = await request.app.state.batcher.score(claim)
    _record(request, caller.key_id, "score", scored.scorer, [scored.result], scored.features)
    return scored.result


def _score_batch(
    request: Request,
    scorer: ScorerDep,
    caller: CallerDep,
    items: list[Item],
    explain: str,
    route: str,
) -> BatchOut:
    started = time.perf_counter()
    answers, scored, features = score_in_place(scorer, items, explain)
    summaries = [ClaimSummary.of(item) if isinstance(item, ClaimIn) else None for item in items]
    batch = BatchOut(model=scorer.ref, results=answers, claims=summaries)
    request.app.state.last_batch[caller.key_id] = batch
    _record(request, caller.key_id, route, scorer, scored, features)
    request.app.state.metrics.latency.labels(route=f"{route}:per_claim").observe(
        (time.perf_counter() - started) / max(len(scored), 1)
    )
    return batch


@router.post(
    "/score-batch",
    response_model=BatchOut,
    summary="Score up to 10,000 claims; one that cannot be read is answered with its problems",
)
def score_batch(body: BatchIn, request: Request, scorer: ScorerDep, caller: CallerDep) -> BatchOut:
    items = [read_value(value) for value in body.claims]
    return _score_batch(request, scorer, caller, items, body.reasons, "score-batch")


@router.post(
    "/score-upload",
    response_model=BatchOut,
    summary="Score a JSONL or CSV file (one claim per line, or one service line per CSV row)",
)
def score_upload(
    request: Request,
    scorer: ScorerDep,
    caller: CallerDep,
    body: Annotated[
        bytes, Body(media_type="text/plain", description="UTF-8, UTF-16 or Windows-1252")
    ],
    format: Annotated[Literal["jsonl", "csv"], Query(description="File format")] = "jsonl",
    reasons: Annotated[Literal["all", "medium", "high", "none"], Query()] = "all",
) -> BatchOut:
    try:
        items = parse_upload(decode(body), format)
    except UploadError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, error.problems) from error
    return _score_batch(request, scorer, caller, items, reasons, "score-upload")


@router.post(
    "/score-x12",
    response_model=X12BatchOut,
    summary="Score every claim (CLM) of an X12 837P file, in file order, with its 271 / 278",
)
def score_x12(
    request: Request,
    scorer: ScorerDep,
    caller: CallerDep,
    body: Annotated[
        bytes,
        Body(
            media_type="text/plain",
            description=(
                "An 837P (005010X222A1/A2), at most 10,000 CLM, optionally followed (or "
                "preceded) by 271 eligibility (005010X279A1) and 278 services review "
                "(005010X217) interchanges: each claim gets the context of its member and payer"
            ),
        ),
    ],
    reasons: Annotated[Literal["all", "medium", "high", "none"], Query()] = "all",
) -> X12BatchOut:
    try:
        results, context = score_837p(
            scorer, decode(body), "request body", reasons, max_claims=MAX_BATCH
        )
    except (X12Error, UnsupportedTransaction) as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from error
    scored = [r.result for r in results if r.result is not None]
    _record(request, caller.key_id, "score-x12", scorer, scored)
    return X12BatchOut(model=scorer.ref, results=results, context=context)


@router.get("/last-batch", response_model=BatchOut, summary="The last batch this key scored")
async def last_batch(request: Request, caller: CallerDep) -> BatchOut:
    batch = request.app.state.last_batch.get(caller.key_id)
    if batch is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no batch scored yet with this key")
    return batch
