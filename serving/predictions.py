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
- ``submissions(claim_id, digest, submitted_on)``: per service line of the latest score of
  each claim id, the keyed digest (HMAC-SHA256, ``serving.digest_key``) of its duplicate key
  and the claim's submission date, so a later claim for the same patient, service date and
  code counts it as an earlier submission. Without the key, which is kept elsewhere, a digest
  tells nothing about the patient. Rows older than the retention are pruned. Added to
  version 1 files when they are opened.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import logging
import math
import queue
import sqlite3
import threading
import time
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
CREATE TABLE IF NOT EXISTS submissions (
    claim_id TEXT NOT NULL,
    digest BLOB NOT NULL,
    submitted_on TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS submissions_digest ON submissions (digest);
CREATE INDEX IF NOT EXISTS submissions_claim ON submissions (claim_id);
CREATE INDEX IF NOT EXISTS submissions_submitted_on ON submissions (submitted_on);
"""
INSERT = (
    "INSERT INTO predictions (claim_id, scored_at, model_name, model_version, probability, "
    "band, reasons, feature_set, features) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
FEATURE_DTYPE = np.dtype("<f4")
DIGESTS_PER_QUERY = 500  # well under SQLite's limit of bound parameters
PRUNE_EVERY_SECONDS = 3600.0
Row = tuple[object, ...]
# One line of a scored claim: its claim id, the digest of its duplicate key, the claim's
# submission date (ISO).
Submission = tuple[str, bytes, str]
# One scoring call waiting to be recorded: results, feature rows and names, when scored, and
# the submissions of its claims.
Scores = tuple[
    Sequence[ScoreOut],
    np.ndarray | None,
    Sequence[str] | None,
    dt.datetime,
    Sequence[Submission],
]


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
        submissions: Sequence[Submission] = (),
    ) -> int:
        """Store one row per result, in one transaction; returns the rows written.

        ``feature_rows`` (results x features, the matrix the model scored, row i for result i)
        and ``feature_names`` are optional; without them drift cannot be checked for these
        rows. ``scored_at`` defaults to now (UTC). ``submissions``: the lines of the scored
        claims (see ``write``)."""
        rows = self.rows(results, feature_rows, feature_names, scored_at)
        return self.write(rows, submissions)

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

    def write(self, rows: Sequence[Row], submissions: Sequence[Submission] = ()) -> int:
        """Insert ``rows`` in one transaction, with ``submissions``: each claim id's lines
        replace those an earlier score of that claim id left (its latest score is what it is:
        a claim checked again, after a fix or as a retry, is not a second submission)."""
        if not rows and not submissions:
            return 0
        latest: dict[str, list[Submission]] = {}
        for claim_id, group in itertools.groupby(submissions, key=lambda line: line[0]):
            latest[claim_id] = list(group)  # of a claim id scored twice here, the later
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(INSERT, rows)
                self._db.executemany(
                    "DELETE FROM submissions WHERE claim_id = ?", [(c,) for c in latest]
                )
                self._db.executemany(
                    "INSERT INTO submissions (claim_id, digest, submitted_on) VALUES (?, ?, ?)",
                    [line for lines in latest.values() for line in lines],
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return len(rows)

    def prune_submissions(self, keep_days: int, today: dt.date | None = None) -> int:
        """Remove the submissions dated ``keep_days`` or more before the latest one recorded
        (or ``today``, when that is earlier: a mistyped future date prunes nothing); how
        many were removed. A claim sent that much later is past the payers' filing limits."""
        today = today or dt.datetime.now(dt.UTC).date()
        with self._lock:
            found = self._db.execute("SELECT MAX(submitted_on) FROM submissions").fetchone()[0]
            if found is None:
                return 0
            newest = min(dt.date.fromisoformat(found), today)
            cut = (newest - dt.timedelta(days=keep_days)).isoformat()
            cursor = self._db.execute("DELETE FROM submissions WHERE submitted_on <= ?", (cut,))
        return int(cursor.rowcount)

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


class SubmissionReader:
    """Finds recorded submissions by digest, on a connection of its own that only reads (a
    read never waits for the writer's transactions: WAL). Opened at the first lookup; a
    store not created yet has nothing to find."""

    def __init__(self, path: Path, timeout_seconds: float = 1.0) -> None:
        self.path, self.timeout = path, timeout_seconds
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def find(self, digests: Sequence[bytes]) -> list[Submission]:
        """The recorded lines with these digests. Raises ``sqlite3.Error`` when the store
        exists but cannot be read."""
        wanted = list(dict.fromkeys(digests))
        found: list[Submission] = []
        with self._lock:
            db = self._connection()
            if db is None:
                return []
            for start in range(0, len(wanted), DIGESTS_PER_QUERY):
                chunk = wanted[start : start + DIGESTS_PER_QUERY]
                found += db.execute(
                    "SELECT claim_id, digest, submitted_on FROM submissions "
                    f"WHERE digest IN ({', '.join('?' * len(chunk))})",
                    chunk,
                ).fetchall()
        return found

    def _connection(self) -> sqlite3.Connection | None:
        if self._db is None:
            try:  # mode=rw: never creates the file (the writer does, with its schema)
                db = sqlite3.connect(
                    f"{self.path.absolute().as_uri()}?mode=rw",
                    uri=True,
                    timeout=self.timeout,
                    check_same_thread=False,
                )
            except sqlite3.OperationalError:
                if self.path.exists():
                    raise
                return None
            if not db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'submissions'"
            ).fetchone():
                db.close()
                return None
            self._db = db
        return self._db

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


class PredictionWriter:
    """Records scores from a background thread: the request path only enqueues, and whatever
    waits is written in one transaction. A request never waits on SQLite (whose write lock
    the workers share), and under load many calls share a commit. ``close`` writes the rest.

    The store is opened by the thread: a store that cannot be opened or written (read-only
    folder, full disk) never stops the server or fails a call; each call not recorded is
    logged and passed to ``on_failure``, and the next calls try again. With ``keep_days``,
    submissions older than that are pruned after the first write and then hourly."""

    def __init__(
        self,
        path: Path,
        on_failure: Callable[[int], None] = lambda calls: None,
        keep_days: int | None = None,
    ) -> None:
        self.path, self.on_failure, self.keep_days = path, on_failure, keep_days
        self.store: PredictionStore | None = None
        self._pruned_at = -math.inf
        self._queue: queue.SimpleQueue[Scores | threading.Event | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._drain, name="prediction-writer", daemon=True)
        self._thread.start()

    def record(
        self,
        results: Sequence[ScoreOut],
        feature_rows: np.ndarray | None = None,
        feature_names: Sequence[str] | None = None,
        submissions: Sequence[Submission] = (),
    ) -> None:
        """Enqueue only: the rows are built in the writer thread (building them takes the
        store's lock, which a write in progress holds)."""
        now = dt.datetime.now(dt.UTC)
        self._queue.put((results, feature_rows, feature_names, now, submissions))

    def _write(self, scores: list[Scores]) -> None:
        try:
            if self.store is None:
                self.store = PredictionStore(self.path)
            store = self.store
            store.write(
                [row for item in scores for row in store.rows(*item[:4])],
                [line for item in scores for line in item[4]],
            )
            if self.keep_days and time.monotonic() - self._pruned_at > PRUNE_EVERY_SECONDS:
                self._pruned_at = time.monotonic()
                store.prune_submissions(self.keep_days)
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
