"""Load and validate a history folder (contract section 1): one CSV or Parquet file per table.

Every problem names its file, rows and column. By default any invalid row fails the load with
the full list; with ``skip_invalid`` the invalid rows are dropped instead, together with what
depends on them (a claim's lines and outcome), and every skip is counted in the report.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from features.contract import CONTEXT_OF_TABLE, CONTEXT_TABLES, REQUIRED_TABLES, TABLE_MODELS
from features.labels import LabelSummary, label_outcomes
from features.rules import NOT_CHECKED
from features.tables import Issue, MissingColumnsError, empty_table, normalize_table


class HistoryError(ValueError):
    """The history folder cannot be used as it is; the message lists every problem."""


@dataclass
class LoadReport:
    """What was read, what was skipped and why, and what the history cannot teach."""

    folder: Path
    files: dict[str, Path] = field(default_factory=dict)
    rows_read: dict[str, int] = field(default_factory=dict)
    rows_kept: dict[str, int] = field(default_factory=dict)
    skipped: Counter[str] = field(default_factory=Counter)
    ignored_columns: dict[str, list[str]] = field(default_factory=dict)
    missing_context: list[str] = field(default_factory=list)
    unlisted_carcs: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def warnings(self) -> list[str]:
        notes = [
            f"no {table} table: {NOT_CHECKED[CONTEXT_OF_TABLE[table]]} reasons cannot be learned"
            for table in self.missing_context
        ]
        notes += [
            f"{self.files[table].name}: ignored columns {', '.join(columns)}"
            for table, columns in self.ignored_columns.items()
        ]
        if self.unlisted_carcs:
            listed = ", ".join(f"{c} ({n})" for c, n in self.unlisted_carcs.most_common(20))
            notes.append(f"CARCs not in the category table (not counted as denials): {listed}")
        return notes


@dataclass
class History:
    """A validated history in normalised form (see ``features.tables``)."""

    claims: pd.DataFrame
    claim_lines: pd.DataFrame
    outcomes: pd.DataFrame
    eligibility_checks: pd.DataFrame
    authorizations: pd.DataFrame
    provider_enrollments: pd.DataFrame
    report: LoadReport
    labels: LabelSummary

    def table(self, name: str) -> pd.DataFrame:
        frame: pd.DataFrame = getattr(self, name)
        return frame


def find_table(folder: Path, table: str) -> Path | None:
    candidates = [folder / f"{table}.{ext}" for ext in ("parquet", "csv")]
    found = [p for p in candidates if p.exists()]
    if len(found) > 1:
        raise HistoryError(f"{folder}: both {found[0].name} and {found[1].name}; keep one")
    return found[0] if found else None


def read_raw(path: Path) -> pd.DataFrame:
    """Read a table file as it is: CSV cells stay text, so codes keep their leading zeros."""
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)
    except (OSError, ValueError, pd.errors.ParserError) as error:
        raise HistoryError(f"{path.name}: cannot be read: {error}") from error


def _duplicates(frame: pd.DataFrame, keys: list[str], table: str, problem: str) -> list[Issue]:
    dup = frame.duplicated(keys, keep=False).to_numpy()
    rows = np.flatnonzero(dup)
    return [Issue(table, "+".join(keys), rows, problem)] if len(rows) else []


def _orphans(frame: pd.DataFrame, claim_ids: pd.Series, table: str) -> list[Issue]:
    rows = np.flatnonzero(~frame["claim_id"].isin(claim_ids).to_numpy())
    return [Issue(table, "claim_id", rows, "claim_id is not in claims")] if len(rows) else []


def _cross_table_issues(tables: dict[str, pd.DataFrame]) -> list[Issue]:
    claims, lines, outcomes = tables["claims"], tables["claim_lines"], tables["outcomes"]
    issues = _duplicates(claims, ["claim_id"], "claims", "claim_id is not unique")
    issues += _duplicates(lines, ["claim_id", "line_number"], "claim_lines", "line repeated")
    issues += _duplicates(outcomes, ["claim_id"], "outcomes", "more than one outcome row")
    issues += _orphans(lines, claims["claim_id"], "claim_lines")
    issues += _orphans(outcomes, claims["claim_id"], "outcomes")
    lineless = np.flatnonzero(~claims["claim_id"].isin(lines["claim_id"]).to_numpy())
    if len(lineless):
        issues.append(Issue("claims", "claim_id", lineless, "claim has no claim_lines rows"))
    return issues


def _drop_invalid(
    tables: dict[str, pd.DataFrame], issues: list[Issue], report: LoadReport
) -> dict[str, pd.DataFrame]:
    bad_rows: dict[str, set[int]] = {}
    for issue in issues:
        bad_rows.setdefault(issue.table, set()).update(issue.rows.tolist())
    kept: dict[str, pd.DataFrame] = {}
    for table, frame in tables.items():
        mask = np.ones(len(frame), dtype=bool)
        mask[list(bad_rows.get(table, ()))] = False
        report.skipped[f"{table}: invalid rows"] += int((~mask).sum())
        kept[table] = frame[mask]
    # A claim stands or falls with its lines: an invalid line drops its whole claim.
    lines = kept["claim_lines"]
    bad_line_rows = sorted(bad_rows.get("claim_lines", ()))
    bad_claims = tables["claim_lines"]["claim_id"].iloc[bad_line_rows].dropna()
    claims = kept["claims"]
    dropped_claims = claims["claim_id"].isin(bad_claims) | ~claims["claim_id"].isin(
        lines["claim_id"]
    )
    report.skipped["claims: dropped with an invalid line"] += int(dropped_claims.sum())
    claims = claims[~dropped_claims]
    for table in ("claim_lines", "outcomes"):
        frame = kept[table]
        orphan = ~frame["claim_id"].isin(claims["claim_id"])
        report.skipped[f"{table}: dropped with their claim"] += int(orphan.sum())
        kept[table] = frame[~orphan]
    kept["claims"] = claims
    return {t: f.reset_index(drop=True) for t, f in kept.items()}


def load_history(folder: Path, *, skip_invalid: bool = False) -> History:
    """Load, validate and normalise the history in ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise HistoryError(f"{folder}: not a folder")
    report = LoadReport(folder)
    tables: dict[str, pd.DataFrame] = {}
    issues: list[Issue] = []
    for table in TABLE_MODELS:
        path = find_table(folder, table)
        if path is None:
            if table in REQUIRED_TABLES:
                raise HistoryError(f"{folder}: required table {table} (.csv or .parquet) missing")
            report.missing_context.append(table)
            tables[table] = empty_table(table)
            continue
        report.files[table] = path
        raw = read_raw(path)
        report.rows_read[table] = len(raw)
        try:
            normalized = normalize_table(table, raw)
        except MissingColumnsError as error:
            raise HistoryError(f"{path.name}: {error}") from error
        tables[table] = normalized.frame
        issues += normalized.issues
        if normalized.extra_columns:
            report.ignored_columns[table] = normalized.extra_columns
    issues += _cross_table_issues(tables)
    report.problems = [i.describe(report.files[i.table].name) for i in issues]
    if issues and not skip_invalid:
        listed = "\n  ".join(report.problems[:30])
        more = f"\n  ... and {len(issues) - 30} more" if len(issues) > 30 else ""
        raise HistoryError(
            f"{folder}: {len(issues)} problem(s); fix them or load with skip_invalid "
            f"(--skip-invalid) to drop the rows, counted:\n  {listed}{more}"
        )
    if issues:
        tables = _drop_invalid(tables, issues, report)
    for table in CONTEXT_TABLES + REQUIRED_TABLES:
        report.rows_kept[table] = len(tables[table])
    labels = label_outcomes(tables["outcomes"])
    report.unlisted_carcs = labels.unlisted_carcs
    return History(report=report, labels=labels, **tables)


