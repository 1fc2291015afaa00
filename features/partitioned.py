"""A partitioned history on a Dask cluster: loaded, validated and regrouped on the workers.

A partitioned history is a folder (local or any fsspec URL) holding one Parquet dataset per
contract table: ``claims/``, ``claim_lines/``, ``outcomes/`` and the optional context tables,
each a directory of Parquet files in any layout (hive-partitioned by month or by practice,
for example); a plain ``TABLE.parquet`` file is a dataset of one file. Every file is read by
``dd.read_parquet`` as one partition on a worker and validated there with the single-process
checks (``features.tables``, ``features.history``), so every problem still names its file
(relative to the folder), row and column.

The claims are then regrouped on the workers into ``parts`` member groups (a hash of the
member id): a claim, its lines and outcome, and the member's eligibility checks and
authorizations land in the same group, so member-level history is whole in one partition.
Provider enrollments (keyed by provider) are small and go to every group. Each group is a
``History`` kept in worker memory, its list columns packed as Arrow arrays from the moment a
file is validated (``features.packed``); from there the single-process feature code runs
unchanged.
"""

from __future__ import annotations

import hashlib
import operator
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import dask.dataframe as dd
import fsspec
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from dask.sizeof import sizeof
from distributed import Client, Future

from features.asof import column_hash, day_numbers
from features.cluster import groups_for
from features.contract import CONTEXT_TABLES, REQUIRED_TABLES, TABLE_MODELS
from features.history import (
    History,
    HistoryError,
    LoadReport,
    _cross_table_issues,
    _drop_invalid,
)
from features.labels import LabelSummary, label_outcomes
from features.packed import pack_lists, unpack_lists
from features.tables import Issue, MissingColumnsError, empty_table, normalize_table

FILE, ROW, BAD = "_file", "_row", "_bad"  # where a row came from; whether it is invalid
ORDER = "_order"  # a claim's place in the history: its file's (in path order), then its row
MAX_LISTED = 30
CLAIM_TABLES = ("claims", "claim_lines", "outcomes")
MEMBER_TABLES = ("eligibility_checks", "authorizations")


def parquet_files(url: str) -> list[tuple[str, str]]:
    """The Parquet files at ``url`` in path order, as (URL, path inside ``url``'s parent):
    the file itself, or every ``.parquet`` file under the folder; empty when neither."""
    fs, path = fsspec.core.url_to_fs(url)
    path = path.rstrip("/")
    parent = path.rsplit("/", 1)[0]
    if fs.isdir(path):
        found = sorted(f for f in fs.find(path) if f.endswith(".parquet"))
    elif fs.isfile(path) and path.endswith(".parquet"):
        found = [path]
    else:
        return []
    return [(fs.unstrip_protocol(f), f[len(parent) + 1 :]) for f in found]


def dataset_files(url: str, table: str) -> list[tuple[str, str]]:
    """The Parquet files of ``table`` in path order, as (URL, path inside the history): a
    dataset folder ``TABLE/`` or ``TABLE.parquet/``, or a single ``TABLE.parquet`` file;
    empty when the history has none."""
    root = url.rstrip("/")
    return parquet_files(f"{root}/{table}") or parquet_files(f"{root}/{table}.parquet")


def bucket_of(values: np.ndarray | pd.Series, parts: int) -> np.ndarray:
    """The group (0..parts-1) of each value: the same value, the same group, everywhere."""
    return (column_hash(np.asarray(values, dtype=object)) % np.uint64(parts)).astype(np.int64)


@dataclass
class Part:
    """One file, normalised: its rows with their file and row number, and what was wrong."""

    frame: pd.DataFrame
    problems: list[str]
    rows_read: int
    extra_columns: list[str]


def _describe(issue: Issue, frame: pd.DataFrame) -> list[str]:
    """An issue on local rows of ``frame`` as problems naming each file and its row numbers."""
    files = frame[FILE].to_numpy(dtype=object)[issue.rows]
    rows = frame[ROW].to_numpy()[issue.rows]
    return [
        Issue(issue.table, issue.column, rows[files == name], issue.problem, issue.example)
        .describe(name)
        for name in dict.fromkeys(files.tolist())
    ]  # fmt: skip


