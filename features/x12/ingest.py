"""Ingest 837P, 835, 271 and 278 files into a history folder (contract section 1).

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

271 eligibility responses add ``eligibility_checks`` rows and 278 services review responses
add ``authorizations`` rows (certified services only; see ``features.x12.eligibility271`` and
``features.x12.auth278``), idempotent by file content in the same manifest; a member or
service that cannot be read or fails the contract is skipped with its reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from features.tables import Issue, empty_table, normalize_table
from features.x12.auth278 import AUTHORIZATION_COLUMNS, parse_278
from features.x12.claims837 import (
    CLAIM_COLUMNS,
    ICD9_PROBLEM,
    LINE_COLUMNS,
    Claims837,
    parse_837p,
)
from features.x12.eligibility271 import ELIGIBILITY_COLUMNS, parse_271
from features.x12.errors import UnsupportedTransaction, X12Error
from features.x12.firstpass import OutcomeMatcher
from features.x12.remits835 import OUTCOME_COLUMNS, OUTCOME_META, parse_835
from features.x12.report import IngestReport
from features.x12.segments import decode, paused_gc
from features.x12.sniff import sniff
from features.x12.store import (
    MANIFEST,
    Manifest,
    Staging,
    csv_tables,
    extend_table,
    has_tables,
    read_columns,
    read_unmatched,
    recover,
    write_unmatched,
)

log = logging.getLogger(__name__)


class IngestError(ValueError):
    """The output folder cannot take this ingest as it is."""


@dataclass
class _Batch:
    """Claims and lines accepted from the new 837 files, in file order."""

    claims: list[pd.DataFrame] = field(default_factory=list)
    lines: list[pd.DataFrame] = field(default_factory=list)


def _issue_reasons(issues: list[Issue], rows_to_owner: np.ndarray | None) -> dict[int, str]:
    """Per row (or owning claim row): every contract problem it has, joined."""
    found: dict[int, list[str]] = {}
    for issue in issues:
        text = f"{issue.table} {issue.column}: {issue.problem}"
        for row in issue.rows.tolist():
            owner = int(rows_to_owner[row]) if rows_to_owner is not None else row
            texts = found.setdefault(owner, [])
            if text not in texts:
                texts.append(text)
    return {row: "; ".join(texts) for row, texts in found.items()}


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
    # The ICD revision first: it is why such a claim's codes also fail the contract's format.
    reasons = dict.fromkeys(np.flatnonzero(raw["icd9"].to_numpy(dtype=bool)).tolist(), ICD9_PROBLEM)
    for row, reason in _issue_reasons(claims.issues, None).items():
        reasons.setdefault(row, reason)
    for row, reason in _issue_reasons(lines.issues, owner).items():
        reasons.setdefault(row, reason)
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
    for row, reason in sorted(reasons.items()):
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
        if recover(out):
            log.warning("%s: completed the file renames of an interrupted ingest", out)
        self.staging = Staging(out)
        if csv_tables(out):
            raise IngestError(
                f"{out}: holds CSV tables ({', '.join(csv_tables(out))}); ingest writes Parquet, "
                "use an empty folder or convert them first"
            )
        existing = has_tables(out)
        if existing and not append:
            raise IngestError(
                f"{out}: already holds {', '.join(existing)}; pass append=True (--append) to "
                "extend it, or choose an empty folder"
            )
        self.manifest = Manifest.load(out) if append else Manifest()
        self.seen = set(self.manifest.files)
        self.batch = _Batch()
        self.new_claims = empty_table("claims")
        self.new_lines = empty_table("claim_lines")
        self.new_outcomes = empty_table("outcomes")
        self.new_context: dict[str, list[pd.DataFrame]] = {
            "eligibility_checks": [],
            "authorizations": [],
        }
        self.replaced: set[str] = set()  # claim ids already in the folder, replaced now
        self.parked: pd.DataFrame | None = None
        self._matcher: OutcomeMatcher | None = None

    @property
    def matcher(self) -> OutcomeMatcher:
        """The claims and outcomes already in the folder, read only when something is new."""
        if self._matcher is None:
            matcher = OutcomeMatcher(pending_reversal=set(self.manifest.pending_reversals))
            claims = read_columns(self.out, "claims", ["claim_id", "frequency_code"])
            duplicates = self.manifest.duplicates
            for claim_id, frequency in zip(
                claims["claim_id"].tolist(), claims["frequency_code"].tolist(), strict=True
            ):
                matcher.add_claim(duplicates.get(claim_id, claim_id), claim_id, frequency)
            matcher.has_outcome = set(read_columns(self.out, "outcomes", ["claim_id"])["claim_id"])
            self._matcher = matcher
        return self._matcher

    # --- files ----------------------------------------------------------------------------

    def _new_file(self, path: Path, expected: str) -> tuple[str, str] | None:
        """(text, digest) of a file not ingested yet, or None (counted)."""
        data = Path(path).read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest in self.seen:
            self.report.files_already_ingested += 1
            return None
        text = decode(data)
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

    def read_claims(self, paths: list[Path], tell: Callable[[str], None]) -> None:
        for path in paths:
            tell(f"reading {Path(path).name}")
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

    def read_remits(self, paths: list[Path], tell: Callable[[str], None]) -> pd.DataFrame:
        frames = []
        for path in paths:
            tell(f"reading {Path(path).name}")
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
        retry = self.batch.claims or frames
        parked = read_unmatched(self.out) if retry else None
        if parked is not None and not parked.empty:
            self.report.parked_before = len(parked)
            frames.insert(0, parked.assign(_parked=True))
        self.parked = parked  # None: nothing new that could match them; left as they are
        frames = [f for f in frames if not f.empty]
        if not frames:
            return pd.DataFrame(columns=[*OUTCOME_COLUMNS, *OUTCOME_META, "_parked"])
        rows = pd.concat(frames, ignore_index=True)
        rows["_parked"] = rows["_parked"].fillna(False).astype(bool) if "_parked" in rows else False
        # Production order: by adjudication date, then file and CLP order (a reversal and its
        # re-adjudication share a date), whatever order the files were given in.
        order = np.argsort(pd.to_datetime(rows["adjudication_date"]).to_numpy(), kind="stable")
        return rows.iloc[order].reset_index(drop=True)

    def read_context(self, eligibility_271: list[Path], auths_278: list[Path]) -> None:
        """271 checks and 278 certified authorizations that meet the contract."""
        report = self.report
        for path in map(Path, eligibility_271):
            found = self._new_file(path, "271")
            if found is None:
                continue
            try:
                checks = parse_271(found[0], path.name)
            except X12Error as error:
                report.files_failed[path.name] = error.describe()
                continue
            report.warnings += checks.warnings
            report.checks_read += len(checks.checks) + len(checks.skipped)
            for skipped in checks.skipped:
                report.skip(skipped.error.reason, skipped.error.describe())
            kept = self._valid("eligibility_checks", checks.checks, ELIGIBILITY_COLUMNS, path)
            report.checks_added += len(kept)
            self._remember(path, found[1], "271", checks=len(kept))
        for path in map(Path, auths_278):
            found = self._new_file(path, "278")
            if found is None:
                continue
            try:
                auths = parse_278(found[0], path.name)
            except X12Error as error:
                report.files_failed[path.name] = error.describe()
                continue
            report.warnings += auths.warnings
            report.review_decisions.update(auths.decisions)
            for problem in auths.skipped:
                report.skip(problem.error.reason, problem.error.describe())
            rows = auths.authorizations
            kept = self._valid("authorizations", rows, AUTHORIZATION_COLUMNS, path)
            report.authorizations_added += len(kept)
            self._remember(path, found[1], "278", authorizations=len(kept))

    def _valid(
        self, table: str, rows: pd.DataFrame, columns: list[str], path: Path
    ) -> pd.DataFrame:
        """The rows of one file that meet the contract (normalised); the others skipped."""
        if rows.empty:
            return rows
        checked = normalize_table(table, rows[columns])
        bad = _issue_reasons(checked.issues, None)
        for row, reason in bad.items():
            where = f"{path.name}: segment {rows['segment'].iloc[row]} (HL)"
            self.report.skip(reason, f"{where}: {reason}")
        keep = np.ones(len(rows), dtype=bool)
        keep[list(bad)] = False
        kept = checked.frame[keep].reset_index(drop=True)
        self.new_context[table].append(kept)
        return kept

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
        known = set(self.matcher.frequency)
        report, matcher = self.report, self.matcher
        for row, (base, frequency) in enumerate(zip(ids, frequencies, strict=True)):
            versions = matcher.versions.get(base)
            if not versions and base in matcher.frequency:
                # CLM01 equal to an id this folder gave a possible duplicate ("X#2"): that
                # claim is the first version of its own lineage from now on.
                versions = matcher.versions[base] = [base]
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
        self.new_claims = claims[keep].drop(columns="_claim").reset_index(drop=True)
        self.new_lines = (
            lines[keep[lines["_row"].to_numpy()]].drop(columns=["_claim", "_row"])
        ).reset_index(drop=True)
        self.replaced = replaced_existing
        replaced_lines = 0
        if replaced_existing:
            old_lines = read_columns(self.out, "claim_lines", ["claim_id"])["claim_id"]
            replaced_lines = int(old_lines.isin(replaced_existing).sum())
        report.claims_added = int(keep.sum()) - len(replaced_existing)
        report.lines_added = len(self.new_lines) - replaced_lines

    # --- remittances ----------------------------------------------------------------------

    def match_remits(self, rows: pd.DataFrame) -> None:
        report = self.report
        if rows.empty:
            if self.parked is not None:
                write_unmatched(self.staging, rows)
            return
        checked = normalize_table("outcomes", rows[OUTCOME_COLUMNS])
        bad = _issue_reasons(checked.issues, None)
        for row, reason in bad.items():
            where = f"{rows['source'].iloc[row]}: segment {rows['segment'].iloc[row]} (CLP)"
            report.skip(reason, f"{where}: {reason}", rows["claim_id"].iloc[row])
        assigned: list[int] = []
        targets: list[str] = []
        parked: list[int] = []
        matcher = self.matcher
        statuses = rows["claim_status_code"].tolist()
        was_parked = rows["_parked"].tolist()
        frequencies = rows["claim_frequency_code"].tolist()
        for row, claim_id in enumerate(rows["claim_id"].tolist()):
            if row in bad:
                continue
            frequency = frequencies[row] if isinstance(frequencies[row], str) else None
            decision, target = matcher.offer(claim_id, statuses[row], frequency)
            if decision == "assigned":
                assert target is not None
                assigned.append(row)
                targets.append(target)
                if was_parked[row]:
                    report.parked_matched += 1
            elif decision == "unmatched":
                parked.append(row)
        chosen = checked.frame.iloc[assigned].copy()
        chosen["claim_id"] = pd.array(targets, dtype="string")
        self.new_outcomes = chosen.reset_index(drop=True)
        counts = matcher.counts
        report.outcomes_added = len(chosen)
        report.reversals = counts["reversal"]
        report.readjudications_ignored = counts["readjudication"]
        report.later_adjudications_ignored = counts["later"]
        report.replaced_original_adjudications = counts["replaced_original"]
        report.unmatched_remits = len(parked)
        write_unmatched(self.staging, rows.iloc[parked].drop(columns="_parked"))

    def finish(self) -> IngestReport:
        report = self.report
        if self._matcher is not None:
            self.manifest.pending_reversals = sorted(self._matcher.pending_reversal)
        dropped_outcomes = self.replaced
        for table, frame, drop in (
            ("claims", self.new_claims, self.replaced),
            ("claim_lines", self.new_lines, self.replaced),
            ("outcomes", self.new_outcomes, dropped_outcomes),
        ):
            report.totals[table] = extend_table(self.staging, table, frame, drop)
        for table, frames in self.new_context.items():
            if frames or (self.out / f"{table}.parquet").exists():
                frame = pd.concat(frames, ignore_index=True) if frames else empty_table(table)
                report.totals[table] = extend_table(self.staging, table, frame, set())
        if report.files_read or not (self.out / MANIFEST).exists():
            self.manifest.save(self.staging)
        self.staging.commit()
        log.info(
            "ingested %d file(s) into %s: %d claims added, %d outcomes added, %d skipped",
            report.files_read,
            self.out,
            report.claims_added,
            report.outcomes_added,
            report.skipped_total,
        )
        return report


def ingest(
    claims_837: list[Path],
    remits_835: list[Path],
    out: Path,
    append: bool = False,
    eligibility_271: list[Path] | None = None,
    auths_278: list[Path] | None = None,
    progress: Callable[[str, int, int], None] = lambda *_: None,
) -> IngestReport:
    """Ingest 837P claim, 835 remittance, 271 eligibility and 278 authorization files into
    the history folder ``out``; ``progress`` hears each file and step as it starts (message,
    steps done, steps in all)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    steps = len(claims_837) + len(remits_835) + 3
    done = iter(range(steps))

    def tell(message: str) -> None:
        progress(message, next(done), steps)

    with paused_gc():
        run = _Ingest(out, append)
        run.read_context(list(eligibility_271 or []), list(auths_278 or []))
        run.read_claims(list(claims_837), tell)
        tell("merging claims with the history")
        run.merge_claims()
        remits = run.read_remits(list(remits_835), tell)
        tell("matching payments to claims")
        run.match_remits(remits)
        tell("writing the history")
        return run.finish()


__all__ = ["IngestError", "IngestReport", "ingest"]
