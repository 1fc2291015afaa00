"""835 (005010X221A1, 4010 X091 where it maps) -> claim payments with every adjustment.

Each CLP (loop 2100) becomes a ``RemitClaim`` with its claim-level CAS, its service lines
(SVC, loop 2110) with their CAS and LQ*HE remarks, and the claim remarks from MOA and MIA.
``adjustments`` keeps every CAS triplet (up to six per segment) in segment order; a CAS whose
triplet is incomplete is an error naming the element (``CAS06 is missing``) and skips that
claim only. The adjudication date is the production date DTM*405, else BPR16.

``Remits835.outcome_rows()`` is one row per CLP in file order; which of them is a claim's
first-pass outcome is decided by ``features.x12.firstpass``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from features.contract import table_spec
from features.x12.codes import ADJUSTMENT_GROUPS, REVERSAL_STATUS
from features.x12.errors import X12Error
from features.x12.segments import (
    Document,
    Segment,
    Transaction,
    paused_gc,
    read_document,
    read_text,
)
from features.x12.values import amount, date_element, optional_amount

OUTCOME_COLUMNS = [s.name for s in table_spec("outcomes")]
# Columns added to the contract's: CLP09 (which claim version was adjudicated) and origin.
OUTCOME_META = ["claim_frequency_code", "source", "segment"]
_MIA_REMARKS = (5, 20, 21, 22, 23)
_MOA_REMARKS = (3, 4, 5, 6, 7)


@dataclass(frozen=True)
class Adjustment:
    """One CAS triplet: group, reason (CARC), amount, quantity; where it was read."""

    group: str
    reason: str
    amount: float
    quantity: float | None
    position: int
    triplet: int  # 1..6 within its CAS segment

    @property
    def code(self) -> str:
        return f"{self.group}-{self.reason}"


@dataclass
class RemitLine:
    """One SVC service payment (loop 2110)."""

    position: int
    procedure_code: str | None
    modifiers: list[str]
    charge: float | None
    paid: float | None
    adjustments: list[Adjustment] = field(default_factory=list)
    remark_codes: list[str] = field(default_factory=list)


@dataclass
class RemitClaim:
    """One CLP claim payment (loop 2100) and its service lines."""

    position: int
    claim_id: str
    status: str
    charge: float
    paid: float
    patient_responsibility: float | None
    filing_indicator: str
    payer_claim_number: str
    frequency_code: str | None
    adjudication_date: dt.date
    payer_id: str | None
    adjustments: list[Adjustment] = field(default_factory=list)  # claim-level CAS
    remark_codes: list[str] = field(default_factory=list)  # MOA / MIA
    lines: list[RemitLine] = field(default_factory=list)

    @property
    def is_reversal(self) -> bool:
        return self.status == REVERSAL_STATUS

    def all_adjustments(self) -> list[Adjustment]:
        """Claim-level then line-level CAS, in segment order."""
        return self.adjustments + [a for line in self.lines for a in line.adjustments]

    def all_remarks(self) -> list[str]:
        return self.remark_codes + [r for line in self.lines for r in line.remark_codes]


@dataclass(frozen=True)
class SkippedRemit:
    position: int
    claim_id: str | None
    error: X12Error


@dataclass
class Remits835:
    source: str
    claims: list[RemitClaim]
    skipped: list[SkippedRemit] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    transactions: int = 0

    def outcome_rows(self) -> pd.DataFrame:
        """One contract ``outcomes`` row per CLP, in file order (reversals included)."""
        claims = self.claims
        with paused_gc():
            return pd.DataFrame(
                {
                    "claim_id": [c.claim_id for c in claims],
                    "adjudication_date": [c.adjudication_date for c in claims],
                    "claim_status_code": [c.status for c in claims],
                    "paid_amount": [c.paid for c in claims],
                    "adjustments": [[a.code for a in c.all_adjustments()] for c in claims],
                    "remark_codes": [c.all_remarks() for c in claims],
                    "claim_frequency_code": [c.frequency_code for c in claims],
                    "source": [self.source] * len(claims),
                    "segment": [c.position for c in claims],
                },
                columns=OUTCOME_COLUMNS + OUTCOME_META,
            )


def parse_cas(segment: Segment) -> list[Adjustment]:
    """Every triplet of a CAS; an incomplete triplet is an error naming its element."""
    group = segment.get(1)
    if not group:
        raise segment.error("is missing", 1)
    if group not in ADJUSTMENT_GROUPS:
        raise segment.error(f"{group!r} is not a claim adjustment group code", 1)
    elements = segment.elements
    if len(elements) > 20:
        raise segment.error(f"has {len(elements) - 1} elements; a CAS has at most 19")
    found: list[Adjustment] = []
    for triplet in range(6):
        reason_at = 2 + 3 * triplet
        if reason_at >= len(elements) and triplet:
            break  # no further triplets written
        reason = segment.get(reason_at)
        money = segment.get(reason_at + 1)
        quantity = segment.get(reason_at + 2)
        if not reason:
            if money or quantity:
                raise segment.error(
                    "is missing: an adjustment amount is given without its reason", reason_at
                )
            if triplet == 0:
                raise segment.error("is missing", reason_at)
            continue
        if not money:
            raise segment.error(
                f"is missing: adjustment reason {reason} has no amount", reason_at + 1
            )
        found.append(
            Adjustment(
                group,
                reason,
                amount(segment, reason_at + 1),
                optional_amount(segment, reason_at + 2),
                segment.position,
                triplet + 1,
            )
        )
    return found


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.claims: list[RemitClaim] = []
        self.skipped: list[SkippedRemit] = []
        self.warnings: list[str] = []

    def transaction(self, transaction: Transaction) -> None:
        self.bpr: Segment | None = None
        self.bpr_date: dt.date | None = None
        self.production: dt.date | None = None
        self.payer_id: str | None = None
        self.claim: RemitClaim | None = None
        self.line: RemitLine | None = None
        self.error: X12Error | None = None
        self.opened: tuple[int, str | None] | None = None  # CLP position and CLP01
        for segment in transaction.segments:
            tag = segment.tag
            if tag in ("CLP", "LX", "PLB", "SE"):
                self._close()
                if tag == "CLP":
                    self._open(segment)
                continue
            if self.error is not None:
                continue  # the rest of a claim already skipped
            try:
                self._segment(segment)
            except X12Error as problem:
                if self.opened is None:
                    raise
                self.error = problem

    def _open(self, segment: Segment) -> None:
        self.opened = (segment.position, segment.get(1) or None)
        date = self.production or self.bpr_date
        try:
            if date is None:
                where = self.bpr or segment
                raise X12Error(
                    self.source,
                    "no adjudication date: DTM*405 is absent and BPR16 is missing or not a date",
                    position=where.position,
                    segment_id=where.tag,
                )
            self.claim = _clp(segment, date, self.payer_id)
        except X12Error as problem:
            self.error = problem

    def _close(self) -> None:
        if self.opened is not None:
            position, claim_id = self.opened
            if self.error is not None:
                self.skipped.append(SkippedRemit(position, claim_id, self.error))
            elif self.claim is not None:
                self.claims.append(self.claim)
        self.opened, self.claim, self.line, self.error = None, None, None, None

    def _segment(self, segment: Segment) -> None:
        tag, claim, line = segment.tag, self.claim, self.line
        if claim is not None:
            if tag == "CAS":
                (line or claim).adjustments.extend(parse_cas(segment))
            elif tag == "SVC":
                self.line = _svc(segment)
                claim.lines.append(self.line)
            elif tag == "LQ":
                if line is not None and segment.get(1) == "HE" and segment.get(2):
                    line.remark_codes.append(segment.get(2))
            elif tag == "MOA":
                claim.remark_codes += [segment.get(i) for i in _MOA_REMARKS if segment.get(i)]
            elif tag == "MIA":
                claim.remark_codes += [segment.get(i) for i in _MIA_REMARKS if segment.get(i)]
            return
        if tag == "BPR":
            self.bpr = segment
            try:
                self.bpr_date = date_element(segment, 16, required=False)
            except X12Error as bad:
                self.warnings.append(f"{bad.describe()}; DTM*405 is used when present")
        elif tag == "DTM" and segment.get(1) == "405":
            try:
                self.production = date_element(segment, 2)
            except X12Error as bad:
                self.warnings.append(f"{bad.describe()}; BPR16 is used when present")
        elif tag == "N1" and segment.get(1) == "PR" and segment.get(4):
            self.payer_id = segment.get(4)
        elif tag == "REF" and segment.get(1) == "2U":
            self.payer_id = self.payer_id or segment.get(2) or None
        elif tag in ("CAS", "SVC"):
            raise segment.error("appears before any CLP")


def _clp(segment: Segment, date: dt.date, payer_id: str | None) -> RemitClaim:
    claim_id = segment.require(1)
    status = segment.require(2)
    if not (status.isdigit() and len(status) <= 2):
        raise segment.error(f"is not a claim status code ({status!r})", 2)
    return RemitClaim(
        position=segment.position,
        claim_id=claim_id,
        status=status,
        charge=amount(segment, 3),
        paid=amount(segment, 4),
        patient_responsibility=optional_amount(segment, 5),
        filing_indicator=segment.get(6),
        payer_claim_number=segment.get(7),
        frequency_code=segment.get(9) or None,
        adjudication_date=date,
        payer_id=payer_id,
    )


def _svc(segment: Segment) -> RemitLine:
    procedure = segment.components(1)
    return RemitLine(
        position=segment.position,
        procedure_code=procedure[1] if len(procedure) > 1 and procedure[1] else None,
        modifiers=[m for m in procedure[2:6] if m],
        charge=optional_amount(segment, 2),
        paid=optional_amount(segment, 3),
    )


def parse_835(text: str, source: str = "<835>") -> Remits835:
    """Read an 835 text; a broken file raises ``X12Error``, a broken claim is skipped."""
    with paused_gc():
        return _parse_835(read_document(text, source), source)


def _parse_835(document: Document, source: str) -> Remits835:
    parser = _Parser(source)
    parser.warnings += document.warnings
    for transaction in document.transactions:
        if transaction.code != "835":
            raise X12Error(
                source,
                f"is a {transaction.code or 'unknown'} transaction set, not an 835",
                position=transaction.position,
                segment_id="ST",
            )
        parser.transaction(transaction)
    return Remits835(
        source, parser.claims, parser.skipped, parser.warnings, len(document.transactions)
    )


def read_835(path: Path) -> Remits835:
    return parse_835(read_text(path), Path(path).name)
