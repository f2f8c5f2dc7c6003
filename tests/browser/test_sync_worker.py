"""The live page on gunicorn's sync worker (the quickstart's server): the stream is refused at
once, the page polls for good, and the app keeps answering while the page is open."""

from __future__ import annotations

import secrets
import time
import urllib.request

from playwright.sync_api import expect

from tests.integration.processes import PYTHON, free_port, start, stop, wait_http

WAIT_MS = 15_000


def test_on_a_sync_worker_the_page_polls_and_never_holds_the_worker(browser):
    port, token = free_port(), secrets.token_urlsafe()
    args = ["-w", "1", "-k", "sync", "--timeout", "10", "-b", f"127.0.0.1:{port}"]
    env = {"OTELMETRICS_API_TOKEN": token, "OTELMETRICS_SSE_INTERVAL": "1"}
    server = start([PYTHON, "-m", "gunicorn", *args, "tests.integration.apps.flask_app:app"], env)
    base = f"http://127.0.0.1:{port}"
    context = browser.new_context()
    try:
        wait_http(f"{base}/items/0", server)
        page = context.new_page()
        streams = []
        page.on("request", lambda r: streams.append(r.url) if "/sse/" in r.url else None)
        page.goto(f"{base}/api/metrics/dashboard")
        page.get_by_label("API token").fill(token)
        page.get_by_role("button", name="Connect").click()
        # at once: a held worker would be killed by WORKER TIMEOUT only after 10 s
        expect(page.locator("body")).to_have_attribute("data-mode", "polling", timeout=3000)
        for item in range(10):
            started = time.monotonic()
            with urllib.request.urlopen(f"{base}/items/{item}", timeout=15) as response:
                assert response.status == 200
            assert time.monotonic() - started < 2  # the page holds no worker
        expect(page.locator("#kpi-request-rate")).not_to_have_text("0.0", timeout=WAIT_MS)
        page.wait_for_timeout(3000)
        assert len(streams) == 1  # refused once, then polling only: no retry loop
        assert page.locator("body").get_attribute("data-mode") == "polling"
    finally:
        context.close()
        stop(server)
