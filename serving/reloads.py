"""Reloading the model in every worker: on request, on SIGHUP, and following the others.

A worker that reloads (admin call) bumps the generation in the shared state; every worker
checks it every ``reload_poll_seconds`` and reloads when it moved, so an admin reload reaches
all workers, not only the one that answered it. With ``poll_seconds`` set, each worker also
follows the registry alias. A refused model changes nothing: the old one keeps serving.
"""

from __future__ import annotations

import logging
import threading

from scoring.scorer import Scorer
from serving.holder import ModelHolder, ModelRefused
from serving.metrics import Metrics
from serving.settings import ServeSettings
from serving.state import SharedState, StateUnavailable

log = logging.getLogger("claimrisk.serving")


class Reloader:
    def __init__(
        self, settings: ServeSettings, holder: ModelHolder, metrics: Metrics, shared: SharedState
    ) -> None:
        self.settings, self.holder, self.metrics, self.shared = settings, holder, metrics, shared
        self.seen: int | None = None  # the generation this worker's model belongs to
        self._stop = threading.Event()

    def _generation(self) -> int | None:
        try:
            return self.shared.generation()
        except StateUnavailable as error:
            log.error("shared state: %s", error)
            return None

    def start(self) -> None:
        """Load the model (a refused model leaves /ready at 503) and start following."""
        self.seen = self._generation()
        if self.holder.scorer is None:
            try:
                self.reload(announce=False)
            except ModelRefused:
                log.error("no model could be loaded; /ready answers 503 until a reload works")
        else:
            self.metrics.model_loaded(self.holder.scorer.version, self.holder.scorer.source)
        threading.Thread(target=self._follow, name="model-reloads", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def reload(self, announce: bool = True) -> Scorer:
        """Reload this worker's model; with ``announce`` the other workers follow."""
        scorer = self.holder.reload()
        self.metrics.model_loaded(scorer.version, scorer.source)
        if announce:
            try:
                self.seen = self.shared.bump_generation()
            except StateUnavailable as error:
                log.error("reload not passed on to other workers: %s", error)
        return scorer

    def _follow(self) -> None:
        every = self.settings.reload_poll_seconds
        alias_every = self.settings.poll_seconds
        waited = 0.0
        while not self._stop.wait(every):
            waited += every
            current = self._generation()
            if current is not None and current != self.seen:
                self.seen = current
                try:
                    self.reload(announce=False)
                except ModelRefused:
                    log.error("reload of another worker refused here; the old model serves")
            if alias_every > 0 and waited >= alias_every:
                waited = 0.0
                self._follow_alias()

    def _follow_alias(self) -> None:
        """Reload when the registry alias points to another version."""
        from scoring.registry import get_settings, version_for

        current = self.holder.scorer
        try:
            found = version_for(get_settings(), self.settings.model)
            if found is not None and (current is None or str(found.version) != current.version):
                self.reload(announce=False)
        except Exception as error:  # keep polling: the old model keeps serving
            log.error("alias poll failed: %s", type(error).__name__)
