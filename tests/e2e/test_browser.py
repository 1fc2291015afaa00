"""The biller's page in a real headless Chromium: upload, sort, filter, open a claim, mark it
worked, reload and find the mark kept, dispute a reason, export, print, a failed upload, a
phone-sized screen, and an axe-core accessibility check. Screenshots go to the test's tmp dir."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture()
def page(chromium: str) -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=FLAGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        yield page
        browser.close()
        assert errors == []


def _money(text: str) -> float:
    return float(text.replace("$", "").replace(",", ""))


def _column(page: Page, n: int) -> list[str]:
    return page.locator(f"tr.claim > :nth-child({n})").all_inner_texts()


def _serious(page: Page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("async () => (await axe.run(document)).violations")
    return [v for v in found if v["impact"] in ("serious", "critical")]


def test_a_biller_works_the_queue(server, page: Page, world: Path, tmp_path: Path):
    claims = (world / "requests.jsonl").read_text().splitlines()
    page.goto(server.url + "/")
    assert "work queue" in page.title()
    page.fill("#key", server.key)
    page.dispatch_event("#key", "change")
    page.set_input_files("#file", str(world / "requests.jsonl"))
    page.click("#score")
    page.wait_for_selector("tr.claim", timeout=60_000)
    assert page.locator("tr.claim").count() == len(claims)
    assert page.evaluate("localStorage.getItem('claimrisk.key')") is None
    assert page.evaluate("sessionStorage.getItem('claimrisk.key')") == server.key
    # The PM's identifiers on every row, the most expected denied dollars first.
    first = json.loads(claims[0])
    row = page.locator(f"tr.claim[data-claim='{first['claim_id']}']")
    assert first["service_date"] in row.inner_text()
    assert first["lines"][0]["procedure_code"] in row.inner_text()
    dollars = [_money(t) for t in _column(page, 8)]
    assert dollars == sorted(dollars, reverse=True)
    page.screenshot(path=str(tmp_path / "queue.png"))
    # Sort by charge (largest first), then by service date (earliest first).
    page.click("th[data-key=charge] button")
    charges = [_money(t) for t in _column(page, 5)]
    assert charges == sorted(charges, reverse=True)
    assert page.get_attribute("th[data-key=charge]", "aria-sort") == "descending"
    page.click("th[data-key=service_date] button")
    dates = _column(page, 2)
    assert dates == sorted(dates)
    # Filter by band, then search one claim.
    page.select_option("#f-band", "low")
    bands = {t.strip().lower() for t in _column(page, 6)}
    assert bands <= {"low"}
    page.click("#clear")
    page.wait_for_function(f"document.querySelectorAll('tr.claim').length === {len(claims)}")
    target = page.locator("tr.claim").first.get_attribute("data-claim")
    assert target
    page.fill("#search", target)
    assert page.locator("tr.claim").count() >= 1
    assert target in page.locator("tr.claim").first.inner_text()
    # Open it (keyboard), read its reasons, mark it fixed.
    page.focus(f"[data-open='{target}']")
    page.keyboard.press("Enter")
    details = page.locator("tr.details")
    details.wait_for()
    assert "log-odds" not in details.inner_text()
    page.click("tr.details button:has-text('Mark fixed')")
    page.wait_for_selector(f"tr.claim.fixed[data-claim='{target}']")
    assert "fixed · e2e ·" in page.locator(f"tr.claim[data-claim='{target}']").inner_text()
    page.screenshot(path=str(tmp_path / "marked.png"), full_page=False)
    # Reload: same tab, same key; the last batch comes back with the mark kept on the server.
    page.reload()
    page.wait_for_selector(f"tr.claim.fixed[data-claim='{target}']", timeout=30_000)
    # Export what is shown: only the fixed claims.
    page.select_option("#f-status", "fixed")
    with page.expect_download() as download:
        page.click("#export")
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert [r["claim_id"] for r in rows] == [target]
    assert rows[0]["status"] == "fixed" and rows[0]["status_by"] == "e2e"
    # Print: a work list without the key field or the controls.
    page.emulate_media(media="print")
    assert not page.is_visible("#key") and not page.is_visible("#filters")
    assert page.is_visible("#queue")
    page.screenshot(path=str(tmp_path / "print.png"), full_page=True)
    page.emulate_media(media="screen")
    page.click("#clear")
    assert all(p.stat().st_size > 10_000 for p in tmp_path.glob("*.png"))


def test_a_reason_can_be_disputed_and_the_page_passes_axe(server, page: Page, world: Path):
    page.goto(server.url + "/")
    page.fill("#key", server.key)
    page.set_input_files("#file", str(world / "requests.jsonl"))
    page.click("#score")
    page.wait_for_selector("tr.claim", timeout=60_000)
    page.select_option("#f-band", "high")
    page.locator("button.open").first.click()
    page.locator("tr.details form.disagree input").first.fill("the payer does not require it")
    page.locator("tr.details form.disagree button").first.click()
    page.wait_for_selector("tr.details >> text=Disputed by e2e")
    assert "the payer does not require it" in page.inner_text("tr.details")
    assert _serious(page) == []
    page.reload()  # the dispute is on the server: the reopened claim shows it, not the form
    page.wait_for_selector("tr.claim", timeout=30_000)
    page.select_option("#f-band", "high")
    page.locator("button.open").first.click()
    page.wait_for_selector("tr.details >> text=Disputed by e2e")


def test_a_failed_upload_clears_the_queue_and_a_bad_claim_is_answered_in_place(
    server, page: Page, world, tmp_path
):
    page.goto(server.url + "/")
    page.fill("#key", server.key)
    page.set_input_files("#file", str(world / "requests.jsonl"))
    page.click("#score")
    page.wait_for_selector("tr.claim", timeout=60_000)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    page.set_input_files("#file", str(empty))
    page.click("#score")
    page.wait_for_selector("#status.error")
    assert page.locator("tr.claim").count() == 0 and not page.is_visible("#work")
    # A claim that cannot be read is answered in its place; the readable one is scored.
    mixed = tmp_path / "mixed.jsonl"
    first = (world / "requests.jsonl").read_text().splitlines()[0]
    mixed.write_text('{"claim_id": "BROKEN-1"}\n' + first + "\n")
    page.set_input_files("#file", str(mixed))
    page.click("#score")
    page.wait_for_selector("tr.claim", timeout=60_000)
    assert page.locator("tr.claim").count() == 2
    assert "not scored" in page.inner_text("#queue")
    page.fill("#key", "crk_wrong")
    page.click("#last")
    page.wait_for_function("document.querySelector('#status').textContent.startsWith('401')")


def test_a_phone_screen_does_not_overflow(server, page: Page, world: Path, tmp_path: Path):
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(server.url + "/")
    page.fill("#key", server.key)
    page.set_input_files("#file", str(world / "requests.jsonl"))
    page.click("#score")
    page.wait_for_selector("tr.claim", timeout=60_000)
    page.locator("button.open").first.click()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375
    page.screenshot(path=str(tmp_path / "phone.png"))
    assert _serious(page) == []


def test_the_page_works_under_a_strict_content_security_policy(server, chromium, world):
    """Everything the page runs and styles comes from its own files: `default-src 'self'`."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=FLAGS)
        page = browser.new_page()
        blocked: list[str] = []
        page.on("console", lambda m: blocked.append(m.text) if "Content Security" in m.text else 0)

        def strict(route) -> None:
            response = route.fetch()
            headers = {**response.headers, "content-security-policy": "default-src 'self'"}
            route.fulfill(response=response, headers=headers)

        page.route(server.url + "/", strict)
        page.goto(server.url + "/")
        page.fill("#key", server.key)
        page.set_input_files("#file", str(world / "requests.jsonl"))
        page.click("#score")
        page.wait_for_selector("tr.claim", timeout=60_000)
        page.locator("button.open").first.click()
        page.locator("tr.details").wait_for()
        assert page.evaluate("getComputedStyle(document.body).margin") == "0px"  # CSS applied
        browser.close()
    assert blocked == []


