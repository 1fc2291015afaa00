"""Terminal and JSON faces of the pattern alerts (the monitor report renders itself)."""

from __future__ import annotations

import json

import pandas as pd
from rich.table import Table

from analytics.patterns import ALERT_COLUMNS


def patterns_json(alerts: pd.DataFrame) -> str:
    """``find_patterns`` output as JSON: as-of date, window, cells tested, ranked alerts."""
    rows = alerts.loc[:, list(ALERT_COLUMNS)].copy()
    rows["first_significant"] = rows["first_significant"].dt.strftime("%Y-%m-%d")
    records = json.loads(rows.to_json(orient="records"))
    return json.dumps({**alerts.attrs, "alerts": records}, indent=2)


def patterns_table(alerts: pd.DataFrame) -> Table:
    """``find_patterns`` output as a rich table, strongest first."""
    title = (
        f"Emerging denial patterns: windows up to {alerts.attrs.get('window_days', '?')} days to "
        f"{alerts.attrs.get('as_of', '?')}, {alerts.attrs.get('tested_cells', 0):,} cells tested"
    )
    table = Table(title=title)
    for heading in ("cell", "days", "denied", "recent", "before", "q", "since", "main reason"):
        table.add_column(heading, justify="left" if heading in ("cell", "main reason") else "right")
    for row in alerts.itertuples(index=False):
        table.add_row(
            str(row.label),
            str(row.recent_days),
            f"{row.recent_denied}/{row.recent_claims}",
            f"{row.recent_rate:.0%}",
            f"{row.baseline_rate:.0%}",
            f"{row.q_value:.1e}",
            str(pd.Timestamp(row.first_significant).date()),
            f"{row.top_category} (CARC {row.top_carc})" if row.top_carc else str(row.top_category),
        )
    if alerts.empty:
        table.caption = "No cell's denial rate rose significantly in the window."
    return table
