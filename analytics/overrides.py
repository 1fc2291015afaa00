"""What billers' overrides teach: a biller disputes one reason of a claim's score ("not an
auth problem: the payer does not require it"); once the claim's outcome is in the history,
the payer either denied it for that category (the model was right) or did not (the biller
was).

The overrides reach training as a documented signal, never as a silent label change: the
service keeps them in its prediction store, ``claimrisk monitor --overrides-out FILE`` writes
them to a CSV (claim id, category, model version, when), and ``claimrisk train --overrides
FILE`` reports this table for the history it trains on and logs it with the run (per category:
``overrides``, ``overrides_upheld``, ``overrides_refuted``), so whoever reviews the run sees
where staff and model disagree and who turned out right. Labels still come from the 835 only.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from rich.table import Table

from analytics.recorded import OVERRIDE_COLUMNS
from analytics.tables import claim_outcomes
from features.history import History


class OverridesFileError(ValueError):
    """The overrides file cannot be used; the message names the file and the problem."""


def write_overrides(overrides: pd.DataFrame, path: Path) -> None:
    overrides.loc[:, list(OVERRIDE_COLUMNS)].to_csv(path, index=False)


def read_overrides_file(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise OverridesFileError(f"{path}: cannot read overrides: {e}") from e
    missing = [c for c in OVERRIDE_COLUMNS if c not in frame.columns]
    if missing:
        raise OverridesFileError(
            f"{path}: missing column(s) {', '.join(missing)}; `claimrisk monitor "
            "--overrides-out` writes this file"
        )
    return frame.loc[:, list(OVERRIDE_COLUMNS)]


def override_outcomes(overrides: pd.DataFrame, history: History) -> pd.DataFrame:
    """Per disputed category: ``overrides`` (distinct claims), ``pending`` (no outcome yet),
    ``upheld`` (the payer denied the claim for that very category: the model was right),
    ``refuted`` (adjudicated and not denied for it: the biller was right) and
    ``refuted_share`` (refuted / adjudicated)."""
    columns = ["category", "overrides", "pending", "upheld", "refuted", "refuted_share"]
    if overrides.empty:
        return pd.DataFrame(columns=columns)
    disputed = overrides.drop_duplicates(["claim_id", "category"]).loc[:, ["claim_id", "category"]]
    outcomes = claim_outcomes(history).loc[
        :, ["claim_id", "adjudicated", "denied", "denial_category"]
    ]
    joined = disputed.merge(outcomes, on="claim_id", how="left", validate="many_to_one")
    done = joined["adjudicated"].fillna(False).astype(bool)
    upheld = (
        done
        & joined["denied"].fillna(False).astype(bool)
        & (joined["denial_category"].astype(object) == joined["category"])
    )
    frame = (
        joined.assign(done=done, upheld=upheld, refuted=done & ~upheld, pending=~done)
        .groupby("category", sort=True)
        .agg(
            overrides=("claim_id", "size"),
            pending=("pending", "sum"),
            upheld=("upheld", "sum"),
            refuted=("refuted", "sum"),
        )
        .reset_index()
    )
    adjudicated = frame["upheld"] + frame["refuted"]
    frame["refuted_share"] = (frame["refuted"] / adjudicated).where(adjudicated > 0)
    return frame.loc[:, columns]


def override_metrics(table: pd.DataFrame) -> dict[str, float]:
    """The table as flat run metrics: ``overrides_<category>``, ``overrides_upheld_<category>``
    and ``overrides_refuted_<category>``."""
    metrics: dict[str, float] = {}
    for record in table.to_dict(orient="records"):
        category = record["category"]
        metrics[f"overrides_{category}"] = float(record["overrides"])
        metrics[f"overrides_upheld_{category}"] = float(record["upheld"])
        metrics[f"overrides_refuted_{category}"] = float(record["refuted"])
    return metrics


def overrides_table(table: pd.DataFrame, title: str) -> Table:
    """The table for a console."""
    out = Table(title=title)
    for heading in ("disputed reason", "claims", "pending", "payer denied for it",
                    "payer did not", "biller right"):  # fmt: skip
        out.add_column(heading, justify="left" if heading == "disputed reason" else "right")
    for record in table.to_dict(orient="records"):
        share = record["refuted_share"]
        out.add_row(
            str(record["category"]),
            f"{int(record['overrides']):,}",
            f"{int(record['pending']):,}",
            f"{int(record['upheld']):,}",
            f"{int(record['refuted']):,}",
            "-" if pd.isna(share) else f"{float(share):.0%}",
        )
    return out