SYNTHETIC = """async (count) => {
  const reason = {category: "authorization", title: "Authorization missing", contribution: 1.2,
                  evidence: ["no authorization on file"], action: "Obtain it.", what_if: null};
  const results = [], claims = [];
  for (let i = 0; i < count; i++) {
    results.push({claim_id: "S" + i, denial_probability: 0.5, risk_band: "medium",
                  expected_denied_dollars: count - i, reasons: [reason], not_checked: [],
                  model: {}});
    claims.push({claim_id: "S" + i, service_date: "2026-01-02", payer_id: "P1",
                 payer_name: "Plan One", procedure_codes: ["99213"], total_charge: 100});
  }
  window.fetch = async () => ({ok: false, status: 404, json: async () => ({detail: "none"})});
  await show({model: {name: "m", version: "1"}, results, claims});
}"""


def test_a_long_queue_is_drawn_a_page_at_a_time(server, page: Page):
    """10,000 rows took a second to draw on every keystroke: 500 at a time, export takes all."""
    page.goto(server.url + "/")
    page.evaluate(SYNTHETIC, 1200)
    assert page.locator("tr.claim").count() == 500
    assert "first 500 of 1200 matching" in page.inner_text("#shown")
    page.click("tr.more button")
    assert page.locator("tr.claim").count() == 1000
    with page.expect_download() as download:
        page.click("#export")
    assert len(Path(download.value.path()).read_text().splitlines()) == 1 + 1200
    page.fill("#search", "S119")  # S119, S1190..S1199
    page.wait_for_function("document.querySelectorAll('tr.claim').length === 11")
