"""Micro-batching: concurrent single-claim calls share a pass and get their own answers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from features.contract import ClaimIn
from scoring.artifact import ClaimRiskModel
from scoring.scorer import Scorer
from serving.batcher import ScoreBatcher
from serving.holder import ModelHolder


class CountingScorer(Scorer):
    passes: list[int]

    def score_with_features(self, claims, explain="all", together=True, earlier=None):  # type: ignore[no-untyped-def]
        self.passes.append(len(claims))
        if any(claim.claim_id == "EXPLODES" for claim in claims):
            raise RuntimeError("scoring failed")
        return super().score_with_features(claims, explain, together, earlier)


@pytest.fixture()
def scorer(model_dir: Path) -> CountingScorer:
    counting = CountingScorer(ClaimRiskModel.load(model_dir), "1", str(model_dir))
    counting.passes = []
    return counting


@pytest.fixture(scope="module")
def claims(world: Path) -> list[ClaimIn]:
    lines = (world / "requests.jsonl").read_text().splitlines()[:40]
    return [ClaimIn.model_validate_json(line) for line in lines]


def holding(scorer: CountingScorer) -> ModelHolder:
    holder = ModelHolder(lambda: scorer)
    holder.reload()  # smoke-tests the model: one pass, not counted below
    scorer.passes.clear()
    return holder


def test_concurrent_claims_share_passes_and_get_what_scoring_alone_gives(scorer, claims):
    alone = [scorer.score([claim])[0] for claim in claims]
    batcher = ScoreBatcher(holding(scorer), max_batch=16)

    async def all_at_once() -> list:
        return await asyncio.gather(*(batcher.score(claim) for claim in claims))

    scored = asyncio.run(all_at_once())
    assert [s.result for s in scored] == alone
    assert scorer.passes == [16, 16, 8]
    assert all(s.features.shape == (1, len(scorer.model.feature_names)) for s in scored)
    assert all(s.scorer is scorer for s in scored)


def test_a_lone_claim_is_scored_at_once(scorer, claims):
    batcher = ScoreBatcher(holding(scorer))
    scored = asyncio.run(batcher.score(claims[0]))
    assert scorer.passes == [1]
    assert scored.result == scorer.score([claims[0]])[0]


def test_a_claim_that_fails_alone_does_not_fail_the_claims_batched_with_it(scorer, claims):
    batcher = ScoreBatcher(holding(scorer), max_batch=3)
    broken = claims[0].model_copy(update={"claim_id": "EXPLODES"})

    async def run() -> list:
        return await asyncio.gather(
            *(batcher.score(c) for c in [claims[1], broken, claims[2]]), return_exceptions=True
        )

    first, failed, third = asyncio.run(run())
    assert isinstance(failed, RuntimeError)
    assert first.result == scorer.score([claims[1]])[0]
    assert third.result.claim_id == claims[2].claim_id
    assert scorer.passes[:4] == [3, 1, 1, 1]  # the failed pass, then each claim alone


def test_claims_arriving_over_a_few_loop_turns_share_one_pass(scorer, claims):
    batcher = ScoreBatcher(holding(scorer))

    async def arrive(claim: ClaimIn, turns: int):  # type: ignore[no-untyped-def]
        for _ in range(turns):  # a request still being read and validated
            await asyncio.sleep(0)
        return await batcher.score(claim)

    async def run() -> list:
        return await asyncio.gather(*(arrive(c, i % 4) for i, c in enumerate(claims[:8])))

    scored = asyncio.run(run())
    assert scorer.passes == [8]
    assert [s.result.claim_id for s in scored] == [c.claim_id for c in claims[:8]]