def known_at(history: History, until: pd.Timestamp) -> History:
    """The history as it stood on ``until``: claims submitted by then, outcomes adjudicated by
    then (later outcomes become pending), context dated by then."""
    claims = history.claims[history.claims["submission_date"] <= until]
    keep = claims["claim_id"]
    outcomes = history.outcomes[
        history.outcomes["claim_id"].isin(keep) & (history.outcomes["adjudication_date"] <= until)
    ]
    labels = history.labels.labels[history.labels.labels["claim_id"].isin(outcomes["claim_id"])]
    context = {
        "eligibility_checks": history.eligibility_checks[
            history.eligibility_checks["checked_on"] <= until
        ],
        "authorizations": history.authorizations[history.authorizations["start_date"] <= until],
        "provider_enrollments": history.provider_enrollments[
            history.provider_enrollments["effective_date"] <= until
        ],
    }
    return History(
        claims=claims.reset_index(drop=True),
        claim_lines=history.claim_lines[history.claim_lines["claim_id"].isin(keep)].reset_index(
            drop=True
        ),
        outcomes=outcomes.reset_index(drop=True),
        report=history.report,
        labels=LabelSummary(labels.reset_index(drop=True), history.labels.unlisted_carcs),
        **{name: frame.reset_index(drop=True) for name, frame in context.items()},
    )
