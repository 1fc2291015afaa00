"""Fixtures of the analytics tests, on the session's simulated world (``tests/conftest.py``).

The model here is trained single-threaded and without the refit: a few seconds even when
other processes keep the CPUs busy (LightGBM's OpenMP threads spin-wait under contention).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics.tables import claim_outcomes
from features.contract import ClaimIn
from features.history import History
from features.labels import label_outcomes
from features.rules import RULES
from features.tables import normalize_table
from scoring.artifact import ClaimRiskModel
from scoring.schemas import ScoreOut
from scoring.scorer import Scorer
from serving.predictions import PredictionStore, feature_rows
from training.train import train

VERSION = "7"
MONTHS = (dt.datetime(2026, 1, 15, tzinfo=dt.UTC), dt.datetime(2026, 2, 15, tzinfo=dt.UTC))


@pytest.fixture(scope="session")
def claims(history: History) -> pd.DataFrame:
    return claim_outcomes(history)


@pytest.fixture(scope="session")
def analytics_model(history: History) -> ClaimRiskModel:
    return train(history, refit=False, params={"num_threads": 1}).model


@pytest.fixture(scope="session")
def requests(world: Path) -> list[ClaimIn]:
    lines = (world / "requests.jsonl").read_text().splitlines()
    return [ClaimIn.model_validate_json(line) for line in lines]


@dataclass
class Recorded:
    store: Path
    results: list[ScoreOut]
    features: np.ndarray
    month: np.ndarray  # per result: the month it was recorded in ("2026-01", "2026-02")


@pytest.fixture(scope="session")
def recorded(
    analytics_model: ClaimRiskModel,
    requests: list[ClaimIn],
    tmp_path_factory: pytest.TempPathFactory,
) -> Recorded:
    """The world's requests scored (reasons for every claim) and recorded, half in January
    and half in February, with one claim scored twice (its last score is the one that counts)."""
    scorer = Scorer(analytics_model, version=VERSION, source="test")
    results = scorer.score(requests)
    x = feature_rows(analytics_model, requests)
    path = tmp_path_factory.mktemp("predictions") / "predictions.db"
    half = len(results) // 2
    with PredictionStore(path) as store:
        stale = results[0].model_copy(update={"denial_probability": 0.0001, "risk_band": "low"})
        store.record([stale], x[:1], analytics_model.feature_names, scored_at=MONTHS[0])
        store.record(results[:half], x[:half], analytics_model.feature_names, MONTHS[0])
        store.record(results[half:], x[half:], analytics_model.feature_names, MONTHS[1])
    month = np.where(np.arange(len(results)) < half, "2026-01", "2026-02")
    return Recorded(path, results, x, month)


def _rows(claim: ClaimIn) -> tuple[dict[str, object], list[dict[str, object]]]:
    body = claim.model_dump(mode="json")
    lines = body.pop("lines")
    for context in ("eligibility", "authorizations", "provider_enrollment"):
        body.pop(context)
    return body, [{**line, "claim_id": claim.claim_id} for line in lines]


def _outcome(claim: ClaimIn, denied: bool, category: str | None) -> dict[str, object]:
    adjudicated = (claim.submission_date + dt.timedelta(days=20)).isoformat()
    if denied:
        carc = RULES[category].carcs[0]  # type: ignore[index]
        return {"claim_id": claim.claim_id, "adjudication_date": adjudicated,
                "claim_status_code": "4", "paid_amount": 0.0, "adjustments": [f"CO-{carc}"],
                "remark_codes": []}  # fmt: skip
    return {"claim_id": claim.claim_id, "adjudication_date": adjudicated,
            "claim_status_code": "1", "paid_amount": round(claim.total_charge * 0.6, 2),
            "adjustments": ["CO-45"], "remark_codes": []}  # fmt: skip


def _normalized(table: str, records: list[dict[str, object]]) -> pd.DataFrame:
    normalized = normalize_table(table, pd.DataFrame(records))
    assert not normalized.issues, [i.problem for i in normalized.issues[:3]]
    return normalized.frame


@pytest.fixture(scope="session")
def later_history(history: History, requests: list[ClaimIn], truth: pd.DataFrame) -> History:
    """The history after the requests were submitted and adjudicated: their claims appended,
    and an outcome from the ground truth (``denied``, ``true_category``) for all but the last
    ten, which stay pending."""
    known = truth.set_index("claim_id")
    claims, lines, outcomes = [], [], []
    for claim in requests:
        body, claim_lines = _rows(claim)
        claims.append(body)
        lines += claim_lines
    for claim in requests[:-10]:
        row = known.loc[claim.claim_id]
        outcomes.append(_outcome(claim, bool(row["denied"]), row["true_category"]))
    all_outcomes = pd.concat(
        [history.outcomes, _normalized("outcomes", outcomes)], ignore_index=True
    )
    return replace(
        history,
        claims=pd.concat([history.claims, _normalized("claims", claims)], ignore_index=True),
        claim_lines=pd.concat(
            [history.claim_lines, _normalized("claim_lines", lines)], ignore_index=True
        ),
        outcomes=all_outcomes,
        labels=label_outcomes(all_outcomes),
    )
