"""The ASGI entry point for uvicorn: ``serving.main:app``; SIGHUP reloads the model.

With several workers, ``claimrisk serve`` passes a SIGHUP on to each of them."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from serving.app import create_app
from serving.holder import ModelRefused
from serving.services import Services

app = create_app()
services: Services = app.state.services
log = logging.getLogger("claimrisk.serving")


def _reload(signum: int, frame: FrameType | None) -> None:
    def run() -> None:
        try:
            services.reloader.reload(announce=False)  # every worker gets the signal
        except ModelRefused:
            log.error("reload on SIGHUP refused; the old model keeps serving")

    threading.Thread(target=run, daemon=True).start()


if threading.current_thread() is threading.main_thread():
    signal.signal(signal.SIGHUP, _reload)
