"""The FastAPI app: pre-submission scoring with reasons, versioned under /v1.

``create_app`` builds everything from settings; nothing happens at import. The model is loaded
at start-up (lifespan); a model that cannot load leaves /ready at 503 rather than crashing.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from serving.audit import Auditor
from serving.batcher import ScoreBatcher
from serving.holder import ModelHolder, ModelRefused, loader_for
from serving.keys import KeyStore
from serving.metrics import Metrics
from serving.middleware import RequestMetrics
from serving.predictions import PredictionStore, PredictionWriter
from serving.queue_status import QueueStatusStore
from serving.routes import claims, fhir, health, model, page, queue
from serving.settings import ServeSettings, get_serve_settings

log = logging.getLogger("claimrisk.serving")


def _poll(app: FastAPI, every: float, stop: threading.Event) -> None:
    """Reload when the registry alias points to another version."""
    from scoring.registry import get_settings, version_for

    while not stop.wait(every):
        current = app.state.holder.scorer
        try:
            found = version_for(get_settings(), app.state.settings.model)
            if found is not None and (current is None or str(found.version) != current.version):
                scorer = app.state.holder.reload()
                app.state.metrics.model_loaded(scorer.version, scorer.source)
        except Exception as error:  # keep polling: the old model keeps serving
            log.error("alias poll failed: %s", type(error).__name__)


def create_app(settings: ServeSettings | None = None, holder: ModelHolder | None = None) -> FastAPI:
    settings = settings or get_serve_settings()
    holder = holder or ModelHolder(loader_for(settings))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if holder.scorer is None:
            try:
                scorer = holder.reload()
                app.state.metrics.model_loaded(scorer.version, scorer.source)
            except ModelRefused:
                log.error("no model could be loaded; /ready answers 503 until a reload works")
        # What is alive now (modules, the model) lives as long as the app. Frozen, it is left
        # out of the collector's full passes, which paused every request for 50-130 ms.
        gc.collect()
        gc.freeze()
        stop = threading.Event()
        if settings.poll_seconds > 0:
            threading.Thread(
                target=_poll, args=(app, settings.poll_seconds, stop), daemon=True
            ).start()
        yield
        gc.unfreeze()
        stop.set()
        if app.state.predictions is not None:
            app.state.predictions.close()
        if app.state.queue is not None:
            app.state.queue.close()

    app = FastAPI(
        title="claimrisk",
        version="1",
        summary="Predicts whether a payer will deny a claim before it is submitted, and why.",
        lifespan=lifespan,
        max_body_size=settings.max_body_bytes,  # 413, also for bodies without a length
    )
    app.state.settings = settings
    app.state.holder = holder
    app.state.keys = KeyStore(settings.api_keys_file)
    app.state.metrics = Metrics()
    app.state.auditor = Auditor(settings.audit_log)
    app.state.predictions = (
        PredictionWriter(PredictionStore(settings.prediction_store))
        if settings.prediction_store
        else None
    )
    app.state.queue = QueueStatusStore(settings.queue_store) if settings.queue_store else None
    app.state.last_batch = {}
    app.state.batcher = ScoreBatcher(holder)
    if holder.scorer is not None:
        app.state.metrics.model_loaded(holder.scorer.version, holder.scorer.source)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        details: list[dict[str, Any]] = [
            {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in error.errors()
        ]
        return JSONResponse({"detail": details}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)

    @app.exception_handler(Exception)
    async def failure(request: Request, error: Exception) -> JSONResponse:
        log.error("unhandled %s on %s", type(error).__name__, request.url.path)
        return JSONResponse({"detail": "internal error"}, status_code=500)

    for router in (
        claims.router,
        queue.router,
        fhir.router,
        model.router,
        health.router,
        page.router,
    ):
        app.include_router(router)
    page.mount_static(app)
    app.add_middleware(RequestMetrics, metrics=app.state.metrics)
    return app