def normalize_part(raw: pd.DataFrame, table: str, name: str, index: int) -> Part:
    """Validate one file of ``table`` (``name``: its path inside the history, ``index``: its
    place among the table's files) on a worker."""
    hive = [c for c in raw.columns if f"/{c}=" in f"/{name}"]  # partition keys of the path
    raw = raw.drop(columns=hive).reset_index(drop=True)
    try:
        normalized = normalize_table(table, raw)
    except MissingColumnsError as error:
        return Part(pack_lists(empty_table(table), table), [f"{name}: {error}"], len(raw), [])
    frame = pack_lists(normalized.frame, table)
    frame[FILE] = name
    frame[ROW] = np.arange(len(frame))
    frame[ORDER] = (index << 32) + frame[ROW].to_numpy(np.int64)
    bad = np.zeros(len(frame), dtype=bool)
    for issue in normalized.issues:
        bad[issue.rows] = True
    frame[BAD] = bad
    problems = [p for issue in normalized.issues for p in _describe(issue, frame)]
    return Part(frame, problems, len(raw), normalized.extra_columns)


def split_by(frame: pd.DataFrame, column: str, parts: int) -> list[pd.DataFrame]:
    """``frame``'s rows in ``parts`` groups by the hash of ``column`` (order kept)."""
    groups = bucket_of(frame[column], parts)
    return [frame[groups == g] for g in range(parts)]


@dataclass
class ClaimGroup:
    """Claims, lines and outcomes of one claim-id group after the cross-table checks, split
    by member group; what was wrong and what was dropped."""

    by_member: list[dict[str, pd.DataFrame]]
    problems: list[str]
    skipped: Counter[str]


def check_claims(pieces: dict[str, list[pd.DataFrame]], parts: int, skip: bool) -> ClaimGroup:
    """The cross-table checks of one claim-id group (all copies of a claim id meet here),
    invalid rows dropped when ``skip``, then every row sent to its member's group."""
    tables = {t: pd.concat(pieces[t], ignore_index=True) for t in CLAIM_TABLES}
    issues = _cross_table_issues(tables)
    problems = [p for issue in issues for p in _describe(issue, tables[issue.table])]
    report = LoadReport(Path("."))
    if skip:
        invalid = [
            Issue(t, BAD, np.flatnonzero(tables[t][BAD].to_numpy(bool)), "") for t in CLAIM_TABLES
        ]
        tables = _drop_invalid(tables, issues + invalid, report)
    member = bucket_of(tables["claims"]["member_id"], parts)
    member_of_claim = pd.Series(member, index=tables["claims"]["claim_id"].to_numpy())
    groups = {"claims": member}
    for table in ("claim_lines", "outcomes"):
        ids = tables[table]["claim_id"].to_numpy()
        groups[table] = member_of_claim.reindex(ids).fillna(-1).to_numpy(np.int64)
    by_member = [{t: tables[t][groups[t] == g] for t in CLAIM_TABLES} for g in range(parts)]
    return ClaimGroup(by_member, problems, report.skipped)


def member_history(
    claim_pieces: list[dict[str, pd.DataFrame]],
    member_pieces: dict[str, list[pd.DataFrame]],
    enrollments: pd.DataFrame,
    missing_context: list[str],
) -> History:
    """The ``History`` of one member group, in the single-process normal form."""
    tables = {t: pd.concat([p[t] for p in claim_pieces], ignore_index=True) for t in CLAIM_TABLES}
    for table in MEMBER_TABLES:
        pieces = member_pieces[table]
        tables[table] = pd.concat(pieces, ignore_index=True) if pieces else empty_table(table)
    tables["provider_enrollments"] = enrollments
    tables = {  # claims keep their place in the history (ORDER); list columns stay packed
        t: pack_lists(
            f.drop(
                columns=[FILE, ROW, BAD] + ([] if t == "claims" else [ORDER]), errors="ignore"
            ).reset_index(drop=True),
            t,
        )
        for t, f in tables.items()
    }
    report = LoadReport(Path("."), missing_context=list(missing_context))
    labels = label_outcomes(unpack_lists(tables["outcomes"], "outcomes"))
    return History(report=report, labels=labels, **tables)


def _sizeof_fields(value: Any) -> int:
    return sum(sizeof(getattr(value, field.name)) for field in fields(value))


# What a worker holds between tasks is these records of frames: Dask must count them at their
# size (its default is the size of the bare object, a few bytes), or it never spills them and
# takes the whole history for memory it cannot manage.
for _held in (History, LabelSummary, Part, ClaimGroup):
    sizeof.register(_held)(_sizeof_fields)


def _submission_range(history: History) -> tuple[int, int]:
    days = day_numbers(history.claims["submission_date"])
    return (int(days.min()), int(days.max())) if len(days) else (1 << 30, -1)


