"""What makes the report trustworthy: incomplete months kept out of the trend, no rate from a
handful of claims, names and code meanings beside ids, and CSV downloads equal to the tables."""

from __future__ import annotations

import csv
import io
from html import escape
from html.parser import HTMLParser
from urllib.parse import unquote

import pandas as pd
import pytest

from analytics import kpis
from analytics.adjustment_codes import CARC, carc_description
from analytics.report import build_report, rate_section, trend_section
from features.history import History
from features.rules import RULES
from simulator.payers import PAYERS


class Tables(HTMLParser):
    """Every table's shown cells and the CSV its download link carries."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict] = []
        self._cell: list[str] | None = None
        self._row: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        found = dict(attrs)
        if tag == "table":
            self.tables.append({"name": found.get("data-name"), "rows": [], "csv": None})
        elif tag == "tr" and self.tables:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "a" and found.get("class") == "csv":
            self.tables[-1]["csv"] = unquote(found["href"].split(",", 1)[1])

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1]["rows"].append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture(scope="module")
def page(history: History) -> str:
    return build_report(history)


def test_every_table_downloads_as_the_csv_of_its_shown_numbers(page: str):
    parser = Tables()
    parser.feed(page)
    assert len(parser.tables) >= 7
    for table in parser.tables:
        assert table["csv"] is not None, table["name"]
        rows = list(csv.reader(io.StringIO(table["csv"])))
        assert len(rows) == len(table["rows"]), table["name"]
        for shown, downloaded in zip(table["rows"][1:], rows[1:], strict=True):
            plain = [c.replace(",", "").replace("$", "").replace("%", "") for c in shown]
            numeric = [c.replace(".", "", 1).lstrip("-").isdigit() for c in downloaded]
            assert [p if n else s for p, s, n in zip(plain, shown, numeric, strict=True)] == (
                downloaded
            ), table["name"]


def test_an_incomplete_last_month_is_marked_and_left_out_of_the_trend(claims: pd.DataFrame):
    last = claims["submission_date"].max().to_period("M")
    recent = claims["submission_date"].dt.to_period("M") == last
    pending = claims.assign(adjudicated=claims["adjudicated"] & ~recent)
    html = trend_section(pending)
    chart, table = html.split("<figcaption", 1)
    month = str(last)
    assert month not in chart
    assert month in table and "incomplete: 100% pending" in table
    monthly = kpis.monthly_denial_rate(pending)
    assert not monthly["complete"].iloc[-1] and monthly["complete"].iloc[:-2].all()


def test_a_one_claim_provider_gets_no_rate_and_no_bar(claims: pd.DataFrame):
    lone = claims.iloc[[0]].assign(
        provider_npi="1999999999", total_charge=1e6, denied=True, adjudicated=True
    )
    frame = kpis.denial_rate_by(pd.concat([claims, lone]), "provider_npi")
    html = rate_section(frame, "providers", "By provider", "provider_npi", "NPI")
    chart, table = html.split("</figure>", 1)
    assert "1999999999" not in chart
    parser = Tables()
    parser.feed(table)
    row = next(r for r in parser.tables[0]["rows"] if r[0] == "1999999999")
    assert row[1:6] == ["1", "1", "0", "1", ""]  # submitted, adjudicated, pending, denied; no rate
    assert "at least 20 adjudicated claims" in html


def test_payers_carry_their_names_and_carcs_their_meanings(page: str):
    payers = page[page.index('<section id="payers"') : page.index('<section id="codes"')]
    cell = '<td class="">{}</td>'.format
    shown = [p for p in PAYERS if cell(p.payer_id) in payers]
    assert shown and all(cell(p.payer_id) + cell(escape(p.name)) in payers for p in shown)
    causes = page[page.index('<section id="root-causes"') : page.index('<section id="payers"')]
    assert "CARC meaning" in causes and "RARC meaning" in causes
    for rule in RULES.values():
        for carc in rule.carcs:
            assert carc_description(carc), f"CARC {carc} of {rule.category} has no description"
    assert set(CARC) >= {"45", "253", "A2", "1", "2", "3"}
