"""The live page as the on-call engineer meets it: the real demo during ``error_burst``, in
headless Chromium at 1400x1000 and 390x844. Without scrolling on the laptop screen it shows that
errors rose (the error chart, its threshold), when (local-time axes) and on which route (the
route table, worst first); the header says which service and how many workers; the market feed
has its own panel with per-pair latency; nothing overflows at 390 px; text passes WCAG AA."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.test_demo_page import CONTRAST
from tests.integration.test_demo import DemoProcess, post

WAIT_MS = 20_000
SIZES = {"laptop": (1400, 1000), "phone": (390, 844)}
CLOCK = re.compile(r"^\d{1,2}:\d{2}(:\d{2})?(\s?[AP]M)?$")
AGO = re.compile(r"^(just now|\d+ s ago|\d+ min ago)$")


@pytest.fixture(scope="module")
def demo() -> Iterator[dict[str, str]]:
    """The demo with an error burst running: its dashboard URL and tokens."""
    process = DemoProcess(
        ["--flask-port", "0", "--api-port", "0", "--seed", "3", "--duration", "120"], {}
    )
    try:
        url = process.wait_for(r"dashboard \(Flask \+ Socket\.IO\)\s+(http://127\.0\.0\.1:\d+)/")[1]
        found = {"url": url, "read": process.wait_for(r"READ=(\S+)")[1]}
        admin = process.wait_for(r"ADMIN=(\S+)")[1]
        assert post(f"{url}/api/demo/scenarios/error_burst?duration=100", admin) == 202
        yield found
    finally:
        code = process.stop()
    assert code == 0, process.output


def open_live_page(browser: Browser, demo: dict[str, str], size: tuple[int, int]) -> Page:
    width, height = size
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.problems = []  # type: ignore[attr-defined]

    def on_console(message: Any) -> None:
        if message.type == "error" and "status of 401" not in message.text:
            page.problems.append(f"console: {message.text}")  # type: ignore[attr-defined]

    page.on("console", on_console)
    page.on("pageerror", lambda error: page.problems.append(f"page error: {error}"))
    page.goto(demo["url"] + "/api/metrics/dashboard")
    page.get_by_label("API token").fill(demo["read"])
    page.get_by_role("button", name="Connect").click()
    expect(page.locator("body")).to_have_attribute("data-mode", "live", timeout=WAIT_MS)
    return page


def server_errors(page: Page) -> list[float]:
    cells = page.locator("#routes-body tr td:nth-child(4)").all_text_contents()
    return [float(text.replace(",", "")) for text in cells]


def check_what_is_failing(page: Page) -> None:
    """The failing route first, its 5xx cell marked; the column sorted worst first."""
    first = page.locator("#routes-body tr").first.locator("td").nth(3)
    expect(first).to_have_class(re.compile(r"\bbad\b"), timeout=WAIT_MS)
    found = server_errors(page)
    assert found[0] > 5 and found == sorted(found, reverse=True), found
    route = page.locator("#routes-body tr").first.locator("td").first.text_content()
    assert route and route.startswith("/"), route


def check_time(page: Page) -> None:
    for chart in ("errors", "request-rate", "latency", "resources"):
        labels = page.locator(f"#chart-{chart} text.time").all_text_contents()
        assert len(labels) == 4 and all(CLOCK.match(label) for label in labels), labels
    assert page.locator("#chart-errors line.threshold").count() == 1
    assert page.locator("#chart-latency line.threshold").count() == 1
    thresholds = page.locator("#chart-resources text.threshold-label").all_text_contents()
    assert "memory" in " ".join(thresholds) and "CPU" in " ".join(thresholds), thresholds
    updated = page.locator("#last-update")
    expect(updated).to_have_text(AGO, timeout=WAIT_MS)
    assert updated.get_attribute("title")  # the full local time on hover


def check_identity_and_feed(page: Page) -> None:
    expect(page.locator("#page-title")).to_have_text("otelmetrics-demo · live metrics")
    expect(page.locator("#identity")).to_contain_text("1 worker")
    expect(page.locator("#identity")).to_contain_text("pid ")
    expect(page.locator("#feed-panel")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#pairs-body tr").first).to_contain_text("-USD", timeout=WAIT_MS)
    latency = page.locator("#pairs-body tr").first.locator("td").nth(3).text_content()
    assert latency and float(latency.replace(",", "")) > 0, latency
    assert page.locator("#breakers-body tr").count() >= 1


@pytest.mark.parametrize("size", SIZES, ids=list(SIZES))
def test_during_an_error_burst_the_page_says_what_when_and_where(browser, demo, size, artifacts):
    page = open_live_page(browser, demo, SIZES[size])
    check_what_is_failing(page)
    check_time(page)
    check_identity_and_feed(page)
    expect(page.locator("#clients-card")).to_be_hidden()  # the demo makes no outgoing calls
    expect(page.locator("#card-error-rate")).to_have_attribute("data-state", "alert")
    if size == "laptop":  # errors rose, when and where: all above the fold
        for selector in ("#card-error-rate", "#chart-errors", "#routes-body tr >> nth=0"):
            box = page.locator(selector).bounding_box()
            assert box is not None and box["y"] + box["height"] <= 1000, (selector, box)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= SIZES[size][0], f"{width} px wide at {SIZES[size][0]}"
    assert page.evaluate(CONTRAST) == []
    page.screenshot(path=str(artifacts / f"live-page-{size}.png"), full_page=True)
    assert page.problems == []  # type: ignore[attr-defined]
    page.context.close()


def test_the_route_table_sorts_and_the_charts_switch_resolution(browser, demo):
    page = open_live_page(browser, demo, SIZES["laptop"])
    check_what_is_failing(page)
    heading = page.locator('#routes-table th[data-key="latency_p99_ms"]')
    heading.get_by_role("button").click()
    expect(heading).to_have_attribute("aria-sort", "descending")
    p99 = page.locator("#routes-body tr td:nth-child(7)").all_text_contents()
    values = [float(text.replace(",", "")) for text in p99]
    assert values == sorted(values, reverse=True), values
    hourly = page.get_by_role("button", name="1 h · 1 min")
    hourly.focus()
    page.keyboard.press("Enter")  # keyboard reachable
    expect(hourly).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_role("button", name="15 min · 5 s")).to_have_attribute(
        "aria-pressed", "false"
    )
    labels = page.locator("#chart-errors text.time").all_text_contents()
    assert all(CLOCK.match(label) for label in labels), labels
    page.context.close()
