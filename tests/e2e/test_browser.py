"""The biller's page in a real headless Chromium: upload a batch, open a claim's reasons."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import sync_playwright

SCREENSHOTS = Path(__file__).parents[1] / "_artifacts"
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


def test_work_queue_in_chromium(server, chromium: str, world: Path):
    SCREENSHOTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(server.url + "/")
        assert "work queue" in page.title()
        page.fill("#key", server.key)
        page.set_input_files("#file", str(world / "requests.jsonl"))
        page.click("#score")
        page.wait_for_selector("tr.claim", timeout=60_000)
        rows = page.locator("tr.claim")
        assert rows.count() == len((world / "requests.jsonl").read_text().splitlines())
        dollars = [
            float(t.replace("$", "").replace(",", ""))
            for t in page.locator("tr.claim td:nth-child(4)").all_inner_texts()
        ]
        assert dollars == sorted(dollars, reverse=True)
        rows.first.click()
        details = page.locator("tr.details")
        details.wait_for()
        assert "Action:" in details.inner_text()
        page.screenshot(path=str(SCREENSHOTS / "work_queue.png"), full_page=False)
        page.click("#last")
        page.wait_for_selector("tr.claim")
        page.fill("#key", "crk_wrong")
        page.click("#last")
        page.wait_for_selector("#status.error")
        assert "401" in page.inner_text("#status")
        browser.close()
    assert errors == []
    assert (SCREENSHOTS / "work_queue.png").stat().st_size > 10_000
