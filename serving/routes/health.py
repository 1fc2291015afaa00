"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from prometheus_client import CONTENT_TYPE_LATEST

from serving.services import ServicesDep

router = APIRouter(tags=["health"])


@router.get("/health", summary="The process is alive")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready", summary="A model is loaded and can score")
async def ready(services: ServicesDep, response: Response) -> dict[str, str]:
    scorer = services.holder.scorer
    if scorer is None:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return {"status": "no model loaded"}
    return {"status": "ready", "model_version": scorer.version}


@router.get("/metrics", summary="Prometheus metrics")
def metrics(services: ServicesDep) -> Response:
    return Response(services.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
