"""The biller's page: a work queue of scored claims, served by the same app."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from serving.page_headers import page_headers

router = APIRouter(tags=["page"])


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def work_queue() -> HTMLResponse:
    html = resources.files("serving").joinpath("static/queue.html").read_text()
    return HTMLResponse(html, headers=page_headers(html))
