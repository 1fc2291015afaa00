"""The leakage rule and the one-path rule, on a simulated history."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from features.batch import batch_from_history, batch_from_requests
from features.contract import ClaimIn
from features.facts import build_facts
from features.history import History
from features.labels import label_outcomes
from features.pipeline import (
    compute_features,
    feature_matrix,
    fit_state,
    outcomes_for,
    remember_submissions,
)
from tests.claims import resent
from tests.history_requests import request_for


def features_of(history: History) -> pd.DataFrame:
    facts = build_facts(batch_from_history(history))
    state = fit_state(facts, outcomes_for(history, history.claims["claim_id"]))
    return compute_features(facts, state)


def with_outcomes(history: History, outcomes: pd.DataFrame) -> History:
    return replace(history, outcomes=outcomes, labels=label_outcomes(outcomes))


@pytest.fixture(scope="module")
def baseline(history: History) -> pd.DataFrame:
    return features_of(history)


@pytest.fixture(scope="module")
def cutoff(history: History) -> pd.Timestamp:
    return history.claims["submission_date"].quantile(0.6).normalize()


def _scramble(outcomes: pd.DataFrame, rows: np.ndarray, seed: int) -> pd.DataFrame:
    """Flip paid/denied outcomes of ``rows`` and delete a third of them."""
    rng = np.random.default_rng(seed)
    changed = outcomes.copy()
    denied = changed["claim_status_code"] == "4"
    changed.loc[rows & denied.to_numpy(), "claim_status_code"] = "1"
    changed.loc[rows & denied.to_numpy(), "adjustments"] = pd.Series(
        [["CO-45"]] * int((rows & denied.to_numpy()).sum()),
        index=changed.index[rows & denied.to_numpy()],
        dtype=object,
    )
    flip = rows & ~denied.to_numpy()
    changed.loc[flip, "claim_status_code"] = "4"
    carcs = np.array(["CO-197", "CO-29", "CO-27", "CO-16", "CO-22", "CO-B7", "CO-18"], dtype=object)
    changed.loc[flip, "adjustments"] = pd.Series(
        [[c] for c in rng.choice(carcs, int(flip.sum()))], index=changed.index[flip], dtype=object
    )
    drop = rows & (rng.random(len(rows)) < 1 / 3)
    return changed[~drop].reset_index(drop=True)


def test_later_outcomes_do_not_change_earlier_features(history, baseline, cutoff):
    later = (history.outcomes["adjudication_date"] >= cutoff).to_numpy()
    scrambled = features_of(with_outcomes(history, _scramble(history.outcomes, later, 1)))
    earlier = (history.claims["submission_date"] <= cutoff).to_numpy()
    pd.testing.assert_frame_equal(baseline[earlier], scrambled[earlier])
    # ... and the test can fail: the same scrambling changes later claims' features.
    assert not baseline[~earlier].equals(scrambled[~earlier])


def test_earlier_outcomes_do_change_features(history, baseline, cutoff):
    earlier_outcomes = (history.outcomes["adjudication_date"] < cutoff).to_numpy()
    scrambled = features_of(
        with_outcomes(history, _scramble(history.outcomes, earlier_outcomes, 2))
    )
    earlier = (history.claims["submission_date"] <= cutoff).to_numpy()
    assert not baseline[earlier].equals(scrambled[earlier])


def test_each_outcome_only_reaches_claims_submitted_after_it(history, baseline):
    """Delete single outcomes: only claims submitted after the adjudication date may move."""
    rng = np.random.default_rng(3)
    denied = np.flatnonzero((history.outcomes["claim_status_code"] == "4").to_numpy())
    for row in rng.choice(denied, 3, replace=False):
        adjudicated = history.outcomes["adjudication_date"].iloc[row]
        kept = np.ones(len(history.outcomes), dtype=bool)
        kept[row] = False
        changed = features_of(with_outcomes(history, history.outcomes[kept].reset_index(drop=True)))
        before = (history.claims["submission_date"] <= adjudicated).to_numpy()
        pd.testing.assert_frame_equal(baseline[before], changed[before])


def test_request_and_history_row_give_identical_features(history, baseline):
    """One path: the same claim as history rows and as a claim request."""
    facts = build_facts(batch_from_history(history))
    state = fit_state(facts, outcomes_for(history, history.claims["claim_id"]))
    rng = np.random.default_rng(5)
    chosen = rng.choice(history.claims["claim_id"].to_numpy(), 150, replace=False)
    requests = [request_for(history, claim_id) for claim_id in chosen]
    complete = [
        r for r in requests if r.eligibility is not None and r.provider_enrollment is not None
    ]
    assert len(complete) > 50
    from_requests = compute_features(build_facts(batch_from_requests(complete)), state)
    from_history = baseline.loc[[r.claim_id for r in complete]]
    pd.testing.assert_frame_equal(from_history, from_requests)


def test_one_request_at_a_time_matches_the_vectorised_batch(history, world):
    """Requests after the history take the few-row path (plain floats, per-key dictionaries);
    a large batch of the same requests takes the sorted-array path. Identical features."""
    facts = build_facts(batch_from_history(history))
    state = fit_state(facts, outcomes_for(history, history.claims["claim_id"]))
    lines = (world / "requests.jsonl").read_text().splitlines()[:120]
    requests = [ClaimIn.model_validate_json(line) for line in lines]
    batch = feature_matrix(build_facts(batch_from_requests(requests)), state)
    one_by_one = np.vstack(
        [feature_matrix(build_facts(batch_from_requests([r])), state) for r in requests]
    )
    np.testing.assert_array_equal(one_by_one, batch)
    rates = [n for n in state.feature_names if n.endswith("_rate")]
    columns = [state.feature_names.index(n) for n in rates]
    assert (np.nan_to_num(batch[:, columns]) > 0).mean() > 0.5  # the rates are really looked up


def test_learned_rates_do_not_fade_while_no_newer_outcome_comes(history, world):
    """A request scored half a year after the history reads the payers' rates as the
    history's last outcome left them (as the rows the model learned from read them), by the
    batch path and the few-row path alike."""
    facts = build_facts(batch_from_history(history))
    state = fit_state(facts, outcomes_for(history, history.claims["claim_id"]))
    lines = (world / "requests.jsonl").read_text().splitlines()[:120]
    requests = [ClaimIn.model_validate_json(line) for line in lines]
    columns = [state.feature_names.index(n) for n in state.feature_names if n.endswith("_rate")]

    def rates(claims: list[ClaimIn]) -> np.ndarray:
        return feature_matrix(build_facts(batch_from_requests(claims)), state)[:, columns]

    now, later = rates(requests), rates(resent(requests, 180, "-later"))
    np.testing.assert_allclose(later, now, rtol=1e-12)
    np.testing.assert_allclose(rates(resent(requests[:1], 180, "-later")), now[:1], rtol=1e-12)
    assert (np.nan_to_num(now) > 0).mean() > 0.5  # the rates are really looked up


def test_a_batch_counts_its_own_earlier_submissions(history, world):
    """A resubmission whose first copy is in the same batch is an earlier submission, as it
    would be in the history; claims scored apart never see each other."""
    facts = build_facts(batch_from_history(history))
    state = fit_state(facts, outcomes_for(history, history.claims["claim_id"]))
    lines = (world / "requests.jsonl").read_text().splitlines()[:30]
    requests = [ClaimIn.model_validate_json(line) for line in lines]
    batch = [*requests, *resent(requests, 4, "-again")]
    batch_facts = build_facts(batch_from_requests(batch))
    column = state.feature_names.index("dup_prior_submissions")
    apart = feature_matrix(batch_facts, state)[:, column]
    together = feature_matrix(batch_facts, remember_submissions(state, batch_facts))[:, column]
    first, again = slice(0, len(requests)), slice(len(requests), None)
    np.testing.assert_array_equal(apart[again], apart[first])
    np.testing.assert_array_equal(together[first], apart[first])  # nothing earlier to see
    np.testing.assert_array_equal(together[again], apart[first] + 1)
    days = state.feature_names.index("dup_days_since_prior")
    assert (
        feature_matrix(batch_facts, remember_submissions(state, batch_facts))[again, days] == 4
    ).all()


def test_remembering_the_history_itself_changes_nothing(history, baseline):
    """Only submissions after the history are added: the history's own are counted already."""
    facts = build_facts(batch_from_history(history))
    state = fit_state(facts, outcomes_for(history, history.claims["claim_id"]))
    again = compute_features(facts, remember_submissions(state, facts))
    pd.testing.assert_frame_equal(again, baseline)


