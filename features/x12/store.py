"""The ingest's output folder: contract tables as typed Parquet, parked remits, the manifest.

Tables are written in the contract's Parquet form (codes as strings, dates as ``date32``,
lists as lists) so ``features.history.load_history`` reads them back unchanged. Files whose
names start with ``_`` are the ingest's own bookkeeping; the history loader ignores them:

- ``_ingested.json``: content hashes of the files already ingested, the possible-duplicate
  claim ids (``CLM01#2`` -> ``CLM01``) and claims with a reversal waiting for its pair;
- ``_unmatched_remits.parquet``: 835 payments whose claim has not arrived yet;
- ``_commit.json``: only while an ingest makes its files visible (see ``Staging``).

An ingest's files change together or not at all: each is written beside its final name as
``NAME.pending``, then ``_commit.json`` lists them, then they are renamed. An ingest killed
before the list exists left only ``.pending`` files, which the next ingest deletes; one
killed after it is completed by the next ingest (``recover``). So a killed ingest re-run
gives exactly what an uninterrupted one gives.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from features.contract import table_spec
from features.history import find_table
from features.tables import normalize_table
from features.x12.remits835 import OUTCOME_COLUMNS, OUTCOME_META

TABLES = ("claims", "claim_lines", "outcomes")
CONTEXT_TABLES = ("eligibility_checks", "authorizations")  # from 271 / 278
MANIFEST = "_ingested.json"
UNMATCHED = "_unmatched_remits.parquet"
MANIFEST_FORMAT = 1

_ARROW: dict[str, pa.DataType] = {
    "str": pa.string(),
    "date": pa.date32(),
    "number": pa.float64(),
    "int": pa.int64(),
    "bool": pa.bool_(),
    "list_str": pa.list_(pa.string()),
    "list_int": pa.list_(pa.int64()),
}


def _arrow_column(kind: str, values: pd.Series) -> pa.Array:
    if kind == "date":
        stamps = pd.to_datetime(values).astype("datetime64[s]")
        return pa.Array.from_pandas(stamps).cast(pa.date32())
    if kind in ("list_str", "list_int"):
        return pa.array([list(v) for v in values], type=_ARROW[kind])
    if kind == "str":
        return pa.array(values.astype(object).where(values.notna(), None), type=pa.string())
    return pa.Array.from_pandas(values, type=_ARROW[kind])


def to_arrow(table: str, frame: pd.DataFrame) -> pa.Table:
    """A normalised contract table (see ``features.tables``) as a typed Arrow table."""
    specs = table_spec(table)
    return pa.table(
        {s.name: _arrow_column(s.kind, frame[s.name].reset_index(drop=True)) for s in specs}
    )


JOURNAL = "_commit.json"
PENDING = ".pending"


def _durable(path: Path) -> None:
    with path.open("rb") as written:
        os.fsync(written.fileno())


def _apply(folder: Path, writes: list[str], deletes: list[str]) -> None:
    for name in writes:
        pending = folder / (name + PENDING)
        if pending.exists():  # absent: renamed before an interruption
            os.replace(pending, folder / name)
    for name in deletes:
        (folder / name).unlink(missing_ok=True)


def recover(folder: Path) -> bool:
    """Finish an ingest killed while renaming its files, and drop the files of one killed
    before; True when an interrupted ingest was completed."""
    journal = folder / JOURNAL
    completed = journal.exists()
    if completed:
        listed = json.loads(journal.read_text())
        _apply(folder, listed["write"], listed["delete"])
        journal.unlink()
    for leftover in [*folder.glob("*" + PENDING), folder / (JOURNAL + ".tmp")]:
        leftover.unlink(missing_ok=True)
    return completed


class Staging:
    """The files of one ingest, made visible together by ``commit``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.writes: list[str] = []
        self.deletes: list[str] = []

    def write(self, name: str, write: Any) -> None:
        """``write(path)`` writes the file that becomes ``folder/name`` at commit."""
        pending = self.folder / (name + PENDING)
        write(pending)
        _durable(pending)
        if name in self.deletes:
            self.deletes.remove(name)
        if name not in self.writes:
            self.writes.append(name)

    def delete(self, name: str) -> None:
        if name in self.writes:
            self.writes.remove(name)
            (self.folder / (name + PENDING)).unlink(missing_ok=True)
        if name not in self.deletes:
            self.deletes.append(name)

    def commit(self) -> None:
        journal = self.folder / JOURNAL
        listing = journal.with_name(JOURNAL + ".tmp")
        listing.write_text(json.dumps({"write": self.writes, "delete": self.deletes}))
        _durable(listing)
        os.replace(listing, journal)  # from here on the ingest happened
        _apply(self.folder, self.writes, self.deletes)
        journal.unlink()
        self.writes, self.deletes = [], []


