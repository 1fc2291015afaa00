"""One audit line per scoring call: who, when, which claims, which model, which bands.

Claim ids, counts and bands only: never member ids, names, birth dates or diagnoses. The
line goes to the ``claimrisk.audit`` logger and, when set, to a file; a file that cannot be
written (disk full, read-only) never fails the scoring call: ``record`` says so instead.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

audit_log = logging.getLogger("claimrisk.audit")
log = logging.getLogger("claimrisk.serving")


class Auditor:
    def __init__(self, path: Path | None) -> None:
        self.path = path

    def record(
        self, who: str, route: str, claim_ids: list[str], version: str, bands: Sequence[str]
    ) -> bool:
        """Log the line and append it to the file; False when the file could not take it."""
        entry = {
            "at": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            "who": who,
            "route": route,
            "model_version": version,
            "claims": len(claim_ids),
            "claim_ids": claim_ids,
            "bands": dict(Counter(bands)),
        }
        line = json.dumps(entry)
        audit_log.info("scored %d claim(s)", len(claim_ids), extra={"audit": entry})
        if self.path is None:
            return True
        try:
            with self.path.open("a") as out:
                out.write(line + "\n")
        except OSError as error:
            log.error("audit file not written: %s (errno %s)", type(error).__name__, error.errno)
            return False
        return True