@dataclass
class PartitionedHistory:
    """A history held on the cluster as member groups (``History`` futures)."""

    url: str
    groups: list[Future]
    report: LoadReport
    client: Client

    def map(self, function: Any, *args: Any, **kwargs: Any) -> list[Future]:
        """``function(history, *args)`` on every group, on the worker that holds it."""
        return [self.client.submit(function, g, *args, **kwargs) for g in self.groups]

    def fingerprint(self) -> dict[str, Any]:
        """Row counts, date range and a digest of every file's path and size."""
        ranges = self.client.gather(self.map(_submission_range))
        fs, _ = fsspec.core.url_to_fs(self.url)
        digests = {}
        for table in self.report.files:
            listing = [f"{name}:{fs.size(file)}" for file, name in dataset_files(self.url, table)]
            digests[table] = hashlib.sha256("\n".join(listing).encode()).hexdigest()
        return {
            "folder": self.url,
            "rows": self.report.rows_kept,
            "skipped": dict(self.report.skipped),
            "missing_context": self.report.missing_context,
            "submission_dates": [
                str(np.datetime64(min(r[0] for r in ranges), "D")),
                str(np.datetime64(max(r[1] for r in ranges), "D")),
            ],
            "files_sha256": digests,
            "unlisted_carcs": dict(self.report.unlisted_carcs),
        }

    def restricted(self, function: Any, *args: Any) -> PartitionedHistory:
        """The history with every group replaced by ``function(group, *args)`` (a
        ``History`` -> ``History`` function such as ``features.history.known_at``)."""
        return replace(self, groups=self.map(function, *args))

    def claims_of(self, claim_ids: Iterable[str]) -> History:
        """A local history of just these claims (with their lines and outcomes), their
        members' eligibility checks and authorizations and every provider enrollment, claims
        in the history's order: what the gate scores a model on."""
        wanted = pd.Index(list(claim_ids))
        shared = self.client.scatter(wanted, broadcast=True)
        parts: list[History] = self.client.gather(self.map(_claims_of, shared))
        tables = {
            table: unpack_lists(
                pd.concat([part.table(table) for part in parts], ignore_index=True), table
            )
            for table in TABLE_MODELS
            if table != "provider_enrollments"
        }
        tables["claims"] = tables["claims"].sort_values(ORDER, ignore_index=True)
        tables["provider_enrollments"] = parts[0].provider_enrollments
        return History(report=self.report, labels=label_outcomes(tables["outcomes"]), **tables)


def _claims_of(history: History, wanted: pd.Index) -> History:
    claims = history.claims[history.claims["claim_id"].isin(wanted)]
    members = claims["member_id"]

    def of(frame: pd.DataFrame, column: str, keys: pd.Series) -> pd.DataFrame:
        return frame[frame[column].isin(keys)]

    return replace(
        history,
        claims=claims,
        claim_lines=of(history.claim_lines, "claim_id", claims["claim_id"]),
        outcomes=of(history.outcomes, "claim_id", claims["claim_id"]),
        eligibility_checks=of(history.eligibility_checks, "member_id", members),
        authorizations=of(history.authorizations, "member_id", members),
    )


def _fail_on(problems: list[str], url: str) -> None:
    listed = "\n  ".join(problems[:MAX_LISTED])
    more = f"\n  ... and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
    raise HistoryError(
        f"{url}: {len(problems)} problem(s); fix them or load with skip_invalid "
        f"(--skip-invalid) to drop the rows, counted:\n  {listed}{more}"
    )


def _read(client: Client, url: str, table: str, report: LoadReport) -> list[Future]:
    """One normalised ``Part`` future per file of ``table`` (validated on the workers)."""
    files = dataset_files(url, table)
    if not files:
        if table in REQUIRED_TABLES:
            raise HistoryError(
                f"{url}: required table {table} (a Parquet file or dataset folder) missing"
            )
        report.missing_context.append(table)
        return []
    report.files[table] = Path(table)
    frames = dd.read_parquet(
        [file for file, _ in files], split_row_groups=False, blocksize=None, aggregate_files=False
    ).to_delayed()
    if len(frames) != len(files):  # one partition per file is what names a row's file
        raise HistoryError(f"{url}/{table}: expected one partition per file")
    futures = client.compute(frames)
    return [
        client.submit(normalize_part, frame, table, name, index)
        for index, (frame, (_, name)) in enumerate(zip(futures, files, strict=True))
    ]


def _gather_part_info(
    client: Client, parts: list[Future]
) -> list[tuple[list[str], int, list[str]]]:
    def info(part: Part) -> tuple[list[str], int, list[str]]:
        return part.problems, part.rows_read, part.extra_columns

    result: list[tuple[list[str], int, list[str]]] = client.gather(
        [client.submit(info, p) for p in parts]
    )
    return result


def _valid_rows(part: Part) -> pd.DataFrame:
    return part.frame[~part.frame[BAD].to_numpy(bool)]


def _invalid_count(part: Part) -> int:
    return int(part.frame[BAD].sum())


