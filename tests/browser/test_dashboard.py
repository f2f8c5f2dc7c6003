"""The live page in real headless Chromium against a real server on 127.0.0.1: it asks for a
token, then its KPI cards follow the traffic, the error card turns red after an error burst,
and it falls back to polling when the event stream is unavailable."""

from __future__ import annotations

import re
import secrets

import httpx
import pytest
from playwright.sync_api import Page, expect

import otelmetrics
from otelmetrics.settings import DEFAULT_THRESHOLDS
from tests.integration.api_apps import FRAMEWORKS, make_app, serve

# The process's own CPU and memory are not under test; keep their thresholds out of the way.
THRESHOLDS = {**DEFAULT_THRESHOLDS, "cpu_usage_pct": 1000.0, "memory_usage_pct": 1000.0}
WAIT_MS = 15_000
ALERT_RED = "rgb(179, 38, 30)"  # --alert in dashboard.css (light scheme, headless default)


@pytest.fixture(params=FRAMEWORKS)
def live(request):
    """A real server (threaded Werkzeug or uvicorn) and the token its API wants."""
    token = secrets.token_urlsafe()
    handle = otelmetrics.configure(
        exporters=("prometheus",),
        set_global=False,
        api_token=token,
        sse_interval=0.25,
        thresholds=THRESHOLDS,
    )
    server = serve(request.param, make_app(request.param, handle))
    yield request.param, server.url, token
    server.close()
    handle.shutdown()


@pytest.fixture
def page(browser, live):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []

    def on_console(message):
        # Chromium logs each 401 as a failed resource load: the token prompt expects those.
        if message.type == "error" and "status of 401" not in message.text:
            problems.append(f"console: {message.text}")

    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", on_console)
    page.problems = problems
    page.requested = []
    page.on("request", lambda request: page.requested.append(request.url))
    yield page
    context.close()


def sign_in(page: Page, url: str, token: str) -> None:
    page.goto(f"{url}/api/metrics/dashboard")
    expect(page.locator("body")).to_have_attribute("data-mode", "auth", timeout=WAIT_MS)
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Connect").click()


def send(url: str, path: str, count: int, **headers: str) -> None:
    with httpx.Client(base_url=url, headers=headers) as client:
        for _ in range(count):
            client.get(path)


def test_kpis_follow_traffic_and_the_error_card_turns_red(page, live, artifacts):
    framework, url, token = live
    sign_in(page, url, token)
    expect(page.locator("body")).to_have_attribute("data-mode", "live", timeout=WAIT_MS)
    expect(page.locator("#token-form")).to_be_hidden()
    rate = page.locator("#kpi-request-rate")
    expect(rate).to_have_text("0.0")
    expect(page.locator("#kpi-active-users")).to_have_text("0")

    send(url, "/ok", 30, **{"X-User-Id": "alice"})
    expect(rate).not_to_have_text("0.0", timeout=WAIT_MS)
    expect(page.locator("#kpi-active-users")).to_have_text("1", timeout=WAIT_MS)
    expect(page.locator("#kpi-latency-p95")).not_to_have_text("–")
    error_card = page.locator("#card-error-rate")
    expect(error_card).not_to_have_class(re.compile(r"\balert\b"))
    expect(page.locator("#chart-request-rate polyline")).to_have_count(1)
    expect(page.locator("#chart-latency polyline")).to_have_count(3)

    send(url, "/fail", 30)
    expect(error_card).to_have_class(re.compile(r"\balert\b"), timeout=WAIT_MS)
    expect(error_card).to_have_attribute("data-state", "alert")
    expect(page.locator("#kpi-error-rate")).to_have_text("50.00", timeout=WAIT_MS)
    expect(error_card).to_have_css("border-color", ALERT_RED)  # drawn red (after the fade)
    expect(page.locator("#kpi-error-rate")).to_have_css("color", ALERT_RED)

    screenshot = artifacts / f"dashboard-{framework}.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 10_000

    assert page.problems == []
    assert all(request.startswith(url) for request in page.requested), page.requested
    assert not any(token in request for request in page.requested)  # never in a URL
    assert page.evaluate("sessionStorage.getItem('otelmetrics.api-token')") == token


def test_a_wrong_token_is_refused_and_asked_again(page, live):
    _, url, token = live
    sign_in(page, url, token + "x")
    expect(page.locator("#token-error")).to_have_text("That token was refused.", timeout=WAIT_MS)
    expect(page.locator("body")).to_have_attribute("data-mode", "auth")
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Connect").click()
    expect(page.locator("body")).to_have_attribute("data-mode", "live", timeout=WAIT_MS)


def test_without_the_event_stream_the_page_polls(page, live):
    _, url, token = live
    page.route("**/sse/metrics", lambda route: route.abort())
    sign_in(page, url, token)
    expect(page.locator("body")).to_have_attribute("data-mode", "polling", timeout=WAIT_MS)
    send(url, "/ok", 10)
    expect(page.locator("#kpi-request-rate")).not_to_have_text("0.0", timeout=WAIT_MS)
