"""The report's figures against direct computations on the history's tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics import kpis
from analytics.tables import claim_codes, with_codes
from features.history import History


@pytest.fixture(scope="module")
def direct(history: History) -> pd.DataFrame:
    """Claims joined by hand with labels and adjudication dates (inner: adjudicated only)."""
    labelled = history.labels.labels.merge(history.outcomes, on="claim_id")
    return history.claims.merge(labelled, on="claim_id")


def test_denial_rate_by_payer(history: History, claims: pd.DataFrame, direct: pd.DataFrame):
    table = kpis.denial_rate_by(claims, "payer_id").set_index("payer_id")
    expected = direct.groupby("payer_id")["denied"].mean()
    assert table["denial_rate"].reindex(expected.index).to_numpy() == pytest.approx(
        expected.to_numpy()
    )
    charge = direct[direct["denied"]].groupby("payer_id")["total_charge"].sum()
    assert table.loc[charge.index, "denied_charge"].to_numpy() == pytest.approx(charge.to_numpy())
    submitted = history.claims.groupby("payer_id").size()
    assert table.loc[submitted.index, "submitted"].tolist() == submitted.tolist()
    assert (table["adjudicated"] + table["pending"] == table["submitted"]).all()
    assert table["denied_charge"].is_monotonic_decreasing


def test_monthly_denial_rate(claims: pd.DataFrame, direct: pd.DataFrame):
    monthly = kpis.monthly_denial_rate(claims).set_index("month")
    month = direct["submission_date"].dt.to_period("M").dt.to_timestamp()
    expected = direct.groupby(month)["denied"].mean()
    assert monthly["denial_rate"].to_numpy() == pytest.approx(expected.to_numpy())
    assert monthly.index.is_monotonic_increasing


def test_denial_rate_by_code_counts_a_claim_once_per_code(
    history: History, claims: pd.DataFrame, direct: pd.DataFrame
):
    coded = with_codes(claims, claim_codes(history))
    table = kpis.denial_rate_by(coded, "procedure_code").set_index("procedure_code")
    code = table.index[0]
    with_code = history.claim_lines.loc[history.claim_lines["procedure_code"] == code, "claim_id"]
    mine = direct[direct["claim_id"].isin(set(with_code))]
    assert table.at[code, "adjudicated"] == len(mine)
    assert table.at[code, "denial_rate"] == pytest.approx(mine["denied"].mean())


def test_root_causes_and_categories(claims: pd.DataFrame, direct: pd.DataFrame):
    denied = direct[direct["denied"]]
    causes = kpis.root_causes(claims, top=5)
    top = denied.groupby(["denial_category", "denial_carc"]).size().sort_values()
    assert causes.loc[0, "denied"] == top.iloc[-1]
    assert (causes.loc[0, "category"], causes.loc[0, "carc"]) == top.index[-1]
    categories = kpis.denials_by_category(claims).set_index("category")
    assert categories["denied"].sum() == len(denied)
    expected = denied["denial_category"].value_counts()
    assert categories.loc[expected.index, "denied"].tolist() == expected.tolist()
    assert categories["share_of_denials"].sum() == pytest.approx(1.0)


def test_adjudication_days(claims: pd.DataFrame, direct: pd.DataFrame):
    lag = kpis.adjudication_days(claims)
    days = (direct["adjudication_date"] - direct["submission_date"]).dt.days.to_numpy(float)
    assert lag.n == len(days)
    assert lag.median == pytest.approx(np.median(days))
    assert lag.p90 == pytest.approx(np.quantile(days, 0.9))


def test_first_pass_against_the_goals(claims: pd.DataFrame, direct: pd.DataFrame):
    figures = kpis.first_pass(claims)
    originals = direct[direct["frequency_code"] == "1"]
    assert figures.denial_rate == pytest.approx(direct["denied"].mean())
    assert figures.clean_claim_rate == pytest.approx(1 - originals["denied"].mean())
    assert figures.adjudicated == len(direct)
    assert figures.meets_clean_claim_goal == (figures.clean_claim_rate >= 0.95)
