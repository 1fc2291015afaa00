"""One audit line per scoring call: who, when, which claims, which model, which bands.

Claim ids, counts and bands only: never member ids, names, birth dates or diagnoses.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import Counter
from pathlib import Path

audit_log = logging.getLogger("claimrisk.audit")


class Auditor:
    def __init__(self, path: Path | None) -> None:
        self.path = path

    def record(
        self, who: str, route: str, claim_ids: list[str], version: str, bands: list[str]
    ) -> None:
        line = json.dumps(
            {
                "at": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
                "who": who,
                "route": route,
                "model_version": version,
                "claims": len(claim_ids),
                "claim_ids": claim_ids,
                "bands": dict(Counter(bands)),
            }
        )
        audit_log.info(line)
        if self.path is not None:
            with self.path.open("a") as out:
                out.write(line + "\n")
