"""Rolling backtest on the session's world: monthly AUC and the policy change learned."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from training.backtest import Segment, backtest


def test_backtest_reports_monthly_auc_and_learns_the_policy_change(history, world: Path):
    change = json.loads((world / "world.json").read_text())["policy_changes"][0]
    segment = Segment(
        change["payer_id"], change["procedure_code"], pd.Timestamp(change["effective"])
    )
    result = backtest(history, every="1M", segment=segment)
    periods = result.periods
    assert len(periods) >= 8
    assert (periods["roc_auc"].dropna() > 0.75).all()
    weeks = result.segment_weeks
    assert weeks is not None
    before = weeks[weeks["week"] < segment.since]
    after = weeks[weeks["week"] >= segment.since + pd.Timedelta(days=90)]
    assert before["denied_share"].mean() < 0.3 < after["denied_share"].mean()
    assert result.recovery_weeks is not None and result.recovery_weeks <= 12
