"""The demo's own ``/`` page in headless Chromium against the real ``otelmetrics demo`` process.

At 1400x1000 and 390x844: prices, portfolio, positions and trading status are tables with
header cells and captions; P&L carries a sign and an up/down class; the breaker shows its state
and its last trip in human time; the live-page link answers; nothing overflows at 390 px; text
passes WCAG AA contrast in both colour schemes; and through an error burst the page keeps its
last values and says since when they are stale.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.integration.test_demo import DemoProcess, post

WAIT_MS = 20_000
SIZES = {"desktop": (1400, 1000), "phone": (390, 844)}
SIGNED = re.compile(r"^[+-]\d{1,3}(,\d{3})*\.\d{2}$")
COUNT = re.compile(r"^\d{1,3}(,\d{3})*$")
AGO = re.compile(r"^(\d+\s(s|min) ago|\d+\sh \d+\smin ago|just now)$")
# Each text element's colour against the first opaque background behind it (WCAG 2 formula).
CONTRAST = """() => {
  const rgb = (c) => c.match(/[\\d.]+/g).map(Number);
  const lum = (c) => {
    const [r, g, b] = rgb(c).slice(0, 3).map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const behind = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = getComputedStyle(e).backgroundColor, parts = rgb(c);
      if (parts.length < 4 || parts[3] > 0) return c;
    }
    return "rgb(255, 255, 255)";
  };
  const low = [];
  for (const el of document.querySelectorAll("h1, h2, p, caption, th, td, a, span, time")) {
    if (!el.textContent.trim() || el.getClientRects().length === 0) continue;
    const [fg, bg] = [lum(getComputedStyle(el).color), lum(behind(el))];
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    if (ratio < 4.5) low.push(`${el.tagName} "${el.textContent.trim().slice(0, 30)}" ${ratio}`);
  }
  return low;
}"""


@pytest.fixture(scope="module")
def demo() -> Iterator[tuple[str, str]]:
    """The demo process (its URL and admin token); the breaker trips a few seconds in."""
    process = DemoProcess(
        [
            *("--flask-port", "0", "--api-port", "0", "--seed", "3", "--duration", "90"),
            *("--scenario", "breaker_trip", "--at", "2", "--for", "3"),
        ],
        {},
    )
    try:
        url = process.wait_for(r"dashboard \(Flask \+ Socket\.IO\)\s+(http://127\.0\.0\.1:\d+)/")[1]
        admin = process.wait_for(r"ADMIN=(\S+)")[1]
        yield url, admin
    finally:
        code = process.stop()
    assert code == 0, process.output
    assert "Traceback" not in process.output, process.output


def open_page(browser: Browser, url: str, size: tuple[int, int], **options: Any) -> Page:
    """A fresh page on ``/``; ``page.problems`` collects console errors and page errors."""
    width, height = size
    context = browser.new_context(viewport={"width": width, "height": height}, **options)
    page = context.new_page()
    page.problems = []  # type: ignore[attr-defined]
    page.requested = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda error: page.problems.append(f"page error: {error}"))
    page.on("request", lambda request: page.requested.append(request.url))

    def on_console(message: Any) -> None:
        if message.type == "error":
            page.problems.append(f"console: {message.text}")

    page.on("console", on_console)
    response = page.goto(url + "/")
    assert response is not None and response.status == 200
    assert "script-src 'sha256-" in response.headers["content-security-policy"]
    return page


def header_texts(page: Page, table: str) -> list[str]:
    return [text.strip() for text in page.locator(f"#{table} thead th").all_text_contents()]


def check_signed(cell: Any) -> None:
    """A P&L cell: a sign and up/down, or exactly zero and flat."""
    text, classes = cell.text_content().strip(), cell.get_attribute("class")
    number = text.split("\u00a0")[0]
    if number == "0.00":
        assert "flat" in classes, (text, classes)
    else:
        assert SIGNED.match(number), text
        assert ("up" if number[0] == "+" else "down") in classes.split(), (text, classes)


def check_tables(page: Page) -> None:
    for table in ("prices", "portfolio", "positions", "status"):
        assert page.locator(f"#{table} caption").text_content().strip(), table
        assert page.locator(f"#{table} tbody tr").count() >= 1, table
    assert header_texts(page, "prices") == ["Pair", "Mid", "Change", "Bid", "Ask", "Spread"]
    assert header_texts(page, "portfolio") == ["Measure", "Value"]
    assert header_texts(page, "positions") == [
        *("Symbol", "Side", "Quantity", "Entry", "Mark", "Unrealized P&L", "Return"),
        *("Notional", "Held"),
    ]
    pairs = page.locator("#prices tbody th").all_text_contents()
    assert pairs == ["BTC-USD", "ETH-USD", "SOL-USD"]
    btc_mid = page.locator("#prices tbody tr").first.locator("td").first.text_content()
    assert re.match(r"^\d{2},\d{3}\.\d{2}$", btc_mid), btc_mid  # 65,012.34
    for change in page.locator("#prices td.change").all():
        text, classes = change.text_content(), change.get_attribute("class")
        assert (
            text.startswith("▲ +")
            and "up" in classes
            or (text.startswith("▼ -") and "down" in classes or "flat" in classes)
        ), (text, classes)


def check_portfolio(page: Page) -> None:
    rows = dict(
        zip(
            page.locator("#portfolio tbody th").all_text_contents(),
            page.locator("#portfolio tbody td").all(),
            strict=True,
        )
    )
    for label in ("Total P&L", "Realized P&L", "Unrealized P&L"):
        check_signed(rows[label])
    for label in ("Open positions", "Orders sent"):
        assert COUNT.match(rows[label].text_content()), label  # no stray ".0"
    for cell in page.locator("#positions tbody .pnl").all():
        check_signed(cell)


def check_breaker(page: Page) -> None:
    breaker = page.locator('#status tr[data-breaker="kraken-api"]')
    assert breaker.locator(".badge").text_content() in ("● Closed", "✕ Open", "◐ Half-open")
    when = breaker.locator("time.last-trip")
    expect(when).to_have_text(AGO, timeout=WAIT_MS)  # the trip at about 4 s
    assert when.get_attribute("title")  # the full local time on hover
    datetime.fromisoformat(when.get_attribute("datetime").replace("Z", "+00:00"))


@pytest.mark.parametrize("size", SIZES)
def test_the_page_shows_prices_portfolio_positions_and_the_breaker(browser, demo, artifacts, size):
    url, _ = demo
    page = open_page(browser, url, SIZES[size], locale="en-US")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "width=device-width" in page.locator('meta[name="viewport"]').get_attribute("content")
    expect(page.locator("#prices tbody th")).to_have_count(3, timeout=WAIT_MS)
    expect(page.locator("#positions tbody th").first).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#portfolio .pnl:is(.up, .down)").first).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#prices .change:is(.up, .down)").first).to_be_visible(timeout=WAIT_MS)
    check_breaker(page)
    check_tables(page)
    check_portfolio(page)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.keyboard.press("Tab")  # the first stop is the live-page link, with a visible ring
    focused = page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement);"
        " return [document.activeElement.id, s.outlineStyle, s.outlineWidth]; })()"
    )
    assert focused == ["live-link", "solid", "3px"]
    page.keyboard.press("Shift+Tab")
    page.screenshot(path=str(artifacts / f"demo-page-{size}.png"), full_page=True)
    assert page.problems == []
    assert all(u.startswith(url) or u.startswith("data:") for u in page.requested)
    with page.expect_navigation() as navigation:
        page.get_by_role("link", name="Live metrics page").click()
    assert navigation.value is not None and navigation.value.status == 200
    assert page.url == url + "/api/metrics/dashboard"
    page.context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_passes_wcag_aa_contrast(browser, demo, scheme):
    url, _ = demo
    page = open_page(browser, url, SIZES["desktop"], color_scheme=scheme)
    expect(page.locator("#status .badge").first).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#portfolio .pnl:is(.up, .down)").first).to_be_visible(timeout=WAIT_MS)
    assert page.evaluate(CONTRAST) == []
    assert page.problems == []
    page.context.close()


def test_an_error_burst_keeps_the_last_values_and_says_they_are_stale(browser, demo):
    url, admin = demo
    page = open_page(browser, url, SIZES["phone"], locale="en-US")
    expect(page.locator("#prices tbody th")).to_have_count(3, timeout=WAIT_MS)
    stale = page.locator("#stale")
    expect(stale).to_be_hidden()
    assert post(f"{url}/api/demo/scenarios/error_burst?duration=8", admin) == 202
    ends = time.monotonic() + 8
    expect(stale).to_be_visible(timeout=WAIT_MS)
    expect(stale).to_contain_text(re.compile(r"Stale since \d{1,2}:\d{2}:\d{2}.*HTTP 500"))
    expect(page.locator("#prices tbody th")).to_have_count(3)  # the last values stay
    expect(page.locator("#portfolio tbody th")).not_to_have_count(0)
    page.wait_for_timeout(max(0.0, ends - time.monotonic()) * 1000)
    expect(stale).to_be_hidden(timeout=WAIT_MS)  # the burst is over: fresh again
    # Chromium logs each 500 as a failed resource load; nothing else may go wrong.
    assert [p for p in page.problems if "status of 500" not in p] == []
    page.context.close()