def read_columns(folder: Path, table: str, columns: list[str]) -> pd.DataFrame:
    """A few columns of a table the ingest wrote (empty when the folder does not have it)."""
    path = folder / f"{table}.parquet"
    if not path.exists():
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return pq.read_table(path, columns=columns).to_pandas()


def extend_table(staging: Staging, table: str, frame: pd.DataFrame, drop_ids: set[str]) -> int:
    """Append normalised rows to ``table.parquet``, first dropping rows of ``drop_ids``.

    The existing rows stay in Arrow form (no re-validation of the whole history on each
    append); a file whose types differ from the contract's Parquet form is normalised once.
    Returns the number of rows the table has afterwards.
    """
    path = staging.folder / f"{table}.parquet"
    new = to_arrow(table, frame)
    if not path.exists():
        combined = new
    else:
        if frame.empty and not drop_ids:
            return pq.read_metadata(path).num_rows
        old = pq.read_table(path)
        if drop_ids:
            value_set = pa.array(sorted(drop_ids), type=pa.string())
            old = old.filter(pc.invert(pc.is_in(old["claim_id"], value_set=value_set)))
        try:
            old = old.select(new.schema.names).cast(new.schema)
        except (KeyError, pa.ArrowInvalid, pa.ArrowNotImplementedError):
            old = to_arrow(table, normalize_table(table, old.to_pandas()).frame)
        combined = pa.concat_tables([old, new])
    staging.write(path.name, lambda p: pq.write_table(combined, p))
    return combined.num_rows


def has_tables(folder: Path) -> list[str]:
    return [t for t in TABLES if find_table(folder, t) is not None]


def csv_tables(folder: Path) -> list[str]:
    return [t for t in TABLES + CONTEXT_TABLES if (folder / f"{t}.csv").exists()]


def write_unmatched(staging: Staging, rows: pd.DataFrame) -> None:
    if rows.empty:
        staging.delete(UNMATCHED)
        return
    outcomes = to_arrow("outcomes", normalize_table("outcomes", rows[OUTCOME_COLUMNS]).frame)
    meta = pa.table(
        {
            "claim_frequency_code": pa.array(
                rows["claim_frequency_code"]
                .astype(object)
                .where(rows["claim_frequency_code"].notna(), None),
                type=pa.string(),
            ),
            "source": pa.array(rows["source"].astype(str).tolist(), type=pa.string()),
            "segment": pa.array(rows["segment"].astype("int64").tolist(), type=pa.int64()),
        }
    )
    arrow = pa.table(
        {
            **dict(zip(outcomes.column_names, outcomes.columns, strict=True)),
            **dict(zip(meta.column_names, meta.columns, strict=True)),
        }
    )
    staging.write(UNMATCHED, lambda p: pq.write_table(arrow, p))


def read_unmatched(folder: Path) -> pd.DataFrame:
    """Parked 835 rows (outcome columns in raw form plus CLP09, source and segment)."""
    path = folder / UNMATCHED
    columns = OUTCOME_COLUMNS + OUTCOME_META
    if not path.exists():
        return pd.DataFrame(columns=columns)
    frame = pd.read_parquet(path)
    for column in ("adjustments", "remark_codes"):
        frame[column] = [list(v) for v in frame[column]]
    frame["adjudication_date"] = pd.to_datetime(frame["adjudication_date"]).dt.date
    frame["claim_frequency_code"] = (
        frame["claim_frequency_code"]
        .astype(object)
        .where(frame["claim_frequency_code"].notna(), None)
    )
    return frame[columns]


@dataclass
class Manifest:
    """What the folder already holds beyond its tables (see the module docstring)."""

    files: dict[str, dict[str, Any]] = field(default_factory=dict)  # sha256 -> file facts
    duplicates: dict[str, str] = field(default_factory=dict)  # claim id -> CLM01
    pending_reversals: list[str] = field(default_factory=list)
    format: int = MANIFEST_FORMAT

    @classmethod
    def load(cls, folder: Path) -> Manifest:
        path = folder / MANIFEST
        if not path.exists():
            return cls()
        data = json.loads(path.read_text())
        if data.get("format") != MANIFEST_FORMAT:
            raise ValueError(f"{path}: manifest format {data.get('format')!r} is not supported")
        return cls(**data)

    def save(self, staging: Staging) -> None:
        text = json.dumps(asdict(self), indent=1, sort_keys=True)
        staging.write(MANIFEST, lambda p: p.write_text(text))
