"""Claims the service scored before, counted as earlier submissions (the duplicate check
across calls).

A practice-management system that checks each claim with a call of its own, then sends a quick
resubmission of one minutes later, should see the second flagged as the duplicate it is. The
history does not hold the first copy yet and a one-claim call holds nothing else, so the
service keeps, in its prediction store, per line of every claim it scores, a keyed digest of
the line's duplicate key (``features.rules.duplicate.duplicate_keys``: patient, service date,
procedure code) and the claim's submission date. Each scoring pass digests its lines, finds
the earlier claims with the same digests, and hands their keys and dates to the scorer, which
counts them in the same submission log as the history's and the file's own claims: the
duplicate features, their evidence and the what-if are the ones a history duplicate gets.

A claim's own earlier scores do not count: the data contract makes the claim id (CLM01) the
claim's identity, so the same claim id scored again (a retried request, a re-check after a
fix) is that claim checked again, and its latest score replaces its recorded lines. One
approximation: claims scored in one pass share one state, so when a claim and another claim
with the same key are in the same pass, a stored score of the first does not count for the
second either.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from features.facts import Facts
from features.rules.duplicate import duplicate_keys
from serving.digest_key import DigestKeyError, digest, key_file, load_key
from serving.predictions import Submission, SubmissionReader
from serving.settings import ServeSettings

log = logging.getLogger("claimrisk.serving")
_EPOCH = dt.date(1970, 1, 1)


@dataclass
class EarlierClaims:
    """What one process needs to find claims scored before: the digest key and a reader."""

    key: bytes
    reader: SubmissionReader
    on_failure: Callable[[], None] = field(default=lambda: None)

    def check(self) -> EarlierCheck:
        """The lookup of one scoring pass (the scorer's ``earlier``)."""
        return EarlierCheck(self)

    def close(self) -> None:
        self.reader.close()


def key_path(settings: ServeSettings) -> Path | None:
    """The digest key file, or None when claims scored before are not looked up."""
    if not settings.remember_scored or settings.prediction_store is None:
        return None
    return key_file(settings.digest_key_file, settings.prediction_store)


def open_earlier(
    settings: ServeSettings, on_failure: Callable[[], None] = lambda: None
) -> EarlierClaims | None:
    """The lookup the settings ask for; None (and the log says why) when off or when the key
    cannot be had: the service then scores as before, against the history only."""
    path = key_path(settings)
    if path is None or settings.prediction_store is None:
        return None
    try:
        key = load_key(path, create=settings.digest_key_file is None)
    except DigestKeyError as error:
        log.error("%s: claims scored before are not checked as duplicates", error)
        return None
    log.info("claims scored before are checked as duplicates (digest key %s)", path)
    return EarlierClaims(key, SubmissionReader(settings.prediction_store), on_failure)


class EarlierCheck:
    """Called by the scorer with the facts of its pass: the earlier submissions it finds.
    Afterwards, ``submissions`` are the pass's lines to record."""

    def __init__(self, claims: EarlierClaims) -> None:
        self.claims = claims
        self._lines: list[list[Submission]] = []

    def __call__(self, facts: Facts) -> tuple[np.ndarray, np.ndarray]:
        keys, days = duplicate_keys(facts)
        key = self.claims.key
        digests = [digest(key, k) for k in keys.tolist()]
        position = facts.lines["claim_pos"].tolist()
        claim_ids = facts.claims["claim_id"]
        self._lines = [[] for _ in range(facts.n_claims)]
        for row, line_digest, day in zip(position, digests, days.tolist(), strict=True):
            on = (_EPOCH + dt.timedelta(days=int(day))).isoformat()
            self._lines[row].append((claim_ids[row], line_digest, on))
        try:
            found = self.claims.reader.find(digests)
        except sqlite3.Error as error:  # scored against the history alone, as before
            log.error("claims scored before not checked: %s", type(error).__name__)
            self.claims.on_failure()
            return np.empty(0, np.uint64), np.empty(0)
        own = {
            (claim_ids[row], line_digest)
            for row, line_digest in zip(position, digests, strict=True)
        }
        key_of = dict(zip(digests, keys.tolist(), strict=True))
        earlier = [
            (key_of[line_digest], (dt.date.fromisoformat(on) - _EPOCH).days)
            for claim_id, line_digest, on in found
            if (claim_id, line_digest) not in own
        ]
        return (
            np.array([k for k, _ in earlier], dtype=np.uint64),
            np.array([d for _, d in earlier], dtype=float),
        )

    def submissions(self, row: int | None = None) -> list[Submission]:
        """The lines of the pass's claim ``row`` (of every claim: None) to record."""
        if row is not None:
            return self._lines[row] if row < len(self._lines) else []
        return [line for lines in self._lines for line in lines]
