"""What model is loaded, and the admin reload."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status

from scoring.schemas import ModelInfo
from serving.deps import AdminDep, CallerDep, ScorerDep
from serving.holder import ModelRefused

router = APIRouter(tags=["model"])


@router.get("/v1/model", response_model=ModelInfo, summary="The model being served")
async def model_info(scorer: ScorerDep, caller: CallerDep) -> ModelInfo:
    return scorer.info()


@router.post("/v1/admin/reload", response_model=ModelInfo, summary="Reload the model")
def reload(request: Request, caller: AdminDep) -> ModelInfo:
    try:
        scorer = request.app.state.holder.reload()
    except ModelRefused as error:
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"new model refused, the old one keeps serving: {error}"
        ) from error
    request.app.state.metrics.model_loaded(scorer.version, scorer.source)
    return scorer.info()
