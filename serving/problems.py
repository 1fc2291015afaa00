"""Errors as RFC 9457 problem details (``application/problem+json``), in one place.

Every error the API gives has one shape: ``type``, ``title``, ``status``, ``detail``,
``instance`` (the path) and ``request_id``; a 422 also lists ``errors``, each with the field
path ``loc`` (and ``line`` for uploads), ``msg`` and ``type``. ``document_errors`` puts the
error responses each route can give into the OpenAPI document, read off its dependencies.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from serving.logs import request_id

log = logging.getLogger("claimrisk.serving")
MEDIA_TYPE = "application/problem+json"


class FieldProblem(BaseModel):
    loc: list[str | int] = Field(description="Path of the field in the request ([] for all)")
    msg: str
    type: str
    line: int | None = Field(None, description="Line of an uploaded file")


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str
    request_id: str | None = None
    errors: list[FieldProblem] | None = Field(None, description="What is wrong, field by field")


def problem(
    request: Request,
    status: int,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = Problem(
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        instance=request.url.path,
        request_id=request_id.get(),
        errors=[FieldProblem.model_validate(e) for e in errors] if errors is not None else None,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status,
        headers=dict(headers or {}),
        media_type=MEDIA_TYPE,
    )


def _field_problem(error: dict[str, Any]) -> dict[str, Any]:
    return {
        "loc": list(error.get("loc", [])),
        "msg": str(error.get("msg", "")),
        "type": str(error.get("type", "value_error")),
        **({"line": error["line"]} if "line" in error else {}),
    }


async def invalid(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = [_field_problem(e) for e in error.errors()]
    return problem(request, 422, f"{len(errors)} problem(s) in the request", errors)


async def http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    detail, errors = error.detail, None
    if isinstance(detail, list):  # an upload's problems, line by line
        errors = [_field_problem(e) for e in detail]
        detail = f"{len(errors)} problem(s) in the request"
    elif error.status_code == 422:
        errors = [_field_problem({"loc": ["body"], "msg": detail})]
    return problem(request, error.status_code, str(detail), errors, error.headers)


async def failure(request: Request, error: Exception) -> JSONResponse:
    log.error("unhandled %s on %s", type(error).__name__, request.url.path)
    return problem(request, 500, "internal error")


class BodyLimit:
    """413, as problem details, for a body over the limit: at once when its Content-Length
    says so, and while it is read when it has none (chunked)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        detail = f"the body is larger than {self.limit:,} bytes"
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.limit:
            await problem(Request(scope), 413, detail)(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise HTTPException(413, detail)
            return message

        await self.app(scope, counted, send)


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, failure)


# --- the OpenAPI document -------------------------------------------------------------------

WHY = {
    400: "The body could not be read (bytes that are not text in the declared encoding)",
    401: "No API key, or an unknown one (header X-API-Key)",
    403: "The key may not do this (an admin key is needed)",
    404: "Nothing to return yet",
    409: "The new model was refused; the old one keeps serving",
    413: "The body is larger than the limit",
    422: "The request is not valid; `errors` lists each problem with its field path",
    503: "Not available now: no model loaded yet, or too many batches waiting (Retry-After)",
}


def _calls(dependant: Dependant) -> set[str]:
    found = {getattr(dependant.call, "__name__", "")}
    for sub in dependant.dependencies:
        found |= _calls(sub)
    return found


def _statuses(route: APIRoute) -> set[int]:
    calls = _calls(route.dependant)
    statuses: set[int] = set()
    if "get_caller" in calls:
        statuses.add(401)
    if "get_admin" in calls:
        statuses.add(403)
    if "get_scorer" in calls:
        statuses.add(503)
    media_type = getattr(route.body_field.field_info, "media_type", "") if route.body_field else ""
    if "json" in str(media_type):  # FastAPI answers 400 to a JSON body it cannot decode
        statuses.add(400)
    if route.body_field is not None or "requestBody" in (route.openapi_extra or {}):
        statuses |= {413, 422}
    if route.dependant.query_params or route.dependant.header_params or route.dependant.path_params:
        statuses.add(422)
    return statuses


def document_errors(
    app: FastAPI, extra: dict[str, set[int]], bodies: list[type[BaseModel]]
) -> None:
    """Let ``app.openapi()`` list every error a route can answer, as problem details;
    ``extra``: route path -> statuses its handler raises itself (409, 404); ``bodies``: models
    of request bodies a route reads itself (named in its ``openapi_extra``)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, summary=app.summary, routes=app.routes
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["Problem"] = Problem.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        for name, definition in components["Problem"].pop("$defs", {}).items():
            components[name] = definition
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        reference = {"$ref": "#/components/schemas/Problem"}
        for context in iter_route_contexts(app.routes):  # included routers too
            route = context.original_route
            if not isinstance(route, APIRoute) or not route.include_in_schema:
                continue
            path = context.path_format or route.path_format
            statuses = _statuses(route) | extra.get(path, set())
            for method in route.methods or ():
                operation = schema["paths"][path][method.lower()]
                responses = operation.setdefault("responses", {})
                for status in sorted(statuses):
                    if status in route.responses:  # the route answers it in its own format
                        continue
                    responses[str(status)] = {
                        "description": WHY[status],
                        "content": {MEDIA_TYPE: {"schema": reference}},
                    }
                if "422" in responses and 422 not in statuses:
                    del responses["422"]
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
