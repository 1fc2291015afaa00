"""The work queue's state on the server: each claim's status (open, fixed, sent as is) and the
billers' disagreements with a reason (overrides, kept with the prediction they are about)."""

from __future__ import annotations

import logging
import sqlite3
from typing import Annotated

from fastapi import APIRouter, Body, HTTPException, Path, Request, status
from pydantic import BaseModel, ConfigDict, Field

from features.categories import Category
from features.contract import MAX_BATCH
from serving.deps import CallerDep
from serving.predictions import OverrideRefused, PredictionStore, PredictionStoreError
from serving.queue_status import ClaimState, ClaimStatus, QueueStatusStore
from serving.services import services

router = APIRouter(prefix="/v1/claims", tags=["work queue"])
log = logging.getLogger("claimrisk.serving")
ClaimId = Annotated[str, Path(min_length=1, max_length=80, description="CLM01")]
Note = Annotated[
    str | None,
    Field(max_length=500, description="The biller's words; no patient details, please"),
]


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: ClaimState
    note: Note = None


class StatusesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    claim_ids: list[Annotated[str, Field(min_length=1, max_length=80)]] = Field(
        min_length=1, max_length=MAX_BATCH
    )


class OverrideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    category: Category = Field(description="The reason (denial category) the biller disputes")
    note: Note = None


class OverrideOut(BaseModel):
    id: int
    claim_id: str
    category: str
    note: str | None
    who: str
    recorded_at: str
    prediction_id: int
    model_version: str


def _statuses(request: Request) -> QueueStatusStore:
    store: QueueStatusStore | None = services(request).queue
    if store is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "claim statuses are off: set CLAIMRISK_SERVE_QUEUE_STORE to a file",
        )
    return store


def _predictions(request: Request) -> PredictionStore:
    """The prediction store, once what this worker has enqueued is written (the score a
    biller disputes may still wait in its queue; a batch process writes its own)."""
    found = services(request)
    if found.predictions is None or found.settings.prediction_store is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "overrides need the prediction store: set CLAIMRISK_SERVE_PREDICTION_STORE",
        )
    found.predictions.flush()
    try:
        return PredictionStore(found.settings.prediction_store)
    except (PredictionStoreError, sqlite3.Error) as error:
        raise _stored("opening the prediction store") from error


def _stored(action: str) -> HTTPException:
    log.error("%s: database error", action)
    return HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"{action} failed; try again")


@router.get("/{claim_id}/status", response_model=ClaimStatus, summary="Where a claim stands")
def get_status(claim_id: ClaimId, request: Request, caller: CallerDep) -> ClaimStatus:
    try:
        return _statuses(request).get(claim_id)
    except sqlite3.Error as error:
        raise _stored("reading the status") from error


@router.put(
    "/{claim_id}/status",
    response_model=ClaimStatus,
    summary="Mark a claim open, fixed or sent as is (who: the API key's name)",
)
def put_status(
    claim_id: ClaimId, body: StatusIn, request: Request, caller: CallerDep
) -> ClaimStatus:
    try:
        return _statuses(request).set(claim_id, body.status, caller.name, body.note)
    except sqlite3.Error as error:
        raise _stored("saving the status") from error


@router.post(
    "/statuses",
    response_model=list[ClaimStatus],
    summary="The statuses of many claims at once (open for a claim never marked)",
)
def many_statuses(
    body: Annotated[StatusesIn, Body()], request: Request, caller: CallerDep
) -> list[ClaimStatus]:
    try:
        return _statuses(request).many(body.claim_ids)
    except sqlite3.Error as error:
        raise _stored("reading the statuses") from error


@router.post(
    "/{claim_id}/overrides",
    response_model=OverrideOut,
    status_code=status.HTTP_201_CREATED,
    summary="Disagree with one reason of the claim's latest score",
)
def add_override(
    claim_id: ClaimId, body: OverrideIn, request: Request, caller: CallerDep
) -> OverrideOut:
    try:
        with _predictions(request) as store:
            stored = store.override(claim_id, body.category, caller.name, body.note)
    except OverrideRefused as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from error
    except sqlite3.Error as error:
        raise _stored("saving the override") from error
    return OverrideOut(**vars(stored))


@router.get(
    "/{claim_id}/overrides", response_model=list[OverrideOut], summary="A claim's overrides"
)
def list_overrides(claim_id: ClaimId, request: Request, caller: CallerDep) -> list[OverrideOut]:
    try:
        with _predictions(request) as store:
            return [OverrideOut(**vars(o)) for o in store.overrides(claim_id)]
    except sqlite3.Error as error:
        raise _stored("reading the overrides") from error
