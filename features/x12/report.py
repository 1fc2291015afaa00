"""What an ingest did: counts of every file, claim, payment, eligibility check and
authorization read, kept, replaced or skipped.

Claim ids may appear (they are what staff look up); member ids, names and birth dates never do.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rich.table import Table

EXAMPLES_KEPT = 50


@dataclass
class IngestReport:
    out: Path
    files_read: int = 0
    files_already_ingested: int = 0
    files_failed: dict[str, str] = field(default_factory=dict)  # file name -> error
    unsupported_837i: list[str] = field(default_factory=list)  # file names
    claims_read: int = 0  # CLM segments in the new 837P files
    claims_added: int = 0  # new rows in claims (possible duplicates included)
    lines_added: int = 0  # net change of claim_lines
    claims_replaced: int = 0  # frequency 7 of a claim seen before
    voids: int = 0  # frequency 8 of a claim seen before: counted, nothing changed
    corrections_without_original: int = 0  # frequency 7/8 of an unseen claim, kept as is
    possible_duplicates: dict[str, str] = field(default_factory=dict)  # new id -> CLM01
    remits_read: int = 0  # CLP segments in the new 835 files
    outcomes_added: int = 0
    outcomes_dropped_with_replacement: int = 0
    reversals: int = 0  # CLP02 = 22
    readjudications_ignored: int = 0  # the payment after a reversal
    later_adjudications_ignored: int = 0  # payments of claims that already had an outcome
    replaced_original_adjudications: int = 0  # CLP09 = 1 for a claim replaced by frequency 7
    unmatched_remits: int = 0  # payments parked: their claim has not arrived
    parked_before: int = 0
    parked_matched: int = 0  # parked payments whose claim arrived in this ingest
    checks_read: int = 0  # members answered in the new 271 files
    checks_added: int = 0
    authorizations_added: int = 0  # certified services of the new 278 files, merged per number
    review_decisions: Counter[str] = field(default_factory=Counter)  # 278 HCR01 -> services
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> claims/payments
    skipped_examples: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)  # rows in the folder afterwards

    def skip(self, reason: str, detail: str, claim_id: str | None = None) -> None:
        """Count one skipped claim or payment; ``detail`` names file, segment and element."""
        self.skipped[reason] += 1
        if len(self.skipped_examples) < EXAMPLES_KEPT:
            who = f" [claim {claim_id}]" if claim_id else ""
            self.skipped_examples.append(detail + who)

    @property
    def all_failed(self) -> bool:
        """Every file given failed: none was read and none had been ingested before."""
        failed = len(self.files_failed) + len(self.unsupported_837i)
        return failed > 0 and self.files_read == 0 and self.files_already_ingested == 0

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def rows(self) -> list[tuple[str, str]]:
        """(what, how many) in reading order; zero counts of rare events left out."""
        rows = [
            ("files read", str(self.files_read)),
            ("files skipped: already ingested", str(self.files_already_ingested)),
            ("files not read (errors)", str(len(self.files_failed))),
            ("837I files: not supported", str(len(self.unsupported_837i))),
            ("claims read (CLM)", str(self.claims_read)),
            ("claims added", str(self.claims_added)),
            ("claim lines added", str(self.lines_added)),
            ("claims replaced (frequency 7)", str(self.claims_replaced)),
            ("possible duplicate submissions", str(len(self.possible_duplicates))),
            ("payments read (CLP)", str(self.remits_read)),
            ("outcomes added", str(self.outcomes_added)),
            ("unmatched payments (parked)", str(self.unmatched_remits)),
            ("skipped (claims, payments, checks, authorizations)", str(self.skipped_total)),
        ]
        if self.checks_read or self.review_decisions or self.authorizations_added:
            rows += [
                ("eligibility checks read (271 members)", str(self.checks_read)),
                ("eligibility checks added", str(self.checks_added)),
                ("authorizations added (278 certified)", str(self.authorizations_added)),
            ]
            rows += [
                (f"  278 decision HCR01 {code}", str(n))
                for code, n in sorted(self.review_decisions.items())
            ]
        rare = [
            ("voids of known claims (frequency 8)", self.voids),
            ("corrections without an original", self.corrections_without_original),
            ("outcomes dropped with a replaced claim", self.outcomes_dropped_with_replacement),
            ("reversals (CLP02 22)", self.reversals),
            ("re-adjudications after a reversal (ignored)", self.readjudications_ignored),
            ("later adjudications (ignored)", self.later_adjudications_ignored),
            (
                "adjudications of a replaced original (ignored)",
                self.replaced_original_adjudications,
            ),
            ("parked payments matched now", self.parked_matched),
        ]
        rows += [(label, str(n)) for label, n in rare if n]
        rows += [(f"  skipped: {reason}", str(n)) for reason, n in self.skipped.most_common()]
        rows += [(f"  not read: {name}", error) for name, error in self.files_failed.items()]
        duplicates = list(self.possible_duplicates.items())
        rows += [(f"  duplicate: {new}", f"of {old}") for new, old in duplicates[:20]]
        if len(duplicates) > 20:
            rows.append(("  duplicates not listed", str(len(duplicates) - 20)))
        rows += [(f"rows in {table} now", str(n)) for table, n in self.totals.items()]
        return rows

    def render(self) -> Table:
        """A rich table for the terminal."""
        table = Table(title=f"X12 ingest into {self.out}", show_header=True)
        table.add_column("what")
        table.add_column("count", justify="right")
        for label, value in self.rows():
            table.add_row(label, value)
        return table

    def __str__(self) -> str:
        rows = self.rows()
        width = max(len(label) for label, _ in rows)
        return "\n".join(f"{label:<{width}}  {value}" for label, value in rows)
