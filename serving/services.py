"""What the routes use, built once per app: one typed object instead of loose ``app.state``
attributes. Routes get it with ``ServicesDep`` (or ``services(request)``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from serving.audit import Auditor
from serving.batcher import ScoreBatcher
from serving.batches import BatchRunner
from serving.earlier import EarlierClaims, open_earlier
from serving.holder import ModelHolder
from serving.keys import KeyStore
from serving.metrics import Metrics
from serving.predictions import PredictionWriter
from serving.queue_status import QueueStatusStore
from serving.reloads import Reloader
from serving.settings import ServeSettings
from serving.state import SharedState


@dataclass
class Services:
    settings: ServeSettings
    holder: ModelHolder
    keys: KeyStore
    metrics: Metrics
    auditor: Auditor
    predictions: PredictionWriter | None
    earlier: EarlierClaims | None  # claims scored before, found in the prediction store
    shared: SharedState
    batcher: ScoreBatcher
    batches: BatchRunner
    reloader: Reloader
    queue: QueueStatusStore | None  # the work queue's claim statuses

    @classmethod
    def build(cls, settings: ServeSettings, holder: ModelHolder) -> Services:
        metrics = Metrics()

        def not_recorded(calls: int) -> None:
            metrics.record_failures.labels(sink="predictions").inc(calls)

        shared = SharedState(settings.state_file)
        earlier = open_earlier(settings, metrics.earlier_unchecked.inc)
        return cls(
            settings=settings,
            holder=holder,
            keys=KeyStore(settings.api_keys_file),
            metrics=metrics,
            auditor=Auditor(settings.audit_log),
            predictions=(
                PredictionWriter(
                    settings.prediction_store, not_recorded, settings.digest_retention_days
                )
                if settings.prediction_store
                else None
            ),
            earlier=earlier,
            shared=shared,
            batcher=ScoreBatcher(holder, earlier),
            batches=BatchRunner(settings.batch_processes, settings.max_batches_waiting),
            reloader=Reloader(settings, holder, metrics, shared),
            queue=QueueStatusStore(settings.queue_store) if settings.queue_store else None,
        )


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


ServicesDep = Annotated[Services, Depends(services)]
