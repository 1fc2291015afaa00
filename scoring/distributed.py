"""Batch scoring on a Dask cluster: a Parquet file or dataset of claim requests (contract
section 2, one row per claim, lines and context as nested columns), scored file by file on
the workers with the API's own ``Scorer`` (reasons, evidence, what-if), written as one
Parquet file of scores per input file. A request that does not meet the contract gets its
problems (as ``claimrisk score`` answers them) instead of a score; nothing else in its file
is lost.
"""

from __future__ import annotations

from dataclasses import dataclass

import fsspec
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from distributed import Client

from features.contract import ClaimProblem
from features.partitioned import parquet_files
from features.reading import read_value
from scoring.schemas import ScoreOut
from scoring.scorer import Scorer, score_in_place

CHUNK = 5000  # claims scored per call (the API's batch size)
SCHEMA = pa.schema(
    [
        ("file", pa.string()),
        ("row", pa.int64()),
        ("claim_id", pa.string()),
        ("score", pa.string()),  # the ScoreOut JSON, as the API and `claimrisk score` answer
        ("problem", pa.string()),  # the ClaimProblem JSON of a claim that cannot be read
    ]
)


@dataclass(frozen=True)
class FileScores:
    file: str
    scored: int
    problems: int


def score_file(scorer: Scorer, url: str, name: str, out: str, reasons: str) -> FileScores:
    """Score one file of requests as ``claimrisk score`` scores JSON lines (each claim in its
    place: its score, or the problems of a claim that cannot be read; ``row`` is 1-based) and
    write the answers to ``out``."""
    with fsspec.open(url, "rb") as handle:
        rows = pq.read_table(handle).to_pylist()
    items = [read_value(values, line=row) for row, values in enumerate(rows, start=1)]
    answers: list[ScoreOut | ClaimProblem] = []
    for start in range(0, len(items), CHUNK):
        answers += score_in_place(scorer, items[start : start + CHUNK], reasons)[0]
    frame = pd.DataFrame(
        {
            "file": name,
            "row": range(1, len(rows) + 1),
            "claim_id": [values.get("claim_id") for values in rows],
            "score": [a.model_dump_json() if isinstance(a, ScoreOut) else None for a in answers],
            "problem": [
                a.model_dump_json() if isinstance(a, ClaimProblem) else None for a in answers
            ],
        }
    )
    with fsspec.open(out, "wb") as handle:
        pq.write_table(pa.Table.from_pandas(frame, schema=SCHEMA, preserve_index=False), handle)
    problems = int(frame["problem"].notna().sum())
    return FileScores(name, len(rows) - problems, problems)


def score_on_cluster(
    client: Client, scorer: Scorer, input: str, output: str, reasons: str
) -> list[FileScores]:
    """Score every Parquet file at ``input``; ``output`` gets ``part-NNNNN.parquet`` per file."""
    files = parquet_files(input)
    if not files:
        raise FileNotFoundError(f"{input}: no Parquet file of claim requests")
    fs, root = fsspec.core.url_to_fs(output)
    fs.makedirs(root, exist_ok=True)
    shared = client.scatter(scorer, broadcast=True)
    futures = [
        client.submit(
            score_file, shared, url, name, f"{output.rstrip('/')}/part-{i:05d}.parquet", reasons
        )
        for i, (url, name) in enumerate(files)
    ]
    results: list[FileScores] = client.gather(futures)
    return results
