"""The live page's stream on gunicorn: a sync worker refuses it at once (a stream would hold the
only worker until WORKER TIMEOUT), a gthread worker streams while it answers other requests."""

from __future__ import annotations

import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from tests.integration.processes import PYTHON, free_port, start, stop, wait_http

APP = "tests.integration.apps.flask_app:app"


@pytest.fixture
def gunicorn(request) -> Iterator[tuple[str, str]]:
    """gunicorn with one worker of the class ``request.param``; (base URL, API token)."""
    port, token = free_port(), secrets.token_urlsafe()
    args = ["-w", "1", "-k", request.param, "--timeout", "10", "-b", f"127.0.0.1:{port}"]
    if request.param == "gthread":
        args += ["--threads", "4"]  # (with more than one thread, gunicorn makes sync gthread)
    server = start([PYTHON, "-m", "gunicorn", *args, APP], {"OTELMETRICS_API_TOKEN": token})
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/items/0", server)
    yield base, token
    stop(server)


def open_stream(base: str, token: str):
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    request = urllib.request.Request(f"{base}/api/metrics/sse/metrics", headers=headers)
    return urllib.request.urlopen(request, timeout=5)


def timed_get(url: str) -> float:
    started = time.monotonic()
    with urllib.request.urlopen(url, timeout=15) as response:
        assert response.status == 200
    return time.monotonic() - started


@pytest.mark.parametrize("gunicorn", ["sync"], indirect=True)
def test_a_sync_worker_refuses_the_stream_at_once_and_keeps_serving(gunicorn):
    base, token = gunicorn
    started = time.monotonic()
    with pytest.raises(urllib.error.HTTPError) as refused:
        open_stream(base, token)
    assert time.monotonic() - started < 2
    assert refused.value.code == 503
    body = json.loads(refused.value.read())
    assert body["poll"] == "/api/metrics/current" and "gthread" in body["error"]
    assert timed_get(f"{base}/items/2") < 2  # before: 10 s, then WORKER TIMEOUT


@pytest.mark.parametrize("gunicorn", ["gthread"], indirect=True)
def test_a_gthread_worker_streams_while_it_answers_other_requests(gunicorn):
    base, token = gunicorn
    with open_stream(base, token) as stream:
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        assert stream.readline().startswith(b"retry:")
        assert timed_get(f"{base}/items/2") < 2
