"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response, status
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST

from serving.services import ServicesDep

router = APIRouter(tags=["health"])


@router.get("/health", summary="The process is alive")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready", summary="A model is loaded and can score")
async def ready(services: ServicesDep) -> dict[str, str]:
    scorer = services.holder.scorer
    if scorer is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "no model loaded")
    return {"status": "ready", "model_version": scorer.version}


@router.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse)
def metrics(services: ServicesDep) -> Response:
    return Response(services.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
