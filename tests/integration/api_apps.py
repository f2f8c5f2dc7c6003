"""The same small app in Flask and FastAPI with the JSON API, a uniform client over both
frameworks' test clients, and real servers on 127.0.0.1 (threaded Werkzeug, uvicorn)."""

from __future__ import annotations

import json
import socket
import threading
import time
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from flask import Flask
from starlette.testclient import TestClient
from werkzeug.serving import make_server

from otelmetrics import MetricsHandle
from otelmetrics.fastapi import instrument_app
from otelmetrics.flask import OtelMetrics
from otelmetrics.settings import DEFAULT_THRESHOLDS

FRAMEWORKS = ("flask", "fastapi")


def make_flask(handle: MetricsHandle, **options: Any) -> Flask:
    app = Flask("api_app")

    @app.get("/ok")
    def ok():
        return "ok"

    @app.get("/fail")
    def fail():
        return "fail", 500

    @app.get("/missing")
    def missing():
        return "missing", 404

    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    OtelMetrics(app, handle=handle, **options)
    return app


def make_fastapi(handle: MetricsHandle, **options: Any) -> FastAPI:
    app = FastAPI()

    @app.get("/ok")
    def ok():
        return PlainTextResponse("ok")

    @app.get("/fail")
    def fail():
        return PlainTextResponse("fail", 500)

    @app.get("/missing")
    def missing():
        return PlainTextResponse("missing", 404)

    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    instrument_app(app, handle=handle, **options)
    return app


def make_app(framework: str, handle: MetricsHandle, **options: Any) -> Any:
    return (make_flask if framework == "flask" else make_fastapi)(handle, **options)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class ApiClient:
    """``get``/``post`` through Flask's test client or Starlette's TestClient, same replies."""

    framework: str
    app: Any
    prefix: str = "/api/metrics"
    _client: Any = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.framework == "flask":
            self._client = self.app.test_client()
        else:
            self._client = TestClient(self.app, raise_server_exceptions=False)

    def request(self, method: str, path: str, token: str | None = None, **headers: str) -> Reply:
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if self.framework == "flask":
            # multithread: as a threaded server says (Werkzeug threaded, gunicorn gthread)
            response = self._client.open(path, method=method, headers=headers, multithread=True)
        else:
            response = self._client.request(method, path, headers=headers)
        body = response.data if self.framework == "flask" else response.content
        found = {name.lower(): value for name, value in response.headers.items()}
        return Reply(response.status_code, found, body)

    def get(self, path: str, token: str | None = None, **headers: str) -> Reply:
        """GET ``path``: relative paths are under the API prefix, absolute ones as given."""
        return self.request("GET", self._api(path), token, **headers)

    def post(self, path: str, token: str | None = None, **headers: str) -> Reply:
        return self.request("POST", self._api(path), token, **headers)

    def _api(self, path: str) -> str:
        return path if path.startswith("/") else f"{self.prefix}/{path}"


# -- real servers on 127.0.0.1 ------------------------------------------------------------


@dataclass
class Server:
    url: str
    close: Callable[[], None]


def serve_werkzeug(app: Flask) -> Server:
    """A threaded Werkzeug server (one thread per request) on a free port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def close() -> None:
        server.shutdown()
        server.server_close()
        thread.join(5)

    return Server(f"http://127.0.0.1:{server.server_port}", close)


def serve_uvicorn(app: Any) -> Server:
    """uvicorn in a thread, on a socket bound to a free port first."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_until(lambda: server.started, "uvicorn to start")

    def close() -> None:
        server.should_exit = True
        thread.join(10)
        sock.close()

    return Server(f"http://127.0.0.1:{port}", close)


def serve(framework: str, app: Any) -> Server:
    return serve_werkzeug(app) if framework == "flask" else serve_uvicorn(app)


def wait_until(check: Callable[[], Any], what: str, timeout: float = 10.0) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def read_events(response: httpx.Response, count: int) -> Iterator[tuple[str, str]]:
    """(event, data) pairs from an open SSE response, until ``count`` events were read."""
    event, data, seen = "message", [], 0
    for line in response.iter_lines():
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
        elif line == "" and data:
            yield event, "\n".join(data)
            event, data, seen = "message", [], seen + 1
            if seen >= count:
                return


# Thresholds under which a loaded test machine's CPU and memory never fail a health check.
QUIET_RESOURCES = {**DEFAULT_THRESHOLDS, "cpu_usage_pct": 1000.0, "memory_usage_pct": 1000.0}


def assert_shape(value: Any, typed: Any, where: str = "body") -> None:
    """``value`` has exactly the keys of the TypedDict ``typed``, in its order, and so has each
    TypedDict inside it (a field, a list item, a value of a ``dict[str, ...]``)."""
    hints = typing.get_type_hints(typed)
    assert list(value) == list(hints), where
    for key, hint in hints.items():
        _assert_hint(value[key], hint, f"{where}.{key}")


def _assert_hint(value: Any, hint: Any, where: str) -> None:
    if typing.is_typeddict(hint):
        assert_shape(value, hint, where)
        return
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is list:
        for i, item in enumerate(value):
            _assert_hint(item, args[0], f"{where}[{i}]")
    elif origin is dict:
        for key, item in value.items():
            _assert_hint(item, args[1], f"{where}.{key}")
