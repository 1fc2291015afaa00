"""The history simulator: determinism, the data contract, the denial mix, ground truth."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from features.contract import TABLE_MODELS, ClaimIn, table_spec
from features.labels import label_outcomes
from simulator import SimulationSummary, simulate
from simulator.ids import npi_check_digit, npi_is_valid

CLAIMS = 30_000
SEED = 11
TABLES = tuple(TABLE_MODELS)


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SimulationSummary]:
    out = tmp_path_factory.mktemp("sim")
    return out, simulate(out, CLAIMS, SEED, requests=500)


@pytest.fixture(scope="module")
def out(sim: tuple[Path, SimulationSummary]) -> Path:
    return sim[0]


@pytest.fixture(scope="module")
def summary(sim: tuple[Path, SimulationSummary]) -> SimulationSummary:
    return sim[1]


def table(out: Path, name: str) -> pd.DataFrame:
    return pq.read_table(out / "history" / f"{name}.parquet").to_pandas()


@pytest.fixture(scope="module")
def labeled(out: Path) -> pd.DataFrame:
    outcomes = table(out, "outcomes")
    outcomes["adjustments"] = outcomes["adjustments"].map(list)
    labels = label_outcomes(outcomes).labels
    truth = pq.read_table(out / "ground_truth.parquet").to_pandas()
    claims = table(out, "claims")
    return claims.merge(labels, on="claim_id").merge(truth, on="claim_id", suffixes=("", "_gt"))


@pytest.fixture(scope="module")
def world_doc(out: Path) -> dict:
    return json.loads((out / "world.json").read_text())


# --- pure helpers ---------------------------------------------------------------------------


@pytest.mark.parametrize("npi", [1234567893, 1245319599, 1679576722])
def test_npi_check_digit_matches_known_npis(npi: int) -> None:
    assert npi_check_digit(np.array([npi // 10]))[0] == npi % 10
    assert npi_is_valid(np.array([npi]))[0]


# --- files and the contract -----------------------------------------------------------------


def test_writes_every_file(out: Path) -> None:
    for name in TABLES:
        assert (out / "history" / f"{name}.parquet").is_file()
    for name in ("requests.jsonl", "ground_truth.parquet", "world.json"):
        assert (out / name).is_file()


def test_summary(summary: SimulationSummary) -> None:
    assert summary.claims == CLAIMS
    assert summary.outcomes + summary.pending == CLAIMS
    assert summary.requests == 500
    assert summary.table().row_count > 10


@pytest.mark.parametrize("name", TABLES)
def test_columns_are_the_contract(out: Path, name: str) -> None:
    names = pq.read_schema(out / "history" / f"{name}.parquet").names
    assert sorted(names) == sorted(c.name for c in table_spec(name))
    assert len(names) == len(set(names))


@pytest.mark.parametrize("name", TABLES)
def test_rows_validate_against_the_contract(out: Path, name: str) -> None:
    t = pq.read_table(out / "history" / f"{name}.parquet")
    assert t.num_rows > 0
    model = TABLE_MODELS[name]
    rng = np.random.default_rng(0)
    rows = rng.choice(t.num_rows, size=min(3000, t.num_rows), replace=False)
    for row in t.take(np.sort(rows)).to_pylist():
        model.model_validate(row)


def test_requests_validate_as_claim_requests(out: Path, world_doc: dict) -> None:
    lines = (out / "requests.jsonl").read_bytes().splitlines()
    assert len(lines) == 500
    requests = [ClaimIn.model_validate_json(line) for line in lines]
    first = dt.date.fromisoformat(world_doc["requests_window"]["start"])
    last = dt.date.fromisoformat(world_doc["requests_window"]["end"])
    assert all(first <= r.submission_date <= last for r in requests)
    with_auths = sum(r.authorizations is not None for r in requests) / len(requests)
    with_enrollment = sum(r.provider_enrollment is not None for r in requests) / len(requests)
    assert 0.8 < with_auths < 0.97
    assert 0.8 < with_enrollment < 0.97
    assert any(r.eligibility is not None for r in requests)
    checked = [r for r in requests if r.eligibility is not None]
    assert all(r.eligibility.checked_on <= r.submission_date for r in checked)


def test_ids_and_codes(out: Path) -> None:
    claims = table(out, "claims")
    assert claims.claim_id.is_unique
    billing = claims.billing_npi.astype("int64").to_numpy()
    assert npi_is_valid(billing).all()
    rendering = claims.rendering_npi.dropna().astype("int64").to_numpy()
    invalid = ~npi_is_valid(rendering)
    assert 0 < invalid.mean() < 0.01  # a few keying errors, as in life
    assert claims.payer_id.str.startswith("0").any()  # leading zeros kept
    assert set(claims.place_of_service) >= {"11", "10", "02"}


def test_lines_sum_to_the_claim(out: Path) -> None:
    claims = table(out, "claims").set_index("claim_id")
    lines = table(out, "claim_lines")
    sums = lines.groupby("claim_id").line_charge.sum()
    gap = (claims.total_charge - sums.reindex(claims.index)).abs() > 0.005
    assert 0 < gap.mean() < 0.01  # the injected charge mismatches only
    assert lines.line_number.min() == 1
    assert lines.groupby("claim_id").size().max() <= 4


# --- the denial mix -----------------------------------------------------------------------------


def test_denial_rate_in_range(labeled: pd.DataFrame) -> None:
    assert 0.10 <= labeled.denied.mean() <= 0.20


def test_denial_shares_near_targets(summary: SimulationSummary) -> None:
    """Within a few points at this small scale (three practices); within ~2 at 200k."""
    for group, (share, target) in summary.index_shares.items():
        assert abs(share - target) < 0.06, group
    for category, (share, target) in summary.category_shares.items():
        assert abs(share - target) < 0.06, category


def test_ground_truth_agrees_with_outcomes(labeled: pd.DataFrame) -> None:
    assert (labeled.denied == labeled.denied_gt).all()
    denied = labeled[labeled.denied]
    assert (denied.denial_category == denied.true_category).all()
    assert labeled.loc[~labeled.denied, "true_category"].isna().all()


def test_ground_truth_probabilities(out: Path) -> None:
    truth = pq.read_table(out / "ground_truth.parquet").to_pandas()
    assert set(truth.split) == {"history", "request"}
    assert (truth.split == "request").sum() == 500
    p = truth.filter(like="p_").to_numpy()
    combined = 1 - np.prod(1 - p, axis=1)
    np.testing.assert_allclose(combined, truth.true_probability, atol=1e-9)
    assert ((truth.n_fired > 0) == truth.denied).all()
    denied = truth[truth.denied]
    assert all(
        c.split("|")[0] == t for c, t in zip(denied.fired_causes, denied.true_category, strict=True)
    )
    # the truth is informative: denied claims had a far higher probability
    assert denied.true_probability.mean() > 5 * truth[~truth.denied].true_probability.mean()


def test_pending_claims_have_no_outcome(out: Path, world_doc: dict, summary) -> None:
    claims = table(out, "claims")
    outcomes = table(out, "outcomes")
    end = pd.Timestamp(world_doc["history"]["end"])
    assert set(outcomes.claim_id) <= set(claims.claim_id)
    assert (pd.to_datetime(outcomes.adjudication_date) <= end).all()
    pending = claims[~claims.claim_id.isin(outcomes.claim_id)]
    assert len(pending) == summary.pending > 0
    assert (pd.to_datetime(pending.submission_date) > end - pd.Timedelta(days=46)).all()


def test_no_leakage_in_dates(out: Path) -> None:
    claims = table(out, "claims")
    outcomes = table(out, "outcomes").merge(claims, on="claim_id")
    assert (outcomes.adjudication_date > outcomes.submission_date).all()
    assert (claims.submission_date >= claims.service_date).all()


def test_policy_change_is_visible(labeled: pd.DataFrame, out: Path, world_doc: dict) -> None:
    change = world_doc["policy_changes"][0]
    when = pd.Timestamp(change["effective"])
    lines = table(out, "claim_lines")
    ids = set(lines.claim_id[lines.procedure_code == change["procedure_code"]])
    mine = labeled[labeled.claim_id.isin(ids) & (labeled.payer_id == change["payer_id"])]
    service = pd.to_datetime(mine.service_date)
    before = mine[(service < when) & (service >= when - pd.Timedelta(days=90))]
    after = mine[(service >= when) & (service < when + pd.Timedelta(days=45))]
    assert len(before) > 30 and len(after) > 15
    auth = lambda d: (d.denial_category == "authorization").mean()  # noqa: E731
    assert auth(after) > auth(before) + 0.4


def test_eligibility_denials_are_mostly_visible(labeled: pd.DataFrame, out: Path) -> None:
    checks = table(out, "eligibility_checks").sort_values("checked_on")
    claims = labeled.sort_values("submission_date")
    for frame, col in ((checks, "checked_on"), (claims, "submission_date")):
        frame[col] = pd.to_datetime(frame[col])
    latest = pd.merge_asof(
        claims, checks, left_on="submission_date", right_on="checked_on",
        by=["member_id", "payer_id"], direction="backward",
    )  # fmt: skip
    shown = latest.status.notna() & (latest.status != "active") | (
        pd.to_datetime(latest.coverage_end) < pd.to_datetime(latest.service_date)
    )
    elig = latest.true_cause.isin(["coverage_terminated", "member_not_found"])
    assert shown[elig].mean() > 0.5
    assert latest.denied[shown].mean() > 0.6


# --- determinism and formats ------------------------------------------------------------------


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    simulate(a, 4000, 5, requests=50)
    simulate(b, 4000, 5, requests=50)
    simulate(c, 4000, 6, requests=50)
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert len(files) == 9
    for f in files:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f
    assert (a / "history/claims.parquet").read_bytes() != (
        c / "history/claims.parquet"
    ).read_bytes()


def _as_text(value: object, kind: str) -> str:
    """A parquet cell as the contract's CSV text."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if kind.startswith("list"):
        return "|".join(str(v) for v in value)  # type: ignore[attr-defined]
    if kind == "bool":
        return "true" if value else "false"
    if kind == "date":
        return pd.Timestamp(value).date().isoformat()
    return str(value)


@pytest.fixture(scope="module")
def csv_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("csv")
    simulate(folder, CLAIMS, SEED, requests=500, fmt="csv")
    return folder


@pytest.mark.parametrize("name", TABLES)
def test_csv_and_parquet_hold_the_same_data(csv_out: Path, out: Path, name: str) -> None:
    parquet = pq.read_table(out / "history" / f"{name}.parquet").to_pylist()
    text = pd.read_csv(csv_out / "history" / f"{name}.csv", dtype=str, keep_default_na=False)
    assert len(text) == len(parquet)
    for spec in table_spec(name):
        col = text[spec.name].tolist()
        values = [row[spec.name] for row in parquet]
        if spec.kind == "number":
            np.testing.assert_allclose(
                [float(v) if v != "" else np.nan for v in col],
                [np.nan if v is None else v for v in values],
            )
        else:
            assert col == [_as_text(v, spec.kind) for v in values], spec.name
