"""The smoke app each fresh venv runs: ``python -I smoke.py flask fastapi ...``.

It imports only what ``pip install 'otelmetrics[...]'`` put in the venv (``-I`` keeps the
repository off ``sys.path``) and exercises one thing per extra: a request to an instrumented
Flask or FastAPI app and a scrape of ``/metrics`` that shows it, a Socket.IO connection, a YAML
config file, the demo's command line. Any failure exits non-zero with what was seen.
"""

from __future__ import annotations

import asyncio
import importlib.resources
import os
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Callable
from typing import Any

import otelmetrics

REQUEST_COUNT = "http_server_request_duration_seconds_count{"
LOOPBACK = ("127.0.0.1", 50000)  # /metrics answers loopback without a token


def check_scrape(status: int, text: str, route: str) -> None:
    """The scrape answered 200 and counts the request to ``route``."""
    counted = [
        line
        for line in text.splitlines()
        if line.startswith(REQUEST_COUNT) and f'http_route="{route}"' in line
    ]
    if status != 200 or not counted:
        raise AssertionError(f"/metrics ({status}) counts no request to {route}:\n{text[:3000]}")


def smoke_flask() -> None:
    import opentelemetry.instrumentation.flask  # noqa: F401  (the [flask] contrib, for spans)
    from flask import Flask

    app = Flask("smoke")

    @app.get("/items/<int:item_id>")
    def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    otelmetrics.instrument(app)
    client = app.test_client()
    assert client.get("/items/7").status_code == 200
    scrape = client.get("/metrics")
    check_scrape(scrape.status_code, scrape.get_data(as_text=True), "/items/<int:item_id>")


def smoke_fastapi() -> None:
    import opentelemetry.instrumentation.fastapi  # noqa: F401  (the [fastapi] contrib, for spans)
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    otelmetrics.instrument(app)
    status, _ = asyncio.run(asgi_get(app, "/items/7"))
    assert status == 200, status
    status, body = asyncio.run(asgi_get(app, "/metrics"))
    check_scrape(status, body, "/items/{item_id}")


async def asgi_get(app: Any, path: str) -> tuple[int, str]:
    """One GET through the ASGI interface (the [fastapi] extra has no HTTP client)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost")],
        "client": LOOPBACK,
        "server": ("127.0.0.1", 8000),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body.decode()


def smoke_socketio() -> None:
    from flask import Flask
    from flask_socketio import SocketIO  # type: ignore[import-untyped]

    from otelmetrics.websockets import instrument_socketio

    app = Flask("smoke")
    socketio = SocketIO(app)
    otelmetrics.instrument(app)
    instrument_socketio(socketio)
    client = socketio.test_client(app)
    assert client.is_connected()
    text = app.test_client().get("/metrics").get_data(as_text=True)
    if "websocket_server_active_connections" not in text:
        raise AssertionError(f"/metrics shows no Socket.IO connection:\n{text[:3000]}")
    client.disconnect()


def smoke_yaml() -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as file:
        file.write("feed:\n  venue: kraken\n")
    try:
        handle = otelmetrics.configure(config_file=file.name, set_global=False)
        assert handle.settings.sse_feed_venue == "kraken", handle.settings.sse_feed_venue
        handle.shutdown()
    finally:
        os.unlink(file.name)


def smoke_demo() -> None:
    script = os.path.join(sysconfig.get_path("scripts"), "otelmetrics")
    done = subprocess.run([script, "demo", "--help"], capture_output=True, text=True, timeout=60)
    if done.returncode != 0 or "usage" not in done.stdout:
        raise AssertionError(f"otelmetrics demo --help: {done.returncode}\n{done.stderr}")


def check_installed() -> None:
    """The package under test is the installed one, with its static files."""
    if not otelmetrics.__file__.startswith(sys.prefix):
        raise AssertionError(f"otelmetrics imported from {otelmetrics.__file__}, not the venv")
    static = importlib.resources.files("otelmetrics.api") / "static"
    if not any(entry.name.endswith(".html") for entry in static.iterdir()):
        raise AssertionError("otelmetrics/api/static holds no page: package data is missing")


SMOKES: dict[str, Callable[[], None]] = {
    "flask": smoke_flask,
    "fastapi": smoke_fastapi,
    "socketio": smoke_socketio,
    "yaml": smoke_yaml,
    "demo": smoke_demo,
}


def main(names: list[str]) -> None:
    check_installed()
    for name in names:
        SMOKES[name]()
        print(f"smoke {name}: ok")


if __name__ == "__main__":
    main(sys.argv[1:])
