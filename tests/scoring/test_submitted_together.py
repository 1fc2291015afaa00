"""Claims sent together (a batch, a file) see each other's earlier submissions; claims
scored apart, or a file scored in chunks, give what their sending says."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from features.contract import ClaimIn
from scoring.artifact import ClaimRiskModel
from scoring.scorer import Scorer
from tests.claims import resent


@pytest.fixture(scope="module")
def scorer(model_dir: Path) -> Scorer:
    return Scorer(ClaimRiskModel.load(model_dir), "1", str(model_dir))


@pytest.fixture(scope="module")
def sent(world: Path) -> list[ClaimIn]:
    """Twenty requests, then each sent again three days later as a new original."""
    lines = (world / "requests.jsonl").read_text().splitlines()[:20]
    first = [ClaimIn.model_validate_json(line) for line in lines]
    return first + resent(first, 3, "-again")


def _prior(scorer: Scorer, x: np.ndarray) -> np.ndarray:
    return x[:, scorer.model.feature_names.index("dup_prior_submissions")]


def test_a_resubmission_in_the_same_batch_is_a_duplicate(scorer, sent):
    together, x_together = scorer.score_with_features(sent)
    apart, x_apart = scorer.score_with_features(sent, together=False)
    half = len(sent) // 2
    np.testing.assert_array_equal(
        _prior(scorer, x_together)[half:], _prior(scorer, x_apart)[half:] + 1
    )
    assert together[:half] == apart[:half]  # the first copies have nothing earlier to see
    risk_together = np.array([s.denial_probability for s in together[half:]])
    risk_apart = np.array([s.denial_probability for s in apart[half:]])
    low = risk_apart < 0.5  # claims not already near-certain denials for another reason
    assert low.sum() >= 10 and (risk_together[low] > risk_apart[low]).mean() > 0.75
    assert np.median(risk_together[low] / risk_apart[low]) > 1.5
    named = ["duplicate" in {r.category for r in s.reasons or []} for s in together[half:]]
    assert np.mean(named) > 0.7


def test_a_file_in_chunks_scores_as_one_batch(scorer, sent):
    whole = scorer.score(sent)
    first = scorer.score(sent[:15])
    rest = scorer.remembering(sent[:15]).score(sent[15:])
    assert first + rest == whole