def test_a_member_id_unlike_the_patients_last_one_at_the_payer_is_flagged(history, world):
    facts = build_facts(batch_from_history(history))
    state = fit_state(facts, outcomes_for(history, history.claims["claim_id"]))
    column = state.feature_names.index("elig_member_id_changed")
    lines = (world / "requests.jsonl").read_text().splitlines()[:200]
    requests = [ClaimIn.model_validate_json(line) for line in lines]
    as_sent = feature_matrix(build_facts(batch_from_requests(requests)), state)[:, column]
    known = np.flatnonzero(as_sent == 0)  # patients billed at the payer before, same id
    assert len(known) > 20 and np.isnan(as_sent).sum() < len(as_sent)
    first_of_patient = {(requests[i].patient_id, requests[i].payer_id): i for i in known[::-1]}
    typo = [
        requests[i].model_copy(update={"member_id": "TYPO123"})
        for i in sorted(first_of_patient.values())
    ]
    changed = feature_matrix(build_facts(batch_from_requests(typo)), state)[:, column]
    assert (changed == 1).all()
    # a first claim under the new id, then the next one: the batch remembers the new id
    later = resent(typo, 5, "-next")
    together = build_facts(batch_from_requests([*typo, *later]))
    both = feature_matrix(together, remember_submissions(state, together))[:, column]
    assert (both[: len(typo)] == 1).all() and (both[len(typo) :] == 0).all()
