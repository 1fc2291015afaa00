"""Build ISA/GS/ST..SE/GE/IEA envelopes with correct counts, and format element values."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

ELEMENT, COMPONENT, REPETITION, TERMINATOR = "*", ":", "^", "~"


@dataclass(frozen=True)
class Parties:
    """Who sends and who receives the interchange (ISA06/ISA08, GS02/GS03)."""

    sender: str = "CLAIMRISK"
    receiver: str = "RECEIVER"
    usage: str = "T"  # ISA15: T test, P production


def money(value: float) -> str:
    return f"{value:.2f}"


def quantity(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def d8(value: object) -> str:
    """CCYYMMDD of a date, datetime, pandas Timestamp or ISO string."""
    if isinstance(value, str):
        return value.replace("-", "")[:8]
    if isinstance(value, dt.date | pd.Timestamp):
        return value.strftime("%Y%m%d")
    raise TypeError(f"not a date: {value!r}")


def present(value: object) -> bool:
    """Not None / NaN / NaT / NA / empty text."""
    if value is None or value is pd.NA or value is pd.NaT:
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    return not (isinstance(value, str) and not value.strip())


def segment(*elements: object) -> str:
    """One segment: ``None`` is an empty element; trailing empty elements are dropped."""
    text = [e if type(e) is str else ("" if e is None else str(e)) for e in elements]
    return ELEMENT.join(text).rstrip(ELEMENT) + TERMINATOR


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts of plain Python values: dates as CCYYMMDD text, unknowns as ``None``."""
    columns: dict[str, list[Any]] = {}
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_datetime64_any_dtype(column.dtype):
            text = column.dt.strftime("%Y%m%d")
            columns[name] = text.astype(object).where(text.notna(), None).tolist()
        elif column.dtype == object or isinstance(column.dtype, pd.StringDtype):
            columns[name] = column.astype(object).where(column.notna(), None).tolist()
        else:
            columns[name] = column.tolist()
    keys = list(columns)
    return [dict(zip(keys, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def interchange(
    transactions: Iterable[list[str]],
    *,
    functional_code: str,
    guide: str,
    parties: Parties,
    created: dt.datetime,
    control: int = 1,
) -> str:
    """Wrap transaction bodies (segments between ST and SE) in ST/SE, one GS and one ISA."""
    stamp8, stamp6, clock = (
        created.strftime("%Y%m%d"),
        created.strftime("%y%m%d"),
        created.strftime("%H%M"),
    )
    out = [
        segment(
            "ISA",
            "00",
            " " * 10,
            "00",
            " " * 10,
            "ZZ",
            f"{parties.sender[:15]:<15}",
            "ZZ",
            f"{parties.receiver[:15]:<15}",
            stamp6,
            clock,
            REPETITION,
            "00501",
            f"{control:09d}",
            "0",
            parties.usage,
            COMPONENT,
        ),
        segment(
            "GS",
            functional_code,
            parties.sender,
            parties.receiver,
            stamp8,
            clock,
            control,
            "X",
            guide,
        ),
    ]
    count = 0
    for number, body in enumerate(transactions, start=1):
        code = f"{number:04d}"
        out.append(segment("ST", guide_code(functional_code), code, guide))
        out.extend(body)
        out.append(segment("SE", len(body) + 2, code))
        count = number
    out.append(segment("GE", count, control))
    out.append(segment("IEA", 1, f"{control:09d}"))
    return "\n".join(out) + "\n"


def guide_code(functional_code: str) -> str:
    return {"HC": "837", "HP": "835"}[functional_code]
