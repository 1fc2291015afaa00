"""The FastAPI app: pre-submission scoring with reasons, versioned under /v1.

``create_app`` builds everything from settings; nothing happens at import. The model is loaded
at start-up (lifespan), after a child process has checked it; a model that cannot load
leaves /ready at 503 rather than crashing. What the routes use is one typed ``Services``.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from serving import problems
from serving.holder import ModelHolder, loader_for
from serving.logs import RequestId
from serving.middleware import RequestMetrics
from serving.routes import claims, fhir, health, model, page, queue
from serving.schemas import BatchIn
from serving.services import Services
from serving.settings import ServeSettings, get_serve_settings


def create_app(settings: ServeSettings | None = None, holder: ModelHolder | None = None) -> FastAPI:
    settings = settings or get_serve_settings()
    services = Services.build(settings, holder or ModelHolder(loader_for(settings)))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services.reloader.start()
        services.batches.warm_up()
        # What is alive now (modules, the model) lives as long as the app. Frozen, it is left
        # out of the collector's full passes, which paused every request for 50-130 ms.
        gc.collect()
        gc.freeze()
        yield
        gc.unfreeze()
        services.reloader.stop()
        services.batches.close()
        services.holder.close()
        if services.earlier is not None:
            services.earlier.close()
        if services.predictions is not None:  # the last connection: the WAL is merged
            services.predictions.close()
        services.shared.close()
        if services.queue is not None:
            services.queue.close()

    app = FastAPIOffline(  # /docs and /redoc from packaged files, no CDN
        title="claimrisk",
        version="1",
        summary="Predicts whether a payer will deny a claim before it is submitted, and why.",
        lifespan=lifespan,
    )
    app.state.services = services
    problems.install(app)
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
    problems.document_errors(
        app,
        {
            "/v1/admin/reload": {409},
            "/v1/claims/last-batch": {404, 503},
            "/ready": {503},
            "/v1/claims/{claim_id}/status": {503},
            "/v1/claims/statuses": {503},
            "/v1/claims/{claim_id}/overrides": {409, 503},
        },
        [BatchIn],
    )
    app.add_middleware(problems.BodyLimit, limit=settings.max_body_bytes)  # also unsized bodies
    app.add_middleware(RequestMetrics, metrics=services.metrics)
    app.add_middleware(RequestId)
    return app
