"""271 eligibility responses (005010X279A1) -> ``eligibility_checks`` rows.

Loops read: the header (BHT04, the date the payer answered: ``checked_on``), 2000A/2100A the
information source (NM1*PR NM109: ``payer_id``), 2000C/2100C the subscriber (NM1*IL NM109:
``member_id``) and 2000D/2100D a dependent (who is checked under the subscriber's member id,
the id an 837P carries). Per subscriber or dependent:

- ``status`` from EB01 of its benefit segments (loop 2110): ``1``-``5`` (active coverage,
  with or without limits) make it ``active``; ``6``-``8`` (inactive, pending update or
  investigation) ``inactive`` when no EB says active. An AAA saying the member is unknown
  (AAA03 ``67``, ``72``, ``73``, ``75``) makes it ``not_found``;
- ``coverage_start`` / ``coverage_end`` from DTP*346 / DTP*347 (plan begin / end), DTP*356 /
  357 (eligibility begin / end), or a DTP*291 / DTP*307 range (plan / eligibility), member
  level first, then the first benefit that gives one;
- ``plan``: EB05 of the first active benefit (kept for reports; the contract has no column).

Benefit loops 2120 (LS..LE, other payers and providers) are skipped. A subscriber or dependent
without EB or AAA (unless it only heads a dependent that was checked), or with an AAA that is
not about the member (AAA03 ``42``, unable to respond now, say), is skipped with its reason,
naming the segment; so is a transaction whose AAA rejects the request before any member (the
2000B receiver level). A 4010 (004010X092) file or another implementation guide is refused
naming its ST.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from features.contract import table_spec
from features.x12.errors import X12Error
from features.x12.segments import (
    Document,
    Segment,
    Transaction,
    paused_gc,
    read_document,
    read_text,
)
from features.x12.sniff import require_guide
from features.x12.values import date_element, date_range

ELIGIBILITY_COLUMNS = [s.name for s in table_spec("eligibility_checks")]
ELIGIBILITY_META = ["plan", "segment"]
GUIDE = "005010X279"

_ACTIVE = frozenset("12345")
_INACTIVE = frozenset("678")
_NOT_FOUND = frozenset({"67", "72", "73", "75"})  # patient / member id / name / subscriber
_STARTS = ("346", "356")
_ENDS = ("347", "357")
_RANGES = ("291", "307")


@dataclass(frozen=True)
class SkippedCheck:
    """A subscriber or dependent (or a whole transaction) that gave no usable check."""

    position: int
    error: X12Error


@dataclass
class Eligibility271:
    """The checks of one 271 file in contract form, in file order, and what was skipped."""

    source: str
    checks: pd.DataFrame  # ELIGIBILITY_COLUMNS + ELIGIBILITY_META
    skipped: list[SkippedCheck] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class _Member:
    """What one 2000C/2000D level says about its member."""

    __slots__ = (
        "aaa",
        "benefit_dates",
        "benefits",
        "dates",
        "has_children",
        "member_id",
        "plan",
        "position",
    )

    def __init__(self, position: int, member_id: str | None, has_children: bool) -> None:
        self.position = position
        self.has_children = has_children
        self.member_id = member_id
        self.benefits: list[str] = []  # EB01 codes
        self.plan: str | None = None
        self.aaa: Segment | None = None
        self.dates: dict[str, tuple[dt.date | None, dt.date | None]] = {}  # member level
        # Benefit-level dates: first seen per qualifier, used when the member level has none.
        self.benefit_dates: dict[str, tuple[dt.date | None, dt.date | None]] = {}


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.rows: list[dict[str, Any]] = []
        self.skipped: list[SkippedCheck] = []

    def transaction(self, transaction: Transaction) -> None:
        checked_on: dt.date | None = transaction.group_date
        payer_id: str | None = None
        subscriber_id: str | None = None
        member: _Member | None = None
        level = ""
        in_2120 = False
        in_benefit = False
        for segment in transaction.segments[1:-1]:
            tag = segment.tag
            if tag == "BHT":
                checked_on = date_element(segment, 4)
            elif tag == "HL":
                self._close(member, payer_id, checked_on)
                member, level, in_2120, in_benefit = None, segment.get(3), False, False
                if level in ("22", "23"):
                    member = _Member(
                        segment.position,
                        subscriber_id if level == "23" else None,
                        has_children=segment.get(4) == "1",
                    )
            elif tag == "LS":
                in_2120 = True
            elif tag == "LE":
                in_2120 = False
            elif in_2120:
                continue
            elif tag == "NM1":
                self._nm1(segment, level, member)
                if level == "20" and segment.get(1) == "PR":
                    payer_id = segment.require(9)
                elif level == "22" and segment.get(1) == "IL" and member is not None:
                    subscriber_id = member.member_id
            elif tag == "AAA":
                if member is not None:
                    member.aaa = member.aaa or segment
                elif level in ("20", "21"):
                    who = "information source" if level == "20" else "information receiver"
                    raise segment.error(
                        f"the payer rejected the request at the {who} level "
                        f"(AAA03 {segment.get(3)!r}): no member was checked",
                    )
            elif member is None:
                continue
            elif tag == "EB":
                in_benefit = True
                code = segment.require(1)
                member.benefits.append(code)
                if code in _ACTIVE and member.plan is None and segment.get(5):
                    member.plan = segment.get(5)
            elif tag == "DTP":
                qualifier = segment.get(1)
                if qualifier in _STARTS + _ENDS + _RANGES:
                    target = member.benefit_dates if in_benefit else member.dates
                    target.setdefault(qualifier, date_range(segment))
        self._close(member, payer_id, checked_on)

    def _nm1(self, segment: Segment, level: str, member: _Member | None) -> None:
        if member is None or segment.get(1) not in ("IL", "03"):
            return
        if segment.get(8) == "MI" and segment.get(9):
            member.member_id = segment.get(9)
        elif level == "22":
            raise segment.error("is missing: the subscriber has no member id (NM108 MI)", 9)

    def _close(
        self, member: _Member | None, payer_id: str | None, checked_on: dt.date | None
    ) -> None:
        if member is None:
            return
        status: str | None = None
        if member.aaa is not None and member.aaa.get(3) in _NOT_FOUND:
            status = "not_found"
        elif any(code in _ACTIVE for code in member.benefits):
            status = "active"
        elif any(code in _INACTIVE for code in member.benefits):
            status = "inactive"
        if status is None and member.has_children and member.aaa is None:
            return  # a subscriber whose dependent was checked
        if status is None:
            error = (
                member.aaa.error(
                    f"AAA03 {member.aaa.get(3)!r} does not say whether the member is covered"
                )
                if member.aaa is not None
                else X12Error(
                    self.source,
                    "no EB01 coverage status (1-8) and no AAA for this member",
                    position=member.position,
                    segment_id="HL",
                )
            )
            self.skipped.append(SkippedCheck(member.position, error))
            return
        start, end = _coverage(member.dates) if member.dates else _coverage(member.benefit_dates)
        self.rows.append(
            {
                "member_id": member.member_id,
                "payer_id": payer_id,
                "checked_on": checked_on,
                "status": status,
                "coverage_start": start,
                "coverage_end": end,
                "plan": member.plan,
                "segment": member.position,
            }
        )


def _coverage(
    dates: dict[str, tuple[dt.date | None, dt.date | None]],
) -> tuple[dt.date | None, dt.date | None]:
    start = next((dates[q][0] for q in _STARTS if q in dates), None)
    end = next((dates[q][0] for q in _ENDS if q in dates), None)
    for qualifier in _RANGES:
        if qualifier in dates:
            first, last = dates[qualifier]
            start, end = start or first, end or last
    return start, end


def parse_271_document(document: Document) -> Eligibility271:
    """The checks of a document's transactions, all of which must be 5010 271s."""
    parser = _Parser(document.source)
    for transaction in document.transactions:
        require_guide(transaction, "271", GUIDE)
        try:
            parser.transaction(transaction)
        except X12Error as error:
            parser.skipped.append(SkippedCheck(error.position or transaction.position, error))
    checks = pd.DataFrame(parser.rows, columns=ELIGIBILITY_COLUMNS + ELIGIBILITY_META)
    return Eligibility271(document.source, checks, parser.skipped, list(document.warnings))


def parse_271(text: str, source: str = "<271>") -> Eligibility271:
    """Read a 271 text; raises ``X12Error`` for a broken file or one that is not a 5010 271.
    A member that cannot be read is skipped (``Eligibility271.skipped``), and so is the rest
    of its transaction; a transaction the payer rejected as a whole is skipped with the AAA
    that says so."""
    with paused_gc():
        return parse_271_document(read_document(text, source))


def read_271(path: Path) -> Eligibility271:
    return parse_271(read_text(path), Path(path).name)
