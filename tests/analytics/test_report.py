"""The HTML report: self-contained, patterns first, free of patient identifiers, and it opens
in a real headless Chromium without page errors."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import sync_playwright

from analytics.detection import PolicyChange
from analytics.report import build_report
from features.history import History
from scoring.artifact import ClaimRiskModel

SCREENSHOTS = Path(__file__).parents[1] / "_artifacts"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def change(world: Path) -> PolicyChange:
    return PolicyChange.from_world(world / "world.json")


@pytest.fixture(scope="module")
def report(history: History, analytics_model: ClaimRiskModel, change: PolicyChange) -> str:
    """The report as it stood five weeks after the injected policy change."""
    return build_report(history, analytics_model, as_of=(change.effective + pd.Timedelta(days=35)))


def test_sections_in_order_with_emerging_patterns_first(report: str):
    anchors = re.findall(r'<section id="([a-z-]+)"', report)
    assert anchors[0] == "patterns"
    assert anchors == [
        "patterns", "first-pass", "trend", "categories", "root-causes", "payers", "codes",
        "providers", "lag", "model",
    ]  # fmt: skip
    assert report.count("<svg") == 6


def test_the_injected_change_heads_the_report(report: str, change: PolicyChange):
    patterns = report[report.index('<section id="patterns"') : report.index('id="first-pass"')]
    first_row = re.search(r"<tbody><tr><td[^>]*>([^<]+)</td>", patterns)
    assert first_row is not None
    assert first_row.group(1) == f"payer {change.payer_id} x code {change.procedure_code}"
    assert "to " + str((change.effective + pd.Timedelta(days=35)).date()) in patterns


def test_self_contained(report: str):
    assert "<script" not in report
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", report)
    assert "<link" not in report
    assert 'xlink:href="http' not in report


def test_no_patient_identifiers(report: str, history: History):
    claims = history.claims.sample(300, random_state=0)
    for column in ("member_id", "patient_id", "claim_id"):
        leaked = [value for value in claims[column] if value in report]
        assert not leaked, f"{column} in the report: {leaked[:3]}"
    births = claims["patient_birth_date"].dropna().dt.strftime("%Y-%m-%d")
    assert not [b for b in births if b in report]
    diagnoses = {d for codes in claims["diagnosis_codes"] for d in codes if len(d) >= 5}
    assert not [d for d in diagnoses if re.search(rf"\b{re.escape(d)}\b", report)]


@pytest.mark.e2e
def test_report_opens_in_chromium(report: str, tmp_path: Path):
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.fail("Chromium is not installed: `make browser` installs Debian's chromium")
    page_file = tmp_path / "report.html"
    page_file.write_text(report)
    SCREENSHOTS.mkdir(exist_ok=True)
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("requestfailed", lambda request: errors.append(f"failed {request.url}"))
        page.goto(page_file.as_uri())
        assert page.title() == "Denial analytics"
        assert page.locator("section#patterns h2").inner_text() == "Emerging patterns"
        assert page.locator("section svg").count() == 6
        page.screenshot(path=str(SCREENSHOTS / "report.png"), full_page=False)
        browser.close()
    assert errors == []
    assert (SCREENSHOTS / "report.png").stat().st_size > 10_000
