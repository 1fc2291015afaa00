"""API keys: only their SHA-256 hashes are stored; a presented key is checked in constant time.

Keys live in a JSON file managed by ``claimrisk keys``: create prints the key once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

Role = Literal["client", "admin"]
PREFIX = "crk_"


@dataclass(frozen=True)
class StoredKey:
    key_id: str
    name: str
    role: Role
    sha256: str
    created: str


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class KeyStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._cache: tuple[float, list[StoredKey]] = (-1.0, [])

    def stored(self) -> list[StoredKey]:
        """The stored keys, re-read only when the file changed."""
        if not self.path.exists():
            return []
        mtime = self.path.stat().st_mtime
        if mtime != self._cache[0]:
            rows = json.loads(self.path.read_text())
            self._cache = (mtime, [StoredKey(**row) for row in rows])
        return self._cache[1]

    def _write(self, keys: list[StoredKey]) -> None:
        """Atomically: a reader sees the old file or the new one, never a half-written one."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(json.dumps([asdict(k) for k in keys], indent=2))
        os.replace(temporary, self.path)

    def create(self, name: str, role: Role = "client") -> tuple[StoredKey, str]:
        """A new key: (what is stored, the key itself, shown once)."""
        key = PREFIX + secrets.token_urlsafe(32)
        stored = StoredKey(
            key_id=secrets.token_hex(4),
            name=name,
            role=role,
            sha256=_digest(key),
            created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        )
        self._write([*self.stored(), stored])
        return stored, key

    def revoke(self, key_id: str) -> bool:
        keys = self.stored()
        kept = [k for k in keys if k.key_id != key_id]
        self._write(kept)
        return len(kept) < len(keys)

    def verify(self, presented: str) -> StoredKey | None:
        """The stored key matching ``presented``; every stored hash is compared."""
        digest = _digest(presented)
        match = None
        for stored in self.stored():
            if hmac.compare_digest(stored.sha256, digest):
                match = stored
        return match
