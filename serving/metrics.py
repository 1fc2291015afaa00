"""Prometheus metrics of one app (own registry, so tests and reloads stay independent)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


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
        self.model = Gauge(
            "claimrisk_model_info",
            "The model being served",
            ["version", "source"],
            registry=self.registry,
        )

    def model_loaded(self, version: str, source: str) -> None:
        self.model.clear()
        self.model.labels(version=version, source=source).set(1)
