"""Fitted state merges: every learner fitted on disjoint member groups of a history and merged
gives the state fitted on the whole history (what a cluster relies on; no cluster here)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from features.asof import column_hash
from features.batch import batch_from_history
from features.facts import build_facts
from features.history import History
from features.labels import LabelSummary
from features.learned import Vocabulary
from features.pipeline import compute_features, fit_state, merge_states, outcomes_for
from features.rules import REGISTRY

PARTS = 3


def _group(history: History, part: int) -> History:
    """The claims (with their lines and outcomes) and context of one member group."""

    def of_members(frame: pd.DataFrame) -> pd.DataFrame:
        group = column_hash(frame["member_id"].to_numpy(object)) % np.uint64(PARTS)
        return frame[group == part].reset_index(drop=True)

    claims = of_members(history.claims)
    ids = claims["claim_id"]

    def of_claims(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[frame["claim_id"].isin(ids)].reset_index(drop=True)

    labels = history.labels
    return History(
        claims=claims,
        claim_lines=of_claims(history.claim_lines),
        outcomes=of_claims(history.outcomes),
        eligibility_checks=of_members(history.eligibility_checks),
        authorizations=of_members(history.authorizations),
        provider_enrollments=history.provider_enrollments,
        report=history.report,
        labels=LabelSummary(of_claims(labels.labels), labels.unlisted_carcs),
    )


def _state(history: History):
    facts = build_facts(batch_from_history(history))
    return fit_state(facts, outcomes_for(history, history.claims["claim_id"]))


def test_states_of_member_groups_merge_into_the_state_of_the_whole(history: History):
    whole = _state(history)
    groups = [_group(history, part) for part in range(PARTS)]
    assert sum(len(g.claims) for g in groups) == len(history.claims)
    merged = merge_states([_state(g) for g in groups])
    assert set(merged.fitted) == set(REGISTRY.learners)  # every learner merges
    assert merged.last_event_day == whole.last_event_day
    for name, learner in whole.fitted.items():
        if isinstance(learner, Vocabulary):
            assert merged.fitted[name] == learner, name

    facts = build_facts(batch_from_history(history))
    ours, theirs = compute_features(facts, merged), compute_features(facts, whole)
    rates = {f.name for f in REGISTRY if f.kind == "rate"}
    for name in theirs.columns:
        a, b = ours[name].to_numpy(float), theirs[name].to_numpy(float)
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=name)
        if name in rates:  # decayed sums rescaled and added in another order: rounding only
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-6, err_msg=name)
        else:
            np.testing.assert_array_equal(a, b, err_msg=name)


def test_vocabulary_counts_merge_across_groups():
    vocabulary = Vocabulary("payer_id", min_count=3, max_levels=2)
    first = vocabulary._with_counts(Counter({"a": 2, "b": 5, "c": 2}))
    second = vocabulary._with_counts(Counter({"a": 2, "c": 1, "d": 4}))
    assert first.levels == {"b": 0}
    merged = Vocabulary.merge([first, second])
    # a: 4, b: 5, c: 3, d: 4 -> the two most frequent are b, then a or d (tie: by value, a)
    assert merged.levels == {"a": 0, "b": 1}
