"""Where each claim of the work queue stands: open, fixed, or sent as is, with who and when.

One SQLite file per service (a practice's deployment), shared by every API key and every
uvicorn worker: WAL, a busy timeout, one short transaction per change, one connection per
process behind a lock. A claim nobody has marked is ``open``. What is kept: the claim id the
practice already uses as its key, the status, the API key's name, the time and an optional
note the biller types (the page asks for no patient details). Every change is also appended
to ``status_changes``, so an earlier mark is never lost.

Schema (version 1): ``meta(key, value)``; ``claim_status(claim_id PRIMARY KEY, status, who,
at, note)``; ``status_changes(id, claim_id, status, who, at, note)``; ``at`` ISO-8601 UTC.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, Field

ClaimState = Literal["open", "fixed", "sent_as_is"]
STATES: tuple[str, ...] = get_args(ClaimState)
SCHEMA_VERSION = "1"
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS claim_status (
    claim_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    who TEXT NOT NULL,
    at TEXT NOT NULL,
    note TEXT
);
CREATE TABLE IF NOT EXISTS status_changes (
    id INTEGER PRIMARY KEY,
    claim_id TEXT NOT NULL,
    status TEXT NOT NULL,
    who TEXT NOT NULL,
    at TEXT NOT NULL,
    note TEXT
);
CREATE INDEX IF NOT EXISTS status_changes_claim ON status_changes (claim_id);
"""
LOOKUP_CHUNK = 500  # claim ids per SELECT (SQLite limits bound parameters)


class ClaimStatus(BaseModel):
    claim_id: str
    status: ClaimState = Field(description="open (not yet worked), fixed, or sent_as_is")
    who: str | None = Field(None, description="Name of the API key that set it; null if open")
    at: str | None = Field(None, description="When it was set, ISO-8601 UTC; null if open")
    note: str | None = None


class QueueStoreError(RuntimeError):
    """The store cannot be used; the message says which file and why."""


class QueueStatusStore:
    def __init__(self, path: Path | str, *, timeout_seconds: float = 5.0) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                self.path, timeout=timeout_seconds, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(SCHEMA)
            self._db.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
                (SCHEMA_VERSION,),
            )
            found = self._db.execute(
                "SELECT value FROM meta WHERE key = 'schema_version'"
            ).fetchone()[0]
        except sqlite3.Error as error:
            raise QueueStoreError(f"{self.path}: cannot open the queue store: {error}") from error
        if found != SCHEMA_VERSION:
            raise QueueStoreError(
                f"{self.path}: queue store schema {found}, this code reads {SCHEMA_VERSION}"
            )

    def set(
        self,
        claim_id: str,
        status: ClaimState,
        who: str,
        note: str | None = None,
        at: dt.datetime | None = None,
    ) -> ClaimStatus:
        stamp = (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).isoformat(timespec="seconds")
        row = (claim_id, status, who, stamp, note)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "INSERT INTO claim_status (claim_id, status, who, at, note) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (claim_id) DO UPDATE SET "
                    "status = excluded.status, who = excluded.who, at = excluded.at, "
                    "note = excluded.note",
                    row,
                )
                self._db.execute(
                    "INSERT INTO status_changes (claim_id, status, who, at, note) "
                    "VALUES (?, ?, ?, ?, ?)",
                    row,
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return ClaimStatus(claim_id=claim_id, status=status, who=who, at=stamp, note=note)

    def get(self, claim_id: str) -> ClaimStatus:
        return self.many([claim_id])[0]

    def many(self, claim_ids: Iterable[str]) -> list[ClaimStatus]:
        """The status of each claim, in the order asked; ``open`` for a claim never marked."""
        wanted = list(dict.fromkeys(claim_ids))
        found: dict[str, ClaimStatus] = {}
        with self._lock:
            for start in range(0, len(wanted), LOOKUP_CHUNK):
                chunk = wanted[start : start + LOOKUP_CHUNK]
                marks = ",".join("?" * len(chunk))
                for claim_id, state, who, at, note in self._db.execute(
                    f"SELECT claim_id, status, who, at, note FROM claim_status "
                    f"WHERE claim_id IN ({marks})",
                    chunk,
                ):
                    found[claim_id] = ClaimStatus(
                        claim_id=claim_id, status=state, who=who, at=at, note=note
                    )
        return [
            found.get(c) or ClaimStatus(claim_id=c, status="open", who=None, at=None)
            for c in wanted
        ]

    def changes(self, claim_id: str) -> list[ClaimStatus]:
        """Every mark the claim was given, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT claim_id, status, who, at, note FROM status_changes "
                "WHERE claim_id = ? ORDER BY id",
                (claim_id,),
            ).fetchall()
        return [ClaimStatus(claim_id=c, status=s, who=w, at=a, note=n) for c, s, w, a, n in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
