"""State every worker of one server shares: each key's last batch and the reload generation.

One SQLite file (WAL, busy timeout), so ``--workers 2`` gives one truth: a batch scored by
one worker is the last batch the other answers with, it survives a restart, and an admin
reload on one worker bumps the generation the others poll and follow. A last batch is kept
as its zlib-compressed JSON answer (a 10,000-claim batch is a few MB), written once and sent
back as it was. The file holds claim ids, scores and reasons as the API returned them; it is
opened lazily, so a server whose state file cannot be opened still starts and scores.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import zlib
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS last_batch (
    key_id TEXT PRIMARY KEY, scored_at TEXT NOT NULL, body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS generation (
    id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL
);
INSERT OR IGNORE INTO generation (id, value) VALUES (1, 0);
"""


class StateUnavailable(RuntimeError):
    """The shared state file cannot be used; the message says which file and why."""


class SharedState:
    def __init__(self, path: Path, timeout_seconds: float = 5.0) -> None:
        self.path, self.timeout = Path(path), timeout_seconds
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(
                    self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
                )
                db.execute("PRAGMA journal_mode=WAL")
                db.executescript(SCHEMA)
            except (OSError, sqlite3.Error) as error:
                raise StateUnavailable(f"{self.path}: {type(error).__name__}: {error}") from error
            self._db = db
        return self._db

    def _run(self, sql: str, args: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        with self._lock:
            try:
                return self._connection().execute(sql, args).fetchall()
            except sqlite3.Error as error:
                raise StateUnavailable(f"{self.path}: {type(error).__name__}: {error}") from error

    def put_last_batch(self, key_id: str, body: bytes) -> None:
        """Keep ``body`` (the JSON answer) as the last batch of ``key_id``."""
        stamp = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
        self._run(
            "INSERT OR REPLACE INTO last_batch (key_id, scored_at, body) VALUES (?, ?, ?)",
            (key_id, stamp, zlib.compress(body, 1)),
        )

    def last_batch(self, key_id: str) -> bytes | None:
        rows = self._run("SELECT body FROM last_batch WHERE key_id = ?", (key_id,))
        return zlib.decompress(rows[0][0]) if rows else None  # type: ignore[arg-type]

    def generation(self) -> int:
        return int(self._run("SELECT value FROM generation WHERE id = 1")[0][0])  # type: ignore[call-overload]

    def bump_generation(self) -> int:
        """A model was reloaded: every worker should reload; the new generation."""
        rows = self._run("UPDATE generation SET value = value + 1 WHERE id = 1 RETURNING value")
        return int(rows[0][0])  # type: ignore[call-overload]

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
