"""Typed dependencies of the routes: settings, the current scorer, the caller's API key."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader

from scoring.scorer import Scorer
from serving.keys import StoredKey
from serving.services import services
from serving.settings import ServeSettings


async def get_app_settings(request: Request) -> ServeSettings:
    """The settings the app was built with (no dependency override: FastAPI rebuilds an
    override's signature on every request)."""
    return services(request).settings


SettingsDep = Annotated[ServeSettings, Depends(get_app_settings)]
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="claimrisk API key")
ANONYMOUS = StoredKey("anonymous", "anonymous", "admin", "", "")


async def get_scorer(request: Request) -> Scorer:
    scorer = services(request).holder.scorer
    if scorer is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "no model loaded yet")
    return scorer


async def get_caller(
    request: Request, settings: SettingsDep, key: Annotated[str | None, Security(_api_key)]
) -> StoredKey:
    if settings.allow_anonymous:
        return ANONYMOUS
    found = services(request).keys.verify(key) if key else None
    if found is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing or unknown API key (header X-API-Key)",
            headers={"WWW-Authenticate": "APIKey"},
        )
    return found


async def get_admin(caller: Annotated[StoredKey, Depends(get_caller)]) -> StoredKey:
    if caller.role != "admin":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this key may not administer the service")
    return caller


ScorerDep = Annotated[Scorer, Depends(get_scorer)]
CallerDep = Annotated[StoredKey, Depends(get_caller)]
AdminDep = Annotated[StoredKey, Depends(get_admin)]
