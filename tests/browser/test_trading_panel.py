"""The live page's trading panel and circuit-breaker banner in real headless Chromium, against a
real server on 127.0.0.1: the panel shows what the trading calls recorded (from
``/dashboard-data`` and the SSE feed event), and the banner appears after a breaker trip and
clears itself after a short configured window (``?breaker_window=<seconds>``)."""

from __future__ import annotations

import secrets
import time

import pytest
from playwright.sync_api import Page, expect

import otelmetrics
from otelmetrics.settings import DEFAULT_THRESHOLDS
from tests.integration.api_apps import FRAMEWORKS, make_app, serve

THRESHOLDS = {**DEFAULT_THRESHOLDS, "cpu_usage_pct": 1000.0, "memory_usage_pct": 1000.0}
WAIT_MS = 15_000
WINDOW_S = 2  # the banner's window in these tests (60 s in production)


@pytest.fixture(params=FRAMEWORKS)
def live(request):
    """A real server (threaded Werkzeug or uvicorn), its handle and the token its API wants."""
    token = secrets.token_urlsafe()
    handle = otelmetrics.configure(
        exporters=("prometheus",),
        set_global=False,
        api_token=token,
        sse_interval=0.25,
        sse_feed_venue="kraken",
        thresholds=THRESHOLDS,
    )
    server = serve(request.param, make_app(request.param, handle))
    yield request.param, server.url, token, handle
    server.close()
    handle.shutdown()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 1100})
    page = context.new_page()
    problems: list[str] = []

    def on_console(message):
        if message.type == "error" and "status of 401" not in message.text:
            problems.append(f"console: {message.text}")  # 401s: the token prompt expects them

    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", on_console)
    page.problems = problems
    yield page
    context.close()


def open_page(page: Page, url: str, token: str, query: str = "") -> None:
    page.goto(f"{url}/api/metrics/dashboard{query}")
    expect(page.locator("body")).to_have_attribute("data-mode", "auth", timeout=WAIT_MS)
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Connect").click()
    expect(page.locator("body")).to_have_attribute("data-mode", "live", timeout=WAIT_MS)


def trade(handle):
    t = handle.trading
    for _ in range(4):
        t.order_placed("BTC-USD", "buy", "limit", venue="kraken")
    for _ in range(3):
        t.order_filled("BTC-USD", "buy", "limit", venue="kraken", latency=0.04)
    t.order_rejected("BTC-USD", "buy", "limit", venue="kraken")
    for _ in range(3):
        t.position_opened("BTC-USD")
    t.position_closed("BTC-USD", 20.0, venue="kraken")
    t.position_closed("BTC-USD", -7.5, venue="kraken")
    for ms in range(1, 101):
        t.feed_message("kraken", "BTC-USD", ms / 1000)
    t.feed_status("kraken", False)
    t.feed_status("kraken", True)
    t.feed_trade("kraken", "BTC-USD", 42)


def test_the_trading_panel_shows_the_recorded_values(page, live, artifacts):
    framework, url, token, handle = live
    trade(handle)
    open_page(page, url, token)
    panel = page.locator("#trading-panel")
    expect(panel).to_be_visible(timeout=WAIT_MS)
    expected = {
        "#trading-pnl": "+12.50",  # signed
        "#trading-currency": "USD",
        "#trading-win-rate": "50.0",
        "#trading-wins": "1",
        "#trading-losses": "1",
        "#trading-orders": "4",
        "#trading-orders-filled": "3",
        "#trading-orders-failed": "1",
        "#trading-open-positions": "1",
        "#trading-reconnects": "1",
        "#trading-trades-per-min": "42",  # the market's volume: whole trades
        "#trading-ws-status": "connected",
    }
    for selector, text in expected.items():
        expect(page.locator(selector)).to_have_text(text, timeout=WAIT_MS)
    p50 = float(page.locator("#trading-latency-p50").inner_text())
    p99 = float(page.locator("#trading-latency-p99").inner_text())
    assert p50 == pytest.approx(50, rel=0.02) and p99 == pytest.approx(99, rel=0.02)
    expect(page.locator("#circuit-breaker-banner")).to_be_hidden()
    # the market feed has its own panel, per pair; the user's orders stay in theirs
    expect(page.locator("#feed-panel")).to_be_visible()
    expect(page.locator("#pairs-body tr")).to_have_count(1)
    expect(page.locator("#pairs-body tr td").first).to_have_text("BTC-USD")
    expect(panel.locator("#trading-trades-per-min")).to_have_count(0)

    # the SSE feed event moves the feed figures without a reload
    for _ in range(300):
        handle.trading.feed_message("kraken", "BTC-USD", 0.900)
    p99_now = handle.feed_latency.percentiles("kraken")["latency_p99_ms"]
    assert p99_now == pytest.approx(900, rel=0.01)
    expect(page.locator("#trading-latency-p99")).to_have_text(f"{p99_now:.1f}", timeout=WAIT_MS)
    handle.trading.feed_reconnect("kraken")
    expect(page.locator("#trading-reconnects")).to_have_text("2", timeout=WAIT_MS)
    page.screenshot(path=str(artifacts / f"trading-panel-{framework}.png"), full_page=True)
    assert page.problems == []


def test_the_banner_appears_after_a_trip_and_clears_after_the_window(page, live, artifacts):
    framework, url, token, handle = live
    open_page(page, url, token, f"?breaker_window={WINDOW_S}")
    banner = page.locator("#circuit-breaker-banner")
    expect(page.locator("#trading-panel")).to_be_visible(timeout=WAIT_MS)
    expect(banner).to_be_hidden()

    handle.trading.breaker_trip("kraken-feed")
    expect(banner).to_be_visible(timeout=WAIT_MS)
    shown = time.monotonic()
    expect(banner).to_have_attribute("data-trips", "1")
    expect(banner).to_contain_text("Circuit breaker tripped")
    expect(banner).to_contain_text("kraken-feed", timeout=WAIT_MS)  # named by /dashboard-data
    page.screenshot(path=str(artifacts / f"breaker-banner-{framework}.png"), full_page=True)
    expect(banner).to_be_hidden(timeout=WAIT_MS)
    assert time.monotonic() - shown >= WINDOW_S - 0.5  # not before the window is over

    handle.trading.breaker_trip("kraken-feed")  # a second trip shows it again
    expect(banner).to_be_visible(timeout=WAIT_MS)
    expect(banner).to_have_attribute("data-trips", "2")
    expect(banner).to_be_hidden(timeout=WAIT_MS)
    assert page.problems == []


def test_a_recent_trip_before_the_page_opened_shows_the_banner(page, live):
    _, url, token, handle = live
    handle.trading.breaker_trip("kraken-orders")
    open_page(page, url, token, "?breaker_window=60")
    banner = page.locator("#circuit-breaker-banner")
    expect(banner).to_be_visible(timeout=WAIT_MS)
    expect(banner).to_contain_text("kraken-orders")
    expect(banner).to_contain_text("clears 60 s after the last trip")


def test_an_old_trip_shows_no_banner(page, live):
    _, url, token, handle = live
    handle.trading.clock = lambda: time.time() - 120  # the trip happened two minutes ago
    handle.trading.breaker_trip("kraken-orders")
    handle.trading.clock = time.time
    open_page(page, url, token, "?breaker_window=60")
    expect(page.locator("#trading-panel")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#circuit-breaker-banner")).to_have_attribute("data-trips", "1")
    expect(page.locator("#circuit-breaker-banner")).to_be_hidden()
