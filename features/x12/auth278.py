"""278 services review responses (005010X217) -> ``authorizations`` rows.

Loops read: 2000A/2010A the utilization management organisation (NM1*X3 NM109: ``payer_id``),
2000B/2010B the requester (NM1*1P), 2000C/2010C the subscriber (NM1*IL NM109:
``member_id``), 2000D a dependent (checked under the subscriber's id, the id an 837P
carries), 2000E the patient event (UM, HCR, REF*BB, DTP*AAH / 472 / 007 / 036, HSD,
NM1*SJ service provider) and 2000F its services (SV1 / SV2 / SV3 procedure code and units,
their own HCR, DTP and HSD).

A service is authorised when its HCR01 (or, without one, its event's) is ``A1`` (certified in
total), ``A2`` (certified partial) or ``A6`` (modified); ``A3`` (not certified), ``A4``
(pended), ``C`` (cancelled), ``CT`` (contact payer) and ``NA`` (no action required) give no
authorisation and are counted in ``decisions``. Per authorised service:

- ``auth_number``: HCR02 (the certification number), else REF*BB (the authorization number),
  of the service, else of its event;
- ``start_date`` / ``end_date``: DTP*AAH (certification effective), else DTP*472 (service
  date), else DTP*007 / DTP*036 (effective / expiration); a single date is both;
- ``procedure_codes``: SV101-2, SV202-2 or SV301-2; ``units``: SV104 / SV205, else HSD02 when
  HSD01 counts services (``VS`` visits, ``FL`` units; days ``DY`` of an admission or hours
  ``HS`` are not units of a procedure);
- ``provider_npi``: NM1*SJ (service provider) with NM108 ``XX``, else the requester's.

Services sharing number, dates, provider and units become one row with all their codes. An
event without services (no code to authorise) or without a number or dates is skipped with
its reason, naming the segment. A service without any HCR (a 278 request) gives no row. A 4010
(004010X094) file or another implementation guide is refused naming its ST.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
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
from features.x12.values import date_range, optional_amount

AUTHORIZATION_COLUMNS = [s.name for s in table_spec("authorizations")]
AUTHORIZATION_META = ["decision", "segment"]
GUIDE = "005010X217"

CERTIFIED = frozenset({"A1", "A2", "A6"})
_DATE_ORDER = ("AAH", "472")
_SERVICE_SEGMENTS = {"SV1": (1, 4), "SV2": (2, 5), "SV3": (1, None)}  # code, units element
_UNIT_QUANTITIES = frozenset({"VS", "FL"})  # HSD01: visits, units


@dataclass(frozen=True)
class SkippedAuthorization:
    position: int
    error: X12Error


@dataclass
class Authorizations278:
    """The authorisations of one 278 file in contract form, in file order."""

    source: str
    authorizations: pd.DataFrame  # AUTHORIZATION_COLUMNS + AUTHORIZATION_META
    decisions: Counter[str] = field(default_factory=Counter)  # HCR01 -> services
    skipped: list[SkippedAuthorization] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class _Review:
    """What an event (2000E) or one of its services (2000F) says."""

    __slots__ = ("dates", "decision", "hcr", "number", "position", "provider", "ref", "units")

    def __init__(self, position: int) -> None:
        self.position = position
        self.decision: str | None = None
        self.hcr: Segment | None = None
        self.number: str | None = None  # HCR02
        self.ref: str | None = None  # REF*BB
        self.dates: dict[str, tuple[dt.date | None, dt.date | None]] = {}
        self.units: float | None = None
        self.provider: str | None = None


class _Service(_Review):
    __slots__ = ("code",)

    def __init__(self, position: int) -> None:
        super().__init__(position)
        self.code: str | None = None


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.rows: list[dict[str, Any]] = []
        self.skipped: list[SkippedAuthorization] = []
        self.decisions: Counter[str] = Counter()

    def transaction(self, transaction: Transaction) -> None:
        payer_id: str | None = None
        requester_npi: str | None = None
        member_id: str | None = None
        level = ""
        event: _Review | None = None
        services: list[_Service] = []
        current: _Review | None = None
        for segment in transaction.segments[1:-1]:
            tag = segment.tag
            if tag == "HL":
                code = segment.get(3)
                if code in ("EV", "20", "21", "22", "23"):
                    self._close(event, services, payer_id, member_id, requester_npi)
                    event, services, current = None, [], None
                level = code
                if code == "EV":
                    event = current = _Review(segment.position)
                elif code == "SS" and event is not None:
                    service = _Service(segment.position)
                    services.append(service)
                    current = service
            elif tag == "NM1":
                entity = segment.get(1)
                if level == "20" and entity == "X3":
                    payer_id = segment.require(9)
                elif level == "21" and entity == "1P" and segment.get(8) == "XX":
                    requester_npi = segment.get(9) or None
                elif level == "22" and entity == "IL":
                    member_id = segment.require(9)
                elif level == "23" and entity in ("IL", "QC") and segment.get(8) == "MI":
                    member_id = segment.get(9) or member_id
                elif entity == "SJ" and current is not None and segment.get(8) == "XX":
                    current.provider = segment.get(9) or None
            elif current is None:
                continue
            elif tag == "HCR":
                current.hcr = segment
                current.decision = segment.require(1)
                current.number = segment.get(2) or None
            elif tag == "REF" and segment.get(1) == "BB":
                current.ref = segment.get(2) or None
            elif tag == "DTP" and segment.get(1) in ("AAH", "472", "007", "036"):
                current.dates.setdefault(segment.get(1), date_range(segment))
            elif tag == "HSD" and current.units is None and segment.get(1) in _UNIT_QUANTITIES:
                current.units = optional_amount(segment, 2)
            elif tag in _SERVICE_SEGMENTS and isinstance(current, _Service):
                code_index, units_index = _SERVICE_SEGMENTS[tag]
                parts = segment.components(code_index)
                if len(parts) < 2 or not parts[1]:
                    raise segment.error("is missing", code_index, 2)
                current.code = parts[1]
                if units_index is not None:
                    current.units = optional_amount(segment, units_index) or current.units
        self._close(event, services, payer_id, member_id, requester_npi)

    def _close(
        self,
        event: _Review | None,
        services: list[_Service],
        payer_id: str | None,
        member_id: str | None,
        requester_npi: str | None,
    ) -> None:
        if event is None:
            return
        if not services:
            if event.decision in CERTIFIED:
                self._skip(event, "the certified event has no service (SV1/SV2/SV3) to authorise")
            elif event.decision:
                self.decisions[event.decision] += 1
            return
        merged: dict[tuple[Any, ...], dict[str, Any]] = {}
        for service in services:
            decision = service.decision or event.decision
            if decision is None:
                continue
            self.decisions[decision] += 1
            if decision not in CERTIFIED:
                continue
            number = service.number or service.ref or event.number or event.ref
            start, end = _period(service.dates) or _period(event.dates) or (None, None)
            if not number:
                self._skip(service, "HCR02 is missing: a certified service without its number")
                continue
            if start is None or end is None:
                self._skip(service, "has no certification dates (DTP*AAH, 472, 007 or 036)")
                continue
            if not service.code:
                self._skip(service, "has no procedure code (SV1/SV2/SV3)")
                continue
            provider = service.provider or event.provider or requester_npi
            units = service.units if service.units is not None else event.units
            key = (number, start, end, provider, units, decision)
            row = merged.get(key)
            if row is None:
                merged[key] = {
                    "auth_number": number,
                    "payer_id": payer_id,
                    "member_id": member_id,
                    "procedure_codes": [service.code],
                    "start_date": start,
                    "end_date": end,
                    "provider_npi": provider,
                    "units": units,
                    "decision": decision,
                    "segment": event.position,
                }
            elif service.code not in row["procedure_codes"]:
                row["procedure_codes"].append(service.code)
        self.rows.extend(merged.values())

    def _skip(self, review: _Review, message: str) -> None:
        error = X12Error(self.source, message, position=review.position, segment_id="HL")
        self.skipped.append(SkippedAuthorization(review.position, error))


def _period(
    dates: dict[str, tuple[dt.date | None, dt.date | None]],
) -> tuple[dt.date | None, dt.date | None] | None:
    for qualifier in _DATE_ORDER:
        if qualifier in dates:
            start, end = dates[qualifier]
            return start, end or start
    if "007" in dates or "036" in dates:
        start = dates.get("007", (None, None))[0]
        end = dates.get("036", (None, None))[0]
        return start or end, end or start
    return None


def parse_278_document(document: Document) -> Authorizations278:
    """The authorisations of a document's transactions, all of which must be 5010 278s."""
    parser = _Parser(document.source)
    for transaction in document.transactions:
        require_guide(transaction, "278", GUIDE)
        try:
            parser.transaction(transaction)
        except X12Error as error:
            parser.skipped.append(
                SkippedAuthorization(error.position or transaction.position, error)
            )
    frame = pd.DataFrame(parser.rows, columns=AUTHORIZATION_COLUMNS + AUTHORIZATION_META)
    return Authorizations278(
        document.source, frame, parser.decisions, parser.skipped, list(document.warnings)
    )


def parse_278(text: str, source: str = "<278>") -> Authorizations278:
    """Read a 278 response text; raises ``X12Error`` for a broken file or one that is not a
    5010 278. A service or event that cannot be read is skipped (``skipped``), and so is the
    rest of its transaction."""
    with paused_gc():
        return parse_278_document(read_document(text, source))


def read_278(path: Path) -> Authorizations278:
    return parse_278(read_text(path), Path(path).name)
