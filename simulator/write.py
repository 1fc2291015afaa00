"""Write the simulation: history tables (parquet, CSV, or partitioned Parquet datasets),
requests.jsonl, ground_truth.parquet and world.json."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, BinaryIO, Literal

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from simulator import codes as C
from simulator.causes import CATEGORY_TARGETS, INDEX_TARGETS
from simulator.payers import PAYERS, payer_rules
from simulator.requests import request_lines
from simulator.tables import Builder
from simulator.world import World, to_date

Format = Literal["parquet", "csv", "partitioned"]
# The date a table's dataset is partitioned by (hive ``month=YYYY-MM`` folders).
MONTH_OF = {
    "claims": "submission_date",
    "claim_lines": "service_date",
    "outcomes": "adjudication_date",
    "eligibility_checks": "checked_on",
    "authorizations": "start_date",
    "provider_enrollments": "effective_date",
}
BILLING_COMPANY = "Crescent Billing Partners"


def _csv_ready(table: pa.Table) -> pa.Table:
    """Lists joined with '|' (contract: lists inside one CSV cell); an empty list is an empty
    cell."""
    columns = []
    for col in table.columns:
        if pa.types.is_list(col.type):
            chunks = []
            for chunk in col.chunks:
                values = chunk.values
                if not pa.types.is_string(values.type):
                    values = pc.cast(values, pa.string())
                as_str = pa.ListArray.from_arrays(chunk.offsets, values)
                joined = pc.binary_join(as_str, "|")
                empty = pc.equal(pc.list_value_length(chunk), 0)
                chunks.append(pc.if_else(empty, pa.scalar(None, pa.string()), joined))
            col = pa.chunked_array(chunks, pa.string())
        columns.append(col)
    return pa.table(columns, names=table.column_names)


def _write_months(table: pa.Table, folder: Path, block: int) -> Path:
    """A Parquet dataset in ``month=YYYY-MM`` folders (``none`` without a date), rows in
    their order within each month; block k > 0 of a world simulated in blocks adds its own
    files (``part-0000k-0.parquet``, after block 0's ``part-0.parquet``)."""
    dates = table.column(MONTH_OF[folder.name])
    month = pc.fill_null(pc.strftime(dates, format="%Y-%m"), "none")
    pq.write_to_dataset(
        table.append_column("month", month),
        folder,
        partition_cols=["month"],
        compression="zstd",
        basename_template="part-{i}.parquet" if block == 0 else f"part-{block:05d}-{{i}}.parquet",
    )
    return folder


def write_table(table: pa.Table, path: Path, fmt: Format, block: int = 0) -> Path:
    if fmt == "partitioned":
        return _write_months(table, path, block)
    if block:
        raise ValueError(f"only partitioned output is written in blocks, not {fmt}")
    target = path.with_suffix(f".{fmt}")
    if fmt == "parquet":
        pq.write_table(table, target, compression="zstd")
    else:
        pacsv.write_csv(_csv_ready(table), target)
    return target


def write_history(builder: Builder, folder: Path, fmt: Format, block: int = 0) -> dict[str, int]:
    """The six contract tables as of the history end (of one block of a world simulated in
    blocks: partitioned output only); returns row counts."""
    sim = builder.sim
    w = sim.world
    folder.mkdir(parents=True, exist_ok=True)
    hist = np.flatnonzero(sim.history)
    labeled = hist[sim.claims.adjudication[hist] <= w.end]
    checks = sim.reg.checks
    chk = np.flatnonzero(checks.day <= w.end)
    chk = chk[np.lexsort((chk, checks.day[chk]))]
    auths = sim.auths
    arows = np.flatnonzero(np.minimum(auths.start, auths.end) <= w.end)  # keyed by then
    arows = arows[np.lexsort((arows, auths.start[arows]))]
    tables = {
        "claims": builder.claims(hist),
        "claim_lines": builder.claim_lines(hist),
        "outcomes": builder.outcomes(labeled),
        "eligibility_checks": builder.eligibility_checks(checks, chk),
        "authorizations": builder.authorizations(auths, arows),
        "provider_enrollments": builder.provider_enrollments(),
    }
    for name, table in tables.items():
        write_table(table, folder / name, fmt, block)
    return {name: t.num_rows for name, t in tables.items()}


def write_requests(builder: Builder, out: BinaryIO, rng: np.random.Generator) -> int:
    """The requests as JSON lines into ``out``; returns how many."""
    lines = request_lines(builder, rng)
    out.write(b"".join(line + b"\n" for line in lines))
    return len(lines)


class GroundTruthWriter:
    """ground_truth.parquet, written a block of claims at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.writer: pq.ParquetWriter | None = None

    def write(self, builder: Builder) -> None:
        table = builder.ground_truth()
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema, compression="zstd")
        self.writer.write_table(table.cast(self.writer.schema))

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def practice_documents(world: World, share: float, first: int = 0) -> list[dict[str, Any]]:
    """The world's practices for world.json, numbered from ``first`` + 1; ``share``: the
    world's share of all encounters (a block's, in a world simulated in blocks)."""
    pr, prov = world.practices, world.providers
    practices = []
    for i in range(len(pr)):
        mine = np.flatnonzero(prov.practice == i)
        practices.append(
            {
                "name": f"Practice {first + i + 1} ({C.SPECIALTIES[pr.specialty[i]]})",
                "specialty": C.SPECIALTIES[pr.specialty[i]],
                "billing_npi": str(pr.billing_npi[i]),
                "solo": bool(pr.solo[i]),
                "share_of_encounters": round(float(pr.volume[i] * share), 4),
                "providers": [
                    {
                        "npi": str(prov.npi[j]),
                        "joined": to_date(prov.join[j]).isoformat()
                        if prov.join[j] > world.start
                        else None,
                    }
                    for j in mine
                ],
                "habits": {k: round(float(v[i]), 4) for k, v in pr.habits.items()},
            }
        )
    return practices


def world_document(world: World, summary: dict[str, Any],
                   practices: list[dict[str, Any]] | None = None) -> dict[str, Any]:  # fmt: skip
    """world.json: ``world``'s dates, payers and policy changes, and ``practices`` (default:
    the world's own)."""
    if practices is None:
        practices = practice_documents(world, 1.0)
    document: dict[str, Any] = {
        "seed": world.seed,
        "history": {"start": to_date(world.start), "end": to_date(world.end)},
        "requests_window": {"start": to_date(world.end + 1), "end": to_date(world.request_end)},
        "billing_company": BILLING_COMPANY,
        "practices": practices,
        "payers": [payer_rules(p) for p in PAYERS],
        "policy_changes": [
            {
                "payer_id": p.payer_id,
                "procedure_code": p.procedure_code,
                "effective": p.effective,
                "kind": p.kind,
                "description": p.description,
            }
            for p in world.policy
        ],
        "targets": {"index_groups": INDEX_TARGETS, "categories": CATEGORY_TARGETS},
        "summary": summary,
    }
    if not world.dialect.is_default:
        document["dialect"] = world.dialect.document(world.start, world.end)
    return document


def write_world(world: World, path: Path, summary: dict[str, Any],
                practices: list[dict[str, Any]] | None = None) -> None:  # fmt: skip
    def default(obj: object) -> object:
        if isinstance(obj, dt.date):
            return obj.isoformat()
        raise TypeError(type(obj))

    path.write_bytes(
        orjson.dumps(
            world_document(world, summary, practices), default=default, option=orjson.OPT_INDENT_2
        )
    )
