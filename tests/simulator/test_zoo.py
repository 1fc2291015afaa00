"""The zoo of worlds: every dialect writes a valid world, and each changes the mechanism it
names (seen in the written tables and the ground truth), while the default world's bytes stay
pinned."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from cli import app
from features.contract import ClaimIn
from features.history import load_history
from simulator import simulate
from simulator.zoo import WORLDS, world

CLAIMS = 5000
SEED = 4


@pytest.fixture(scope="module")
def zoo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("zoo")
    for name, dialect in WORLDS.items():
        simulate(root / name, CLAIMS, SEED, requests=400, dialect=dialect)
    return {name: root / name for name in WORLDS}


def _table(folder: Path, name: str) -> pd.DataFrame:
    return pq.read_table(folder / "history" / f"{name}.parquet").to_pandas()


def _truth(folder: Path) -> pd.DataFrame:
    return pq.read_table(folder / "ground_truth.parquet").to_pandas()


def _labeled(folder: Path) -> pd.DataFrame:
    """History claims with their first adjustment, lines and truth."""
    claims = _table(folder, "claims").merge(_table(folder, "outcomes"), on="claim_id")
    claims["first"] = claims["adjustments"].map(lambda a: a[0] if len(a) else "")
    return claims.merge(_truth(folder), on="claim_id")


def test_the_zoo_has_at_least_eight_documented_worlds() -> None:
    assert len(WORLDS) >= 8
    for name, dialect in WORLDS.items():
        assert dialect.name == name and len(dialect.description) > 40
    with pytest.raises(KeyError, match="tiny_practice"):
        world("no_such_world")


def test_the_default_world_is_unchanged(tmp_path: Path) -> None:
    """Hashes of a world written before dialects existed (same seed, same sizes); the requests
    since carry the payers' names (payer_name), and without them are the same bytes as then
    (a210fac2688d8665); the multiple sclerosis and colon polyp history diagnoses became the
    codes billable since the FY2026 code set (G35.A, Z86.0100: G35 and Z86.010 gained
    subdivisions), the requests otherwise the same (4fba8f6427e339b4); then the requests came
    at the practices' own pace, over three months instead of packed into one (d0a404866ac94097,
    world.json f500e461fe961077 before)."""
    simulate(tmp_path, 5000, 3, requests=300)
    digest = {
        name: hashlib.sha256((tmp_path / name).read_bytes()).hexdigest()[:16]
        for name in ("requests.jsonl", "world.json")
    }
    assert digest == {"requests.jsonl": "ed75c4809dcf0de2", "world.json": "57e14c7d5d2a8403"}


@pytest.mark.parametrize("name", sorted(WORLDS))
def test_every_world_writes_the_same_outputs(zoo: dict[str, Path], name: str) -> None:
    folder = zoo[name]
    assert {p.name for p in folder.iterdir()} == {
        "history", "requests.jsonl", "ground_truth.parquet", "world.json",
    }  # fmt: skip
    history = load_history(folder / "history")  # contradictory context rows are kept
    assert len(history.claims) > 1000
    requests = (folder / "requests.jsonl").read_text().splitlines()
    for line in requests:
        ClaimIn.model_validate_json(line)
    truth = _truth(folder)
    assert {"claim_id", "split", "true_probability", "denied", "true_category", "n_fired"} <= set(
        truth.columns
    )
    assert (truth["split"] == "request").sum() == len(requests)
    assert json.loads((folder / "world.json").read_text())["dialect"]["name"] == name


def test_carc_conventions_decide_the_category(zoo: dict[str, Path]) -> None:
    """Bluebonnet's unsupported diagnosis is CO-11, filed under coding in the ground truth."""
    labeled = _labeled(zoo["carc_conventions"])
    mismatch = labeled[labeled["true_cause"] == "diagnosis_not_supporting"]
    bluebonnet = mismatch[mismatch["payer_id"] == "00590"]
    assert len(bluebonnet) and (bluebonnet["first"] == "CO-11").all()
    assert (bluebonnet["true_category"] == "coding").all()
    others = mismatch[~mismatch["payer_id"].isin(["00590", "87726"])]
    assert (others["first"] == "CO-50").all()
    assert (others["true_category"] == "medical_necessity").all()


