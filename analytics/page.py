"""HTML building blocks of the report: escaped tables, sections, figure cards, one stylesheet.

Every piece of text goes through ``html.escape``; charts are trusted SVG from ``charts``.
Every table carries a CSV download (a ``data:`` link, so the page stays one file) whose cells
are the numbers the table shows, without the thousands separators, ``$`` and ``%`` signs
(the column heading says ``($)`` or ``(%)``).
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote

import pandas as pd

Format = Callable[[Any], str]

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0;
       color: #1f2933; background: #f7f8fa; }
header { background: #243b53; color: #fff; padding: 18px 32px; }
header h1 { margin: 0 0 4px; font-size: 22px; }
header p { margin: 0; opacity: .85; font-size: 13px; }
main { padding: 8px 32px 32px; max-width: 1200px; }
section { background: #fff; border: 1px solid #e4e7eb; border-radius: 6px; overflow-x: auto;
          padding: 12px 20px; margin: 16px 0; }
section.alerts { border-left: 5px solid #c0392b; }
h2 { font-size: 17px; margin: 6px 0 10px; }
p.note { color: #52606d; font-size: 12.5px; margin: 6px 0; }
table { border-collapse: collapse; font-size: 12.5px; margin: 8px 0; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e4e7eb; text-align: left; }
th { background: #f0f4f8; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; }
.card { border: 1px solid #e4e7eb; border-radius: 6px; padding: 10px 14px; min-width: 190px; }
.card .value { font-size: 24px; font-weight: 600; }
.card .goal { font-size: 12px; color: #52606d; }
.ok { color: #3a7d44; } .bad { color: #c0392b; }
figure { margin: 8px 0; } figure svg { max-width: 100%; height: auto; }
nav a { color: #cbd2d9; margin-right: 14px; font-size: 13px; }
a.csv { font-size: 12px; color: #1d4ed8; }
tr.incomplete td { color: #52606d; font-style: italic; }
"""


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value))


def percent(value: Any) -> str:
    return "" if pd.isna(value) else f"{float(value):.1%}"


def dollars(value: Any) -> str:
    return "" if pd.isna(value) else f"${float(value):,.0f}"


def integer(value: Any) -> str:
    return "" if pd.isna(value) else f"{int(value):,}"


def number(value: Any) -> str:
    return "" if pd.isna(value) else f"{float(value):,.2f}"


def date(value: Any) -> str:
    return "" if pd.isna(value) else str(pd.Timestamp(value).date())


UNITS: dict[Format, str] = {percent: " (%)", dollars: " ($)"}


def _shown(value: Any, fmt: Format | None) -> str:
    if fmt is not None:
        return fmt(value)
    return (
        ""
        if value is None or (not isinstance(value, list | tuple) and pd.isna(value))
        else (str(value))
    )


def _plain(text: str, fmt: Format | None) -> str:
    """A shown number as CSV wants it: ``$1,234`` -> ``1234``, ``12.5%`` -> ``12.5``."""
    if fmt in (percent, dollars, integer, number):
        return text.replace(",", "").replace("$", "").replace("%", "")
    return text


def csv_text(frame: pd.DataFrame, columns: Sequence[tuple[str, str, Format | None]]) -> str:
    """The table's cells as CSV: the shown values, as plain numbers."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([title + UNITS.get(fmt, "") if fmt else title for _, title, fmt in columns])
    for record in frame.to_dict(orient="records"):
        writer.writerow([_plain(_shown(record[c], fmt), fmt) for c, _, fmt in columns])
    return out.getvalue()


def table(
    frame: pd.DataFrame,
    columns: Sequence[tuple[str, str, Format | None]],
    numeric: Sequence[str] = (),
    name: str = "table",
    row_class: Callable[[dict[str, Any]], str] | None = None,
) -> str:
    """Rows of ``frame`` as a table: (column, heading, formatter) per column, and a link that
    downloads it as ``name.csv``; ``row_class`` gives a row's CSS class."""
    head = "".join(
        f'<th class="{"num" if c in numeric else ""}">{esc(title)}</th>' for c, title, _ in columns
    )
    rows = []
    for record in frame.to_dict(orient="records"):
        cells = "".join(
            f'<td class="{"num" if c in numeric else ""}">{esc(_shown(record[c], fmt))}</td>'
            for c, _, fmt in columns
        )
        css = f' class="{esc(row_class(record))}"' if row_class else ""
        rows.append(f"<tr{css}>{cells}</tr>")
    link = (
        f'<a class="csv" download="{esc(name)}.csv" '
        f'href="data:text/csv;charset=utf-8,{quote(csv_text(frame, columns))}">'
        f"Download this table as CSV ({esc(name)}.csv)</a>"
    )
    return (
        f'<table data-name="{esc(name)}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>{link}"
    )


def section(anchor: str, title: str, body: str, css_class: str = "") -> str:
    return (
        f'<section id="{esc(anchor)}" class="{esc(css_class)}"><h2>{esc(title)}</h2>'
        f"{body}</section>"
    )


def note(text: str) -> str:
    return f'<p class="note">{esc(text)}</p>'


def figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption class='note'>{esc(caption)}</figcaption></figure>"


def card(title: str, value: str, goal: str, ok: bool | None) -> str:
    state = "" if ok is None else ("ok" if ok else "bad")
    return (
        f'<div class="card"><div>{esc(title)}</div><div class="value {state}">{esc(value)}'
        f'</div><div class="goal">{esc(goal)}</div></div>'
    )


def document(title: str, subtitle: str, nav: Sequence[tuple[str, str]], body: str) -> str:
    links = "".join(f'<a href="#{esc(a)}">{esc(t)}</a>' for a, t in nav)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{esc(title)}</h1><p>{esc(subtitle)}</p><nav>{links}</nav></header>"
        f"<main>{body}</main></body></html>"
    )