def _split_part(part: Part, column: str, parts: int) -> list[pd.DataFrame]:
    return split_by(part.frame, column, parts)


def _check_summary(group: ClaimGroup) -> tuple[list[str], Counter[str]]:
    return group.problems, group.skipped


def _member_part(group: ClaimGroup, member_group: int) -> dict[str, pd.DataFrame]:
    return group.by_member[member_group]


def _concat_or_empty(table: str, *frames: pd.DataFrame) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True) if frames else empty_table(table)


def claim_rows(url: str) -> int:
    """Rows of the claims dataset, from the files' footers."""
    fs, _ = fsspec.core.url_to_fs(url)
    total = 0
    for file, _name in dataset_files(url, "claims"):
        with fs.open(file, "rb") as handle:
            total += pq.ParquetFile(handle).metadata.num_rows
    return total


def load_partitioned(
    client: Client, url: str | Path, *, parts: int | None = None, skip_invalid: bool = False
) -> PartitionedHistory:
    """Load, validate and regroup the partitioned history at ``url`` into ``parts`` member
    groups (default: ``features.cluster.groups_for`` its claims)."""
    url = str(url)
    parts = parts or groups_for(client, claim_rows(url))
    report = LoadReport(Path(url))
    files = {t: _read(client, url, t, report) for t in TABLE_MODELS}
    problems: list[str] = []
    for table, table_parts in files.items():
        infos = _gather_part_info(client, table_parts)
        problems += [p for info in infos for p in info[0]]
        report.rows_read[table] = sum(info[1] for info in infos)
        extra = sorted({c for info in infos for c in info[2]})
        if extra:
            report.ignored_columns[table] = extra
    if problems and not skip_invalid:
        _fail_on(problems, url)
    skipped: Counter[str] = Counter()
    for table in CONTEXT_TABLES:  # their invalid rows simply go (claims': with dependants)
        counts = client.gather([client.submit(_invalid_count, f) for f in files[table]])
        skipped[f"{table}: invalid rows"] += sum(counts)
        files[table] = [client.submit(_valid_rows, f) for f in files[table]]
    # Claims, lines and outcomes by claim id: every copy of a claim id meets its lines. Each
    # stage's futures are dropped as soon as the next stage is submitted, so Dask frees every
    # intermediate copy once it is used, not at the end of the load (at 10M claims, copies
    # held to the end were three times what the workers' memory holds).
    by_claim = {
        t: [client.submit(_split_part, f, "claim_id", parts) for f in files.pop(t)]
        for t in CLAIM_TABLES
    }
    groups = [
        client.submit(
            check_claims,
            {t: [client.submit(operator.getitem, f, g) for f in by_claim[t]] for t in CLAIM_TABLES},
            parts,
            skip_invalid,
        )
        for g in range(parts)
    ]
    del by_claim
    checked = client.gather([client.submit(_check_summary, g) for g in groups])
    cross = [p for problems_, _ in checked for p in problems_]
    if cross and not skip_invalid:
        _fail_on(problems + cross, url)
    report.problems = problems + cross
    for _, counts in checked:
        skipped.update(counts)
    report.skipped = skipped
    by_member = {
        t: [client.submit(split_by, f, "member_id", parts) for f in files.pop(t)]
        for t in MEMBER_TABLES
    }
    enrollments = client.submit(
        _concat_or_empty, "provider_enrollments", *files.pop("provider_enrollments")
    )
    workers = list(client.scheduler_info()["workers"])
    histories = [  # spread over the workers: a distributed fit needs data on every one
        client.submit(
            member_history,
            [client.submit(_member_part, c, g) for c in groups],
            {
                t: [client.submit(operator.getitem, f, g) for f in by_member[t]]
                for t in MEMBER_TABLES
            },
            enrollments,
            report.missing_context,
            workers=[workers[g % len(workers)]],
        )
        for g in range(parts)
    ]
    del groups, by_member
    kept = client.gather([client.submit(_counts, h) for h in histories])
    for table in CONTEXT_TABLES + REQUIRED_TABLES:
        if table == "provider_enrollments":
            report.rows_kept[table] = client.submit(len, enrollments).result()
        else:
            report.rows_kept[table] = sum(k[0][table] for k in kept)
    unlisted: Counter[str] = Counter()
    for _, carcs in kept:
        unlisted.update(carcs)
    report.unlisted_carcs = unlisted
    return PartitionedHistory(url, histories, report, client)


def _counts(history: History) -> tuple[dict[str, int], Counter[str]]:
    rows = {t: len(history.table(t)) for t in TABLE_MODELS}
    return rows, history.labels.unlisted_carcs
