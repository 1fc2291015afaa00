"""Read the service's prediction store (``serving.predictions``, schema version 1).

Training never imports serving (data flows one way), so this reader holds its own copy of the
few column names it needs and checks the schema version before trusting them.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd

SCHEMA_VERSION = "1"
COLUMNS = (
    "id",
    "claim_id",
    "scored_at",
    "model_name",
    "model_version",
    "probability",
    "band",
    "reasons",
    "feature_set",
)


class StoreError(ValueError):
    """The prediction store cannot be read; the message names the file and the problem."""


def _connect(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise StoreError(f"{path}: no prediction store (the service writes one when it scores)")
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        found = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.DatabaseError as error:
        db.close()
        raise StoreError(f"{path}: not a prediction store: {error}") from error
    if found is None or found[0] != SCHEMA_VERSION:
        db.close()
        raise StoreError(f"{path}: prediction store schema {found}, expected {SCHEMA_VERSION}")
    return db


def read_predictions(path: Path | str) -> pd.DataFrame:
    """Every recorded prediction (without feature vectors); ``scored_at`` as UTC timestamps."""
    db = _connect(Path(path))
    try:
        frame = pd.read_sql_query(f"SELECT {', '.join(COLUMNS)} FROM predictions ORDER BY id", db)
    finally:
        db.close()
    frame["scored_at"] = pd.to_datetime(frame["scored_at"], utc=True, format="ISO8601")
    frame["model_version"] = frame["model_version"].astype(str)
    return frame


def read_features(
    path: Path | str, ids: np.ndarray | None = None, since: pd.Timestamp | None = None
) -> pd.DataFrame:
    """Recorded feature vectors as a frame indexed by prediction id, of the predictions in
    ``ids`` and/or scored at or after ``since`` (rows without features are left out; columns
    are the union of the recorded layouts, NaN where a layout lacks one)."""
    db = _connect(Path(path))
    query = "SELECT id, feature_set, features FROM predictions WHERE features IS NOT NULL"
    arguments: tuple[str, ...] = ()
    if since is not None:
        # stored as ISO-8601 UTC with milliseconds, so text order is time order
        query += " AND scored_at >= ?"
        arguments = (since.tz_convert("UTC").isoformat(timespec="milliseconds"),)
    try:
        layouts = {
            int(i): json.loads(names)
            for i, names in db.execute("SELECT id, names FROM feature_sets").fetchall()
        }
        rows = db.execute(query, arguments).fetchall()
    finally:
        db.close()
    if ids is not None:
        wanted = set(np.asarray(ids).tolist())
        rows = [r for r in rows if r[0] in wanted]
    parts = []
    for layout, names in layouts.items():
        mine = [r for r in rows if r[1] == layout]
        if not mine:
            continue
        matrix = np.frombuffer(b"".join(r[2] for r in mine), dtype="<f4").reshape(-1, len(names))
        index = pd.Index([r[0] for r in mine], name="id")
        parts.append(pd.DataFrame(matrix.astype(float), columns=names, index=index))
    return pd.concat(parts).sort_index() if parts else pd.DataFrame(index=pd.Index([], name="id"))


OVERRIDE_COLUMNS = ("claim_id", "category", "model_version", "recorded_at")


def read_overrides(path: Path | str) -> pd.DataFrame:
    """Billers' overrides (a reason they disputed) with the model version of the prediction
    they are about; empty for a store written before overrides existed. Who and the note stay
    in the store: retraining needs neither."""
    db = _connect(Path(path))
    try:
        frame = pd.read_sql_query(
            "SELECT o.claim_id, o.category, p.model_version, o.recorded_at FROM overrides o "
            "JOIN predictions p ON p.id = o.prediction_id ORDER BY o.id",
            db,
        )
    except pd.errors.DatabaseError as error:
        if "no such table" not in str(error):
            raise StoreError(f"{path}: cannot read overrides: {error}") from error
        frame = pd.DataFrame(columns=list(OVERRIDE_COLUMNS))
    finally:
        db.close()
    frame["model_version"] = frame["model_version"].astype(str)
    return frame
