"""Prometheus metrics of one app (own registry, so tests and reloads stay independent).

With several workers (``claimrisk serve --workers N``) every worker writes its samples into
``PROMETHEUS_MULTIPROC_DIR`` (prometheus_client's multiprocess mode, set up by ``serve``) and
``/metrics`` on any worker reports the sum over all of them, so a counter never goes
backwards between two scrapes whichever worker answers them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.requests = Counter(
            "claimrisk_requests", "HTTP requests", ["route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "claimrisk_request_seconds",
            "Request latency",
            ["route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 1, 2.5, 10),
            registry=self.registry,
        )
        self.scores = Counter(
            "claimrisk_scores", "Claims scored by risk band", ["band"], registry=self.registry
        )
        self.record_failures = Counter(
            "claimrisk_record_failures",
            "Scoring calls whose audit line, stored predictions or last batch could not be "
            "written (the call itself succeeded)",
            ["sink"],
            registry=self.registry,
        )
        self.earlier_unchecked = Counter(
            "claimrisk_earlier_unchecked",
            "Scoring passes whose claims could not be looked up among the claims scored "
            "before (the prediction store could not be read; scored against the history only)",
            registry=self.registry,
        )
        self.model = Gauge(
            "claimrisk_model_info",
            "The model being served (1), per worker process",
            ["version", "source"],
            registry=self.registry,
            multiprocess_mode="liveall",
        )
        self._loaded: tuple[str, str] | None = None

    def model_loaded(self, version: str, source: str) -> None:
        if self._loaded is not None and self._loaded != (version, source):
            self.model.labels(*self._loaded).set(0)  # multiprocess files keep removed series
            self.model.remove(*self._loaded)
        self._loaded = (version, source)
        self.model.labels(version=version, source=source).set(1)

    def exposition(self) -> bytes:
        """The text a scraper reads: this app's registry, or every worker's samples."""
        if os.environ.get(MULTIPROC_ENV):
            merged = CollectorRegistry()
            MultiProcessCollector(merged)
            return generate_latest(merged)
        return generate_latest(self.registry)
