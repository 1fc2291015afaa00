"""The biller's page: a work queue of scored claims, served by the same app.

The page is static: ``queue.html`` with its script and stylesheet under ``/static`` (same
origin, nothing inline, so a ``default-src 'self'`` Content-Security-Policy holds).
"""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from features.uploads import template_csv
from serving.page_headers import page_headers

router = APIRouter(tags=["page"])


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def work_queue() -> HTMLResponse:
    html = resources.files("serving").joinpath("static/queue.html").read_text()
    return HTMLResponse(html, headers=page_headers(html))


@router.get(
    "/upload-template.csv",
    response_class=Response,
    summary="A CSV upload to start from: every column, one example claim",
    tags=["claims"],
)
def upload_template() -> Response:
    return Response(
        template_csv(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="claimrisk-upload-template.csv"'},
    )


def mount_static(app: FastAPI) -> None:
    """The page's script, stylesheet and vendored assets."""
    app.mount("/static", StaticFiles(packages=[("serving", "static")]), name="static")