def test_an_unknown_auth_rule_is_never_in_the_auth_log(zoo: dict[str, Path]) -> None:
    folder = zoo["unknown_auth_rule"]
    rule = json.loads((folder / "world.json").read_text())["dialect"]["rule_changes"][0]
    effective = dt.date.fromisoformat(rule["effective"])
    auths = _table(folder, "authorizations")
    covered = auths[auths["payer_id"] == rule["payer_id"]]["procedure_codes"].map(list)
    assert not covered.map(lambda codes: rule["procedure_code"] in codes).any()
    lines = _table(folder, "claim_lines")
    billed = set(lines[lines["procedure_code"] == rule["procedure_code"]]["claim_id"])
    labeled = _labeled(folder)
    after = labeled[
        labeled["claim_id"].isin(billed)
        & (labeled["payer_id"] == rule["payer_id"])
        & (labeled["service_date"] >= effective)
    ]
    assert len(after) > 10 and after["denied"].mean() > 0.8
    assert (after["true_category"] == "authorization").mean() > 0.7


def test_new_limits_deny_units_above_the_limit(zoo: dict[str, Path]) -> None:
    folder = zoo["new_limits"]
    rules = json.loads((folder / "world.json").read_text())["dialect"]["rule_changes"]
    requests = [json.loads(line) for line in (folder / "requests.jsonl").read_text().splitlines()]
    claim_columns = ["claim_id", "payer_id", "service_date"]
    line_columns = ["claim_id", "procedure_code", "units"]
    lines = pd.concat([  # the history's lines and the requests' (both in the ground truth)
        _table(folder, "claims")[claim_columns].merge(
            _table(folder, "claim_lines")[line_columns], on="claim_id"
        ),
        pd.DataFrame([
            {**{k: r[k] for k in claim_columns}, "procedure_code": line["procedure_code"],
             "units": line["units"]}
            for r in requests for line in r["lines"]
        ]),
    ])  # fmt: skip
    lines["service_date"] = pd.to_datetime(lines["service_date"]).dt.date
    hit = set()
    for rule in (r for r in rules if r["kind"] == "units_limit"):
        hit |= set(lines["claim_id"][
            (lines["procedure_code"] == rule["procedure_code"])
            & (lines["units"] > rule["limit"])
            & (lines["payer_id"] == rule["payer_id"])
            & (lines["service_date"] >= dt.date.fromisoformat(rule["effective"]))
        ])  # fmt: skip
    coding = _truth(folder).set_index("claim_id")["fired_causes"].fillna("").str.contains("coding")
    # a narrow slice of a small world: few claims, but nearly all coding denials, where other
    # claims rarely are
    assert len(hit) >= 5 and coding[sorted(hit)].mean() > 0.8 and coding.mean() < 0.2


def test_new_limits_deny_a_second_preventive_visit_in_a_year(zoo: dict[str, Path]) -> None:
    folder = zoo["new_limits"]
    rules = json.loads((folder / "world.json").read_text())["dialect"]["rule_changes"]
    truth = _truth(folder).set_index("claim_id")
    claims = _labeled(folder).drop(columns=["true_category"]).set_index("claim_id")
    lines = _table(folder, "claim_lines")
    limits = [r for r in rules if r["kind"] == "frequency_limit"]
    assert limits
    hit, first = set(), set()
    for rule in limits:
        billed = claims.loc[
            claims.index.isin(lines["claim_id"][lines["procedure_code"] == rule["procedure_code"]])
        ]
        billed = billed[
            (billed["payer_id"] == rule["payer_id"]) & (billed["frequency_code"] == "1")
        ]
        day = pd.to_datetime(billed["service_date"])
        billed = billed.assign(year=day.dt.year, day=day)
        earlier = billed.groupby(["patient_id", "year"])["day"].rank(method="min") - 1
        after = billed["day"] >= pd.Timestamp(rule["effective"])
        hit |= set(billed.index[after & (earlier >= rule["limit"])])
        first |= set(billed.index[after & (earlier == 0)])
    fired = truth["fired_causes"].fillna("")
    # the history holds only some of a year's visits (claims are sampled), so a repeat is
    # found where the first visit is in it too: few, but nearly all not covered
    assert len(hit) >= 3 and fired[sorted(hit)].str.contains("non_covered").mean() > 0.8
    assert fired[sorted(first)].str.contains("non_covered").mean() < 0.2


