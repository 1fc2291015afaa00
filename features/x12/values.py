"""Element values: dates (D8, RD8, DT), amounts and quantities, each error naming its element.

Date errors do not repeat the value: birth and service dates are PHI and error texts end up in
reports and logs.
"""

from __future__ import annotations

import datetime as dt
import math

from features.x12.segments import Segment

_DATES: dict[str, dt.date | None] = {}


def _date8(text: str) -> dt.date | None:
    cached = _DATES.get(text, False)
    if cached is not False:
        return cached  # type: ignore[return-value]
    value: dt.date | None = None
    if len(text) == 8 and text.isdigit():
        try:
            value = dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))
        except ValueError:
            value = None
    if len(_DATES) < 100_000:
        _DATES[text] = value
    return value


def date_element(segment: Segment, index: int, *, required: bool = True) -> dt.date | None:
    """A CCYYMMDD date element (BHT04, GS04, DMG02 with D8, DTM02, BPR16)."""
    text = segment.get(index)
    if not text:
        if required:
            raise segment.error("is missing", index)
        return None
    value = _date8(text[:8] if len(text) == 12 else text)  # DT format CCYYMMDDHHMM
    if value is None:
        raise segment.error("is not a date CCYYMMDD", index)  # no value: dates may be PHI
    return value


def period_start(segment: Segment, qualifier_index: int, value_index: int) -> dt.date:
    """The first date of a D8 date or RD8 range (DTP*472: DTP02 qualifier, DTP03 value)."""
    qualifier = segment.get(qualifier_index)
    text = segment.get(value_index)
    if not text:
        raise segment.error("is missing", value_index)
    if qualifier == "RD8" or (not qualifier and "-" in text):
        text = text.partition("-")[0]
    elif qualifier not in ("D8", "DT", ""):
        raise segment.error(f"date format {qualifier!r} is not D8 or RD8", qualifier_index)
    value = _date8(text[:8])
    if value is None:
        raise segment.error("is not a date CCYYMMDD", value_index)  # no value: may be PHI
    return value


def amount(segment: Segment, index: int) -> float:
    """A required decimal amount or quantity."""
    text = segment.get(index)
    if not text:
        raise segment.error("is missing", index)
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):  # float() also reads "NaN" and "inf", which X12 has not
        raise segment.error(f"is not a number ({text!r})", index)
    return value


def optional_amount(segment: Segment, index: int) -> float | None:
    return amount(segment, index) if segment.get(index) else None


def date_range(segment: Segment) -> tuple[dt.date | None, dt.date | None]:
    """(start, end) of a DTP with D8 or RD8 (DTP02) in DTP03."""
    qualifier, text = segment.get(2), segment.get(3)
    if not text:
        raise segment.error("is missing", 3)
    if qualifier == "RD8":
        first, _, last = text.partition("-")
        probe = Segment(["DTP", "", "D8", first], segment.position, segment.context)
        start = date_element(probe, 3)
        probe.elements[3] = last
        return start, date_element(probe, 3)
    if qualifier not in ("D8", "DT"):
        raise segment.error(f"date format {qualifier!r} is not D8 or RD8", 2)
    return date_element(segment, 3), None
