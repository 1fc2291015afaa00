"""The ASGI entry point for uvicorn: ``serving.main:app``; SIGHUP reloads the model."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from serving.app import create_app
from serving.holder import ModelRefused

app = create_app()
log = logging.getLogger("claimrisk.serving")


def _reload(signum: int, frame: FrameType | None) -> None:
    def run() -> None:
        try:
            scorer = app.state.holder.reload()
            app.state.metrics.model_loaded(scorer.version, scorer.source)
        except ModelRefused:
            log.error("reload on SIGHUP refused; the old model keeps serving")

    threading.Thread(target=run, daemon=True).start()


if threading.current_thread() is threading.main_thread():
    signal.signal(signal.SIGHUP, _reload)
