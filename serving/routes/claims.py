"""Scoring routes: one claim, a batch, an uploaded file, and the caller's last batch."""

from __future__ import annotations

import logging
from concurrent.futures.process import BrokenProcessPool
from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request, Response, status

from features.contract import ClaimIn
from scoring.schemas import ScoreOut
from scoring.scorer import Scorer
from serving.batches import BatchesBusy, BatchJob, BatchRejected, Kind
from serving.deps import CallerDep, ScorerDep, get_scorer
from serving.earlier import key_path
from serving.keys import StoredKey
from serving.predictions import Submission
from serving.schemas import BatchOut, X12BatchOut
from serving.services import services
from serving.state import StateUnavailable

router = APIRouter(prefix="/v1/claims", tags=["claims"])
ROUTES = {
    "batch": "score-batch",
    "jsonl": "score-upload",
    "csv": "score-upload",
    "x12": "score-x12",
}
log = logging.getLogger("claimrisk.serving")


def _record(
    request: Request,
    who: str,
    route: str,
    scorer: Scorer,
    results: list[ScoreOut],
    features: np.ndarray | None = None,
    submissions: list[Submission] | None = None,
) -> None:
    """Metrics, the audit line, and the prediction store: none of them fails the call."""
    found = services(request)
    bands = [r.risk_band for r in results]
    for band in bands:
        found.metrics.scores.labels(band=band).inc()
    if not found.auditor.record(who, route, [r.claim_id for r in results], scorer.version, bands):
        found.metrics.record_failures.labels(sink="audit").inc()
    if found.predictions is not None:
        found.predictions.record(results, features, scorer.model.feature_names, submissions or [])


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
    scored = await services(request).batcher.score(claim)
    _record(
        request,
        caller.key_id,
        "score",
        scored.scorer,
        [scored.result],
        scored.features,
        scored.submissions,
    )
    return scored.result


async def _score_batch(
    request: Request, scorer: Scorer, caller: StoredKey, body: bytes, kind: Kind, explain: str
) -> Response:
    """Parsed, scored, kept as the key's last batch and recorded in the batch process (see
    ``serving.batches``); here only the audit line and metrics."""
    found, route = services(request), ROUTES[kind]
    settings = found.settings
    job = BatchJob(
        body=body,
        kind=kind,
        explain=explain,
        key_id=caller.key_id,
        model_folder=str(scorer.folder) if scorer.folder else None,
        model_version=scorer.version,
        model_source=scorer.source,
        state_file=str(settings.state_file),
        prediction_store=str(settings.prediction_store) if settings.prediction_store else None,
        digest_key_file=str(key_path(settings)) if found.earlier is not None else None,
    )
    try:
        done = await found.batches.run(job, scorer)
    except BatchRejected as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, error.problems) from error
    except BatchesBusy as error:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "too many batches are waiting; send it again shortly",
            headers={"Retry-After": "5"},
        ) from error
    except BrokenProcessPool as error:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "the batch process restarted; send it again"
        ) from error
    metrics = found.metrics
    for band in done.bands:
        metrics.scores.labels(band=band).inc()
    if not found.auditor.record(caller.key_id, route, done.claim_ids, scorer.version, done.bands):
        metrics.record_failures.labels(sink="audit").inc()
    if not done.kept:
        metrics.record_failures.labels(sink="last_batch").inc()
    if done.recorded is False:
        metrics.record_failures.labels(sink="predictions").inc()
    metrics.latency.labels(route=f"{route}:per_claim").observe(
        done.seconds / max(len(done.claim_ids), 1)
    )
    return Response(done.body, media_type="application/json")


@router.post(
    "/score-batch",
    response_model=BatchOut,
    summary="Score up to 10,000 claims; one that cannot be read is answered with its problems",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BatchIn"}}},
        }
    },
)
async def score_batch(request: Request, scorer: ScorerDep, caller: CallerDep) -> Response:
    """The body (a ``BatchIn``) is read here and parsed in the batch process."""
    return await _score_batch(request, scorer, caller, await request.body(), "batch", "all")


@router.post(
    "/score-upload",
    response_model=BatchOut,
    summary="Score a JSONL or CSV file (one claim per line, or one service line per CSV row)",
)
async def score_upload(
    request: Request,
    scorer: ScorerDep,
    caller: CallerDep,
    body: Annotated[
        bytes, Body(media_type="text/plain", description="UTF-8, UTF-16 or Windows-1252")
    ],
    format: Annotated[Literal["jsonl", "csv"], Query(description="File format")] = "jsonl",
    reasons: Annotated[Literal["all", "medium", "high", "none"], Query()] = "all",
) -> Response:
    return await _score_batch(request, scorer, caller, body, format, reasons)


@router.post(
    "/score-x12",
    response_model=X12BatchOut,
    summary="Score every claim (CLM) of an X12 837P file, in file order, with its 271 / 278",
)
async def score_x12(
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
) -> Response:
    """Read and scored in the batch process, as batches are (see ``serving.batches``)."""
    return await _score_batch(request, scorer, caller, body, "x12", reasons)


@router.get("/last-batch", response_model=BatchOut, summary="The last batch this key scored")
def last_batch(request: Request, caller: CallerDep) -> Response:
    try:
        body = services(request).shared.last_batch(caller.key_id)
    except StateUnavailable as error:
        log.error("last batch not readable: %s", error)
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "last batches unavailable"
        ) from error
    if body is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no batch scored yet with this key")
    return Response(body, media_type="application/json")