def test_dirty_exports_hold_contradictions_in_history_and_requests(zoo: dict[str, Path]) -> None:
    folder = zoo["dirty_exports"]
    auths = _table(folder, "authorizations")
    reversed_rows = (auths["end_date"] < auths["start_date"]).sum()
    assert reversed_rows > 5
    loaded = load_history(folder / "history").authorizations  # kept: the payer sees them too
    assert (loaded["end_date"] < loaded["start_date"]).sum() == reversed_rows
    assert auths["units"].isna().mean() > 0.1
    reversed_requests = 0
    for line in (folder / "requests.jsonl").read_text().splitlines():
        claim = json.loads(line)
        spans = claim.get("authorizations") or []
        reversed_requests += any(a["end_date"] < a["start_date"] for a in spans)
    assert reversed_requests > 0
    # mistyped numbers: not one of the member's own authorizations with that payer (auth
    # numbers are dense, so a transposed one is often somebody else's)
    claims = _table(folder, "claims").dropna(subset=["prior_auth_number"])
    own = set(zip(auths["member_id"], auths["payer_id"], auths["auth_number"], strict=True))
    keys = zip(claims["member_id"], claims["payer_id"], claims["prior_auth_number"], strict=True)
    mistyped = sum(key not in own for key in keys)
    assert 0.01 * len(claims) < mistyped < 0.1 * len(claims)


def test_quick_duplicates_follow_another_request(zoo: dict[str, Path]) -> None:
    folder = zoo["quick_duplicates"]
    requests = [json.loads(line) for line in (folder / "requests.jsonl").read_text().splitlines()]
    truth = _truth(folder).set_index("claim_id")
    duplicates = [
        r for r in requests if truth.loc[r["claim_id"], "true_cause"] == "duplicate_submission"
    ]
    firsts = 0
    for dup in duplicates:
        same = [
            r for r in requests
            if r is not dup and r["patient_id"] == dup["patient_id"]
            and r["service_date"] == dup["service_date"]
            and r["submission_date"] < dup["submission_date"]
        ]  # fmt: skip
        firsts += bool(same)
    assert len(duplicates) > 3 and firsts >= len(duplicates) / 2


def test_credentialing_lapses_are_on_the_roster_and_denied(zoo: dict[str, Path]) -> None:
    folder = zoo["credentialing_lapses"]
    roster = _table(folder, "provider_enrollments")
    assert roster["end_date"].notna().sum() > 3
    labeled = _labeled(folder)
    assert (labeled["true_category"] == "credentialing").sum() > 2 * (
        _labeled(zoo["mostly_medicare"])["true_category"] == "credentialing"
    ).sum()


def test_tiny_practice_is_tiny(zoo: dict[str, Path]) -> None:
    folder = zoo["tiny_practice"]
    claims = _table(folder, "claims")
    assert 2000 <= len(claims) <= 2200 and 250 <= claims["patient_id"].nunique() <= 600
    assert claims["billing_npi"].nunique() == 1


@pytest.mark.parametrize(("name", "plans"), [
    ("mostly_medicare", {"medicare", "medicare_advantage"}), ("mostly_medicaid", {"medicaid"}),
])  # fmt: skip
def test_payer_mix(zoo: dict[str, Path], name: str, plans: set[str]) -> None:
    claims = _table(zoo[name], "claims")
    assert claims["plan_type"].isin(plans).mean() > 0.5


def test_cli_simulates_a_named_world(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["simulate", "--out", str(tmp_path / "w"), "--claims", "3000",
                             "--dialect", "tiny_practice"])  # fmt: skip
    assert ok.exit_code == 0, ok.output
    assert 2000 <= len(_table(tmp_path / "w", "claims")) <= 2200
    bad = runner.invoke(app, ["simulate", "--out", str(tmp_path / "x"), "--dialect", "nope"])
    assert bad.exit_code == 2 and "tiny_practice" in bad.output
