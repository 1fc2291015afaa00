"""What model is loaded, and the admin reload."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from scoring.schemas import ModelInfo
from serving.deps import AdminDep, CallerDep, ScorerDep
from serving.holder import ModelRefused
from serving.services import ServicesDep

router = APIRouter(tags=["model"])


@router.get("/v1/model", response_model=ModelInfo, summary="The model being served")
async def model_info(scorer: ScorerDep, caller: CallerDep) -> ModelInfo:
    return scorer.info()


@router.post("/v1/admin/reload", response_model=ModelInfo, summary="Reload the model")
def reload(services: ServicesDep, caller: AdminDep) -> ModelInfo:
    """Checks the new model in a child process first; every worker follows a reload."""
    try:
        scorer = services.reloader.reload()
    except ModelRefused as error:
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"new model refused, the old one keeps serving: {error}"
        ) from error
    return scorer.info()
