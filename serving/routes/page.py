"""The biller's page: a work queue of scored claims, served by the same app."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(tags=["page"])


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def work_queue() -> HTMLResponse:
    return HTMLResponse(resources.files("serving").joinpath("static/queue.html").read_text())
