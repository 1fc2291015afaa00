"""The local prediction store: every score the service gave, kept for live-accuracy monitoring.

One SQLite file (WAL, one transaction per batch), written from the scoring routes and read by
``analytics.monitor`` once the outcomes of the scored claims reach the history. A row
holds the claim id, when and by which model version it was scored, the probability, band and
reason categories, and the model's feature vector (float32) for input-drift checks. Nothing
that identifies a patient is stored: no member id, name, birth date or diagnosis, only the
claim id the practice already uses as its key and the model's numeric features.

Schema (version 1), the contract with the reader:

- ``meta(key, value)``: ``schema_version``;
- ``feature_sets(id, names)``: ``names`` is the JSON list of feature names of a vector layout;
- ``predictions(id, claim_id, scored_at, model_name, model_version, probability, band,
  reasons, feature_set, features)``: ``scored_at`` ISO-8601 UTC; ``reasons`` the reason
  categories strongest first joined by ``|`` (empty: none above the floor; NULL: not
  explained); ``features`` little-endian float32 in ``feature_sets.names`` order, or NULL;
- ``overrides(id, prediction_id, claim_id, category, note, who, recorded_at)``: a biller's
  disagreement with one reason of a recorded prediction (``prediction_id``, the claim's
  latest score when it was recorded); ``who`` the API key's name, ``note`` the biller's words
  (the page asks for no patient details). Added to version 1 files when they are opened.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from features.contract import ClaimIn
from scoring.artifact import ClaimRiskModel
from scoring.schemas import ScoreOut

log = logging.getLogger("claimrisk.serving")
SCHEMA_VERSION = "1"
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS feature_sets (id INTEGER PRIMARY KEY, names TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS predictions (
    id INTEGER PRIMARY KEY,
    claim_id TEXT NOT NULL,
    scored_at TEXT NOT NULL,
    model_name TEXT NOT NULL,
    model_version TEXT NOT NULL,
    probability REAL NOT NULL,
    band TEXT NOT NULL,
    reasons TEXT,
    feature_set INTEGER REFERENCES feature_sets(id),
    features BLOB
);
CREATE INDEX IF NOT EXISTS predictions_claim ON predictions (claim_id);
CREATE INDEX IF NOT EXISTS predictions_scored_at ON predictions (scored_at);
CREATE TABLE IF NOT EXISTS overrides (
    id INTEGER PRIMARY KEY,
    prediction_id INTEGER NOT NULL REFERENCES predictions(id),
    claim_id TEXT NOT NULL,
    category TEXT NOT NULL,
    note TEXT,
    who TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS overrides_claim ON overrides (claim_id);
"""
INSERT = (
    "INSERT INTO predictions (claim_id, scored_at, model_name, model_version, probability, "
    "band, reasons, feature_set, features) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
FEATURE_DTYPE = np.dtype("<f4")
Row = tuple[object, ...]
# One scoring call waiting to be recorded: results, feature rows and names, when scored.
Scores = tuple[Sequence[ScoreOut], np.ndarray | None, Sequence[str] | None, dt.datetime]


class PredictionStoreError(RuntimeError):
    """The store cannot be used; the message says which file and why."""


def _reasons(result: ScoreOut) -> str | None:
    if result.reasons is None:
        return None
    return "|".join(reason.category for reason in result.reasons)


class OverrideRefused(ValueError):
    """An override that cannot be stored: the claim has no recorded prediction, or the
    category was not one of its reasons. The message says which."""


@dataclass(frozen=True)
class Override:
    id: int
    prediction_id: int
    claim_id: str
    category: str
    note: str | None
    who: str
    recorded_at: str
    model_version: str


class PredictionStore:
    """Append-only store of scores. Safe to share between the threads of one process (one
    connection behind a lock) and between processes (SQLite WAL, busy timeout)."""

    def __init__(self, path: Path | str, *, timeout_seconds: float = 5.0) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._feature_sets: dict[str, int] = {}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                self.path, timeout=timeout_seconds, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
            self._db.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
                (SCHEMA_VERSION,),
            )
            found = self._db.execute(
                "SELECT value FROM meta WHERE key = 'schema_version'"
            ).fetchone()[0]
        except (OSError, sqlite3.Error) as error:
            raise PredictionStoreError(
                f"{self.path}: cannot open the prediction store: {error}"
            ) from error
        if found != SCHEMA_VERSION:
            raise PredictionStoreError(
                f"{self.path}: prediction store schema {found}, this code writes "
                f"{SCHEMA_VERSION}; use a new file"
            )

    def _feature_set(self, names: Sequence[str]) -> int:
        key = json.dumps(list(names))
        if key not in self._feature_sets:
            self._db.execute("INSERT OR IGNORE INTO feature_sets (names) VALUES (?)", (key,))
            row = self._db.execute("SELECT id FROM feature_sets WHERE names = ?", (key,))
            self._feature_sets[key] = int(row.fetchone()[0])
        return self._feature_sets[key]

    def record(
        self,
        results: Sequence[ScoreOut],
        feature_rows: np.ndarray | None = None,
        feature_names: Sequence[str] | None = None,
        scored_at: dt.datetime | None = None,
    ) -> int:
        """Store one row per result, in one transaction; returns the rows written.

        ``feature_rows`` (results x features, the matrix the model scored, row i for result i)
        and ``feature_names`` are optional; without them drift cannot be checked for these
        rows. ``scored_at`` defaults to now (UTC)."""
        return self.write(self.rows(results, feature_rows, feature_names, scored_at))

    def rows(
        self,
        results: Sequence[ScoreOut],
        feature_rows: np.ndarray | None = None,
        feature_names: Sequence[str] | None = None,
        scored_at: dt.datetime | None = None,
    ) -> list[Row]:
        """The rows ``record`` would write (for writing several calls in one transaction)."""
        when = (scored_at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
        stamp = when.isoformat(timespec="milliseconds")
        blobs: list[bytes | None] = [None] * len(results)
        feature_set = None
        if feature_rows is not None:
            matrix = np.asarray(feature_rows, dtype=FEATURE_DTYPE)
            if feature_names is None or matrix.shape != (len(results), len(feature_names)):
                raise ValueError(
                    f"feature_rows has shape {matrix.shape}; expected ({len(results)}, "
                    f"{len(feature_names or [])}) with feature_names"
                )
            blobs = [row.tobytes() for row in matrix]
            with self._lock:
                feature_set = self._feature_set(feature_names)
        return [
            (
                result.claim_id,
                stamp,
                result.model.name,
                result.model.version,
                float(result.denial_probability),
                result.risk_band,
                _reasons(result),
                feature_set,
                blob,
            )
            for result, blob in zip(results, blobs, strict=True)
        ]

    def write(self, rows: Sequence[Row]) -> int:
        """Insert ``rows`` in one transaction."""
        if not rows:
            return 0
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(INSERT, rows)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return len(rows)

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM predictions").fetchone()[0])

    def override(self, claim_id: str, category: str, who: str, note: str | None = None) -> Override:
        """Record that ``who`` disagrees with the ``category`` reason of the claim's latest
        recorded prediction; ``OverrideRefused`` if there is none or it gave no such reason."""
        stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        with self._lock:
            latest = self._db.execute(
                "SELECT id, reasons, model_version FROM predictions WHERE claim_id = ? "
                "ORDER BY scored_at DESC, id DESC LIMIT 1",
                (claim_id,),
            ).fetchone()
            if latest is None:
                raise OverrideRefused(f"claim {claim_id} has no recorded prediction")
            prediction_id, reasons, version = latest
            if category not in (reasons or "").split("|"):
                raise OverrideRefused(
                    f"{category} was not a reason of claim {claim_id}'s latest score"
                )
            cursor = self._db.execute(
                "INSERT INTO overrides (prediction_id, claim_id, category, note, who, "
                "recorded_at) VALUES (?, ?, ?, ?, ?, ?)",
                (prediction_id, claim_id, category, note, who, stamp),
            )
        return Override(
            int(cursor.lastrowid or 0), int(prediction_id), claim_id, category, note, who,
            stamp, str(version),
        )  # fmt: skip

    def overrides(self, claim_id: str) -> list[Override]:
        """The claim's overrides, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT o.id, o.prediction_id, o.claim_id, o.category, o.note, o.who, "
                "o.recorded_at, p.model_version FROM overrides o JOIN predictions p "
                "ON p.id = o.prediction_id WHERE o.claim_id = ? ORDER BY o.id",
                (claim_id,),
            ).fetchall()
        return [Override(*row) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> PredictionStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class PredictionWriter:
    """Records scores from a background thread: the request path only enqueues, and whatever
    waits is written in one transaction. A request never waits on SQLite (whose write lock
    the workers share), and under load many calls share a commit. ``close`` writes the rest.

    The store is opened by the thread: a store that cannot be opened or written (read-only
    folder, full disk) never stops the server or fails a call; each call not recorded is
    logged and passed to ``on_failure``, and the next calls try again."""

    def __init__(self, path: Path, on_failure: Callable[[int], None] = lambda calls: None) -> None:
        self.path, self.on_failure = path, on_failure
        self.store: PredictionStore | None = None
        self._queue: queue.SimpleQueue[Scores | threading.Event | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._drain, name="prediction-writer", daemon=True)
        self._thread.start()

    def record(
        self,
        results: Sequence[ScoreOut],
        feature_rows: np.ndarray | None = None,
        feature_names: Sequence[str] | None = None,
    ) -> None:
        """Enqueue only: the rows are built in the writer thread (building them takes the
        store's lock, which a write in progress holds)."""
        self._queue.put((results, feature_rows, feature_names, dt.datetime.now(dt.UTC)))

    def _write(self, scores: list[Scores]) -> None:
        try:
            if self.store is None:
                self.store = PredictionStore(self.path)
            self.store.write([row for item in scores for row in self.store.rows(*item)])
        except (sqlite3.Error, PredictionStoreError) as error:  # the service goes on
            log.error("prediction store: %s; %d calls not recorded", type(error).__name__,
                      len(scores))  # fmt: skip
            self.on_failure(len(scores))

    def _drain(self) -> None:
        closing = False
        while not closing:
            waiting = [self._queue.get()]
            while not self._queue.empty():
                waiting.append(self._queue.get())
            closing = None in waiting
            scores = [item for item in waiting if isinstance(item, tuple)]
            if scores:
                self._write(scores)
            for item in waiting:
                if isinstance(item, threading.Event):
                    item.set()

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until what this process enqueued so far is written (or ``timeout``)."""
        done = threading.Event()
        self._queue.put(done)
        done.wait(timeout)

    def close(self) -> None:
        """Write what is waiting, then close the store."""
        self._queue.put(None)
        self._thread.join(timeout=30)
        if self.store is not None:
            self.store.close()


def feature_rows(model: ClaimRiskModel, claims: Sequence[ClaimIn]) -> np.ndarray:
    """The feature matrix the model scores for ``claims`` (what ``Scorer.score`` computes
    internally), for ``PredictionStore.record``; costs one more feature pass."""
    return model.request_matrix(claims)
