"""Micro-batching of single-claim requests: concurrent calls share one scoring pass.

A one-claim pass pays numpy's and LightGBM's per-call cost (about 1 ms) whatever the number
of claims in it, so claims that are waiting together are scored together. Nothing waits on a
timer: the first claim schedules a pass for the next turn of the event loop, and every claim
that reaches the batcher before that turn joins it. Idle, a claim is scored at once; under
load, the claims that arrived while a pass was running form the next one. Each claim's answer
is exactly what scoring it alone gives (features, contributions and what-if are per claim).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import numpy as np

from features.contract import ClaimIn
from serving.holder import ModelHolder
from serving.schemas import ScoreOut
from serving.scorer import Scorer

MAX_BATCH = 32


@dataclass(frozen=True)
class Scored:
    result: ScoreOut
    features: np.ndarray  # one row: what the model scored, for the prediction store
    scorer: Scorer  # the model that scored it (a reload may swap models between passes)


class ScoreBatcher:
    def __init__(self, holder: ModelHolder, max_batch: int = MAX_BATCH) -> None:
        self.holder, self.max_batch = holder, max_batch
        self._waiting: list[tuple[ClaimIn, asyncio.Future[Scored]]] = []
        self._scheduled = False

    async def score(self, claim: ClaimIn) -> Scored:
        future: asyncio.Future[Scored] = asyncio.get_running_loop().create_future()
        self._waiting.append((claim, future))
        self._schedule()
        return await future

    def _schedule(self) -> None:
        if not self._scheduled and self._waiting:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._run)

    def _run(self) -> None:
        self._scheduled = False
        batch = self._waiting[: self.max_batch]
        del self._waiting[: self.max_batch]
        scorer = self.holder.scorer
        try:
            if scorer is None:
                raise RuntimeError("no model loaded")
            results, features = scorer.score_with_features([claim for claim, _ in batch])
        except Exception as error:  # every waiting request fails the way a lone one would
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
        else:
            for row, (_, future) in enumerate(batch):
                if not future.done():  # the client may have gone away
                    future.set_result(Scored(results[row], features[row : row + 1], scorer))
        self._schedule()
