"""Ingest folders of 837P and 835 files into a history folder (contract section 1).

``ingest`` reads the claim files, then the remittances, and writes ``claims``,
``claim_lines`` and ``outcomes`` as Parquet in ``out`` (extending what is there with
``append=True``). It is idempotent by file content: a file whose SHA-256 is in the manifest is
counted and skipped. Claims arriving again are never merged silently:

- frequency 7 (replacement) of a claim id seen before replaces the latest version of that
  claim and its lines; an outcome it already had belonged to the replaced claim and is dropped
  (counted), so the replacement's own adjudication becomes its outcome;
- frequency 8 (void) of a claim seen before is counted and changes nothing: the claim was
  submitted and adjudicated as it was;
- frequency 1 (or any other) again is a possible duplicate submission: it is kept under the
  id ``CLM01#2`` (``#3``...), flagged in the report and the manifest.

Remittances match claims by CLP01 = CLM01 under the first-pass rules of
``features.x12.firstpass``; payments whose claim has not arrived are parked and retried on the
next ingest. A claim that cannot be read or fails the contract is skipped with its reason; the
other claims of the file are kept.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from features.tables import Issue, normalize_table
from features.x12.claims837 import (
    CLAIM_COLUMNS,
    ICD9_PROBLEM,
    LINE_COLUMNS,
    Claims837,
    parse_837p,
)
from features.x12.errors import UnsupportedTransaction, X12Error
from features.x12.firstpass import OutcomeMatcher
from features.x12.remits835 import OUTCOME_COLUMNS, OUTCOME_META, parse_835
from features.x12.report import IngestReport
from features.x12.sniff import sniff
from features.x12.store import (
    Manifest,
    csv_tables,
    has_tables,
    read_table,
    read_unmatched,
    write_table,
    write_unmatched,
)

log = logging.getLogger(__name__)


class IngestError(ValueError):
    """The output folder cannot take this ingest as it is."""


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


@dataclass
class _Batch:
    """Claims and lines accepted from the new 837 files, in file order."""

    claims: list[pd.DataFrame] = field(default_factory=list)
    lines: list[pd.DataFrame] = field(default_factory=list)


def _issue_reasons(issues: list[Issue], rows_to_owner: np.ndarray | None) -> dict[int, str]:
    reasons: dict[int, str] = {}
    for issue in issues:
        text = f"{issue.column}: {issue.problem}"
        for row in issue.rows.tolist():
            owner = int(rows_to_owner[row]) if rows_to_owner is not None else row
            reasons.setdefault(owner, f"{issue.table} {text}")
    return reasons


def _validate_claims(
    parsed: Claims837, report: IngestReport
) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """The claims of one file that meet the contract, normalised; the rest counted."""
    for skipped in parsed.skipped:
        report.skip(skipped.error.reason, skipped.error.describe(), skipped.claim_id)
    raw, raw_lines = parsed.claims, parsed.claim_lines
    if raw.empty:
        return None
    claims = normalize_table("claims", raw[CLAIM_COLUMNS])
    lines = normalize_table("claim_lines", raw_lines[LINE_COLUMNS])
    owner = raw_lines["claim_index"].to_numpy(dtype=np.int64)
    reasons = _issue_reasons(claims.issues, None)
    for row, reason in _issue_reasons(lines.issues, owner).items():
        reasons.setdefault(row, reason)
    for row in np.flatnonzero(raw["icd9"].to_numpy(dtype=bool)).tolist():
        reasons.setdefault(row, ICD9_PROBLEM)
    lineless = np.setdiff1d(np.arange(len(raw)), owner)
    for row in lineless.tolist():
        reasons.setdefault(row, "claim has no service line (SV1)")
    codes = claims.frame["diagnosis_codes"].map(len).to_numpy()
    worst = lines.frame["diagnosis_pointers"].map(lambda p: max(p, default=0)).to_numpy()
    past = int(np.count_nonzero(worst > codes[owner])) if len(owner) else 0
    if past:  # kept: the contract allows it and payers deny it, which is worth learning
        report.warnings.append(
            f"{parsed.source}: {past} line(s) with SV107 pointing past the claim's HI codes"
        )
    positions = raw["segment"].to_numpy()
    for row, reason in reasons.items():
        where = f"{parsed.source}: segment {positions[row]} (CLM)"
        report.skip(reason, f"{where}: {reason}", raw["claim_id"].iloc[row])
    keep = np.ones(len(raw), dtype=bool)
    keep[list(reasons)] = False
    frame = claims.frame[keep].copy()
    frame["_claim"] = np.flatnonzero(keep)
    line_keep = keep[owner]
    line_frame = lines.frame[line_keep].copy()
    line_frame["_claim"] = owner[line_keep]
    return frame, line_frame


class _Ingest:
    def __init__(self, out: Path, append: bool) -> None:
        self.out = out
        self.report = IngestReport(out=out)
        existing = has_tables(out)
        if csv_tables(out):
            raise IngestError(
                f"{out}: holds CSV tables ({', '.join(csv_tables(out))}); ingest writes Parquet, "
                "use an empty folder or convert them first"
            )
        if existing and not append:
            raise IngestError(
                f"{out}: already holds {', '.join(existing)}; pass append=True (--append) to "
                "extend it, or choose an empty folder"
            )
        self.manifest = Manifest.load(out) if append else Manifest()
        self.claims = read_table(out, "claims")
        self.lines = read_table(out, "claim_lines")
        self.outcomes = read_table(out, "outcomes")
        self.matcher = OutcomeMatcher(pending_reversal=set(self.manifest.pending_reversals))
        for claim_id, frequency in zip(
            self.claims["claim_id"], self.claims["frequency_code"], strict=True
        ):
            base = self.manifest.duplicates.get(claim_id, claim_id)
            self.matcher.add_claim(base, claim_id, frequency)
        self.matcher.has_outcome = set(self.outcomes["claim_id"])
        self.batch = _Batch()
        self.seen = set(self.manifest.files)

    # --- files ----------------------------------------------------------------------------

    def _new_file(self, path: Path, expected: str) -> tuple[str, str] | None:
        """(text, digest) of a file not ingested yet, or None (counted)."""
        data = Path(path).read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest in self.seen:
            self.report.files_already_ingested += 1
            return None
        text = _decode(data)
        kind = sniff(text)
        if kind == "837I":
            self.report.unsupported_837i.append(path.name)
            return None
        if kind != expected:
            self.report.files_failed[path.name] = f"expected an {expected} file, found {kind}"
            return None
        return text, digest

    def _remember(self, path: Path, digest: str, kind: str, **counts: int) -> None:
        self.seen.add(digest)
        self.report.files_read += 1
        self.manifest.files[digest] = {
            "name": path.name,
            "kind": kind,
            "ingested_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            **counts,
        }

    def read_claims(self, paths: list[Path]) -> None:
        for path in paths:
            found = self._new_file(Path(path), "837P")
            if found is None:
                continue
            text, digest = found
            try:
                parsed = parse_837p(text, Path(path).name)
            except UnsupportedTransaction as error:
                self.report.unsupported_837i.append(Path(path).name)
                log.info("%s", error.describe())
                continue
            except X12Error as error:
                self.report.files_failed[Path(path).name] = error.describe()
                continue
            self.report.warnings += parsed.warnings
            self.report.claims_read += len(parsed.claims) + len(parsed.skipped)
            accepted = _validate_claims(parsed, self.report)
            if accepted is not None:
                claims, lines = accepted
                # Number the accepted claims across the batch; lines point at their claim row.
                first = sum(len(f) for f in self.batch.claims)
                local = claims["_claim"].to_numpy()
                lines["_row"] = np.searchsorted(local, lines["_claim"].to_numpy()) + first
                self.batch.claims.append(claims)
                self.batch.lines.append(lines)
            self._remember(Path(path), digest, "837P", claims=len(parsed.claims))

    def read_remits(self, paths: list[Path]) -> pd.DataFrame:
        frames = [read_unmatched(self.out)] if self.manifest.files else []
        self.report.parked_before = len(frames[0]) if frames else 0
        for path in paths:
            found = self._new_file(Path(path), "835")
            if found is None:
                continue
            text, digest = found
            try:
                remits = parse_835(text, Path(path).name)
            except X12Error as error:
                self.report.files_failed[Path(path).name] = error.describe()
                continue
            self.report.warnings += remits.warnings
            self.report.remits_read += len(remits.claims) + len(remits.skipped)
            for skipped in remits.skipped:
                self.report.skip(skipped.error.reason, skipped.error.describe(), skipped.claim_id)
            frames.append(remits.outcome_rows())
            self._remember(Path(path), digest, "835", remits=len(remits.claims))
        frames = [f for f in frames if not f.empty]
        if not frames:
            return pd.DataFrame(columns=OUTCOME_COLUMNS + OUTCOME_META)
        return pd.concat(frames, ignore_index=True)

    # --- claims: replacements and duplicates ------------------------------------------

    def merge_claims(self) -> None:
        if not self.batch.claims:
            return
        claims = pd.concat(self.batch.claims, ignore_index=True)
        lines = pd.concat(self.batch.lines, ignore_index=True)
        ids = claims["claim_id"].tolist()
        frequencies = claims["frequency_code"].tolist()
        final: list[str | None] = [None] * len(ids)
        row_of_id: dict[str, int] = {}  # batch rows holding an id, for in-batch replacements
        replaced_existing: set[str] = set()
        known = set(self.claims["claim_id"])
        report, matcher = self.report, self.matcher
        for row, (base, frequency) in enumerate(zip(ids, frequencies, strict=True)):
            versions = matcher.versions.get(base)
            if not versions:
                final[row] = base
                matcher.add_claim(base, base, frequency)
                if frequency in ("7", "8"):
                    report.corrections_without_original += 1
            elif frequency == "7":
                target = versions[-1]
                if target in row_of_id:
                    final[row_of_id[target]] = None
                else:
                    replaced_existing.add(target)
                final[row] = target
                matcher.frequency[target] = "7"
                if target in matcher.has_outcome:
                    matcher.has_outcome.discard(target)
                    report.outcomes_dropped_with_replacement += 1
                report.claims_replaced += 1
            elif frequency == "8":
                report.voids += 1
                continue
            else:
                number = len(versions) + 1
                while f"{base}#{number}" in known or f"{base}#{number}" in row_of_id:
                    number += 1
                final[row] = f"{base}#{number}"
                matcher.add_claim(base, f"{base}#{number}", frequency)
                self.manifest.duplicates[f"{base}#{number}"] = base
                report.possible_duplicates[f"{base}#{number}"] = base
            claim_id = final[row]
            assert claim_id is not None
            row_of_id[claim_id] = row
        keep = np.array([f is not None for f in final], dtype=bool)
        claims["claim_id"] = pd.array(final, dtype="string")
        lines["claim_id"] = pd.array([final[r] for r in lines["_row"].tolist()], dtype="string")
        new_claims = claims[keep].drop(columns="_claim")
        new_lines = lines[keep[lines["_row"].to_numpy()]].drop(columns=["_claim", "_row"])
        old_claims = self.claims[~self.claims["claim_id"].isin(replaced_existing)]
        old_lines = self.lines[~self.lines["claim_id"].isin(replaced_existing)]
        self.outcomes = self.outcomes[~self.outcomes["claim_id"].isin(replaced_existing)]
        report.claims_added = int(keep.sum()) - len(replaced_existing)
        report.lines_added = len(new_lines) - (len(self.lines) - len(old_lines))
        self.claims = pd.concat([old_claims, new_claims], ignore_index=True)
        self.lines = pd.concat([old_lines, new_lines], ignore_index=True)

    # --- remittances ----------------------------------------------------------------------

    def match_remits(self, rows: pd.DataFrame) -> None:
        report = self.report
        if rows.empty:
            write_unmatched(self.out, rows)
            return
        checked = normalize_table("outcomes", rows[OUTCOME_COLUMNS])
        bad = _issue_reasons(checked.issues, None)
        for row, reason in bad.items():
            where = f"{rows['source'].iloc[row]}: segment {rows['segment'].iloc[row]} (CLP)"
            report.skip(reason, f"{where}: {reason}", rows["claim_id"].iloc[row])
        assigned: list[int] = []
        targets: list[str] = []
        parked: list[int] = []
        parked_before = report.parked_before
        for row, (claim_id, status, frequency) in enumerate(
            zip(
                rows["claim_id"],
                rows["claim_status_code"],
                rows["claim_frequency_code"],
                strict=True,
            )
        ):
            if row in bad:
                continue
            decision, target = self.matcher.offer(
                claim_id, status, frequency if isinstance(frequency, str) else None
            )
            if decision == "assigned":
                assert target is not None
                assigned.append(row)
                targets.append(target)
                if row < parked_before:
                    report.parked_matched += 1
            elif decision == "unmatched":
                parked.append(row)
        chosen = checked.frame.iloc[assigned].copy()
        chosen["claim_id"] = pd.array(targets, dtype="string")
        self.outcomes = pd.concat([self.outcomes, chosen], ignore_index=True)
        counts = self.matcher.counts
        report.outcomes_added = len(chosen)
        report.reversals = counts["reversal"]
        report.readjudications_ignored = counts["readjudication"]
        report.later_adjudications_ignored = counts["later"]
        report.replaced_original_adjudications = counts["replaced_original"]
        report.unmatched_remits = len(parked)
        write_unmatched(self.out, rows.iloc[parked])

    def finish(self) -> IngestReport:
        self.manifest.pending_reversals = sorted(self.matcher.pending_reversal)
        for table, frame in (
            ("claims", self.claims),
            ("claim_lines", self.lines),
            ("outcomes", self.outcomes),
        ):
            write_table(self.out, table, frame)
        self.manifest.save(self.out)
        report = self.report
        report.totals = {
            "claims": len(self.claims),
            "claim_lines": len(self.lines),
            "outcomes": len(self.outcomes),
        }
        log.info(
            "ingested %d file(s) into %s: %d claims added, %d outcomes added, %d skipped",
            report.files_read,
            self.out,
            report.claims_added,
            report.outcomes_added,
            sum(report.skipped.values()),
        )
        return report


def ingest(
    claims_837: list[Path], remits_835: list[Path], out: Path, append: bool = False
) -> IngestReport:
    """Ingest 837P claim files and 835 remittance files into the history folder ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    run = _Ingest(out, append)
    run.read_claims(list(claims_837))
    run.merge_claims()
    run.match_remits(run.read_remits(list(remits_835)))
    return run.finish()


__all__ = ["IngestError", "IngestReport", "ingest"]
