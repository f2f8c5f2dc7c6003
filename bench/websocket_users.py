"""Websocket message counting and active-users tracking: what each adds, next to bare.

Run:  .venv/bin/python bench/websocket_users.py        (about 15 s; --quick for a smoke run)

(Not named ``websockets.py``: run as a script, that name would shadow the ``websockets`` package.)

1. Websocket messages (ns per message): a Starlette echo endpoint (``receive_text`` then
   ``send_text``) driven in-process over one long connection, bare and behind
   ``OtelMetricsMiddleware``; each echo is one message in and one out, so the added cost per
   message is half the added cost per echo. Next to it, the manual API's calls.
2. Active users (ns per request): ``ActiveUsers.seen()`` over 1000 users, then the adapters'
   user hook exactly as they call it (Flask: in ``start_response``, inside a real request
   context; FastAPI: after the response, on the ASGI scope) for an anonymous request, a header
   user and a session user; next to a whole in-process request of each framework, so the hook
   reads as a share of a request (a whole-request A/B would drown ~1 µs in ±10 % noise).

Every variant runs once per round in a rotated order; medians of ``--repeats`` rounds. Prints
Markdown tables and writes bench/results/websocket_users.json.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import secrets
import time
from collections.abc import Callable
from typing import Any

import _common
from _common import markdown, median, rotated

import otelmetrics
from otelmetrics.fastapi import OtelMetricsMiddleware
from otelmetrics.instruments.users import ActiveUsers, UserTracker

Measure = Callable[[], float]  # returns seconds per operation
DISCONNECT = {"type": "websocket.disconnect", "code": 1000}


def _handle() -> otelmetrics.MetricsHandle:
    return otelmetrics.configure(exporters=("none",), process_metrics=False, set_global=False)


# -- 1. websocket messages --------------------------------------------------------------------


def _echo_app() -> Any:
    from starlette.applications import Starlette
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocket, WebSocketDisconnect

    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            while True:
                await websocket.send_text(await websocket.receive_text())
        except WebSocketDisconnect:
            pass

    return Starlette(routes=[WebSocketRoute("/ws/prices/{pair}", echo)])


def _session(asgi: Any, echoes: int) -> Measure:
    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "path": "/ws/prices/BTC-USD",
        "raw_path": b"/ws/prices/BTC-USD",
        "root_path": "",
        "scheme": "ws",
        "query_string": b"",
        "headers": [],
        "subprotocols": [],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    message = {"type": "websocket.receive", "text": "tick"}

    def run() -> float:
        incoming = iter(
            [
                {"type": "websocket.connect"},
                *[message] * echoes,
                {"type": "websocket.disconnect", "code": 1000},
            ]
        )

        async def receive() -> Any:
            return next(incoming)

        async def send(message: Any) -> None:
            return None

        started = time.perf_counter()
        asyncio.run(asgi(dict(scope), receive, send))
        return (time.perf_counter() - started) / echoes

    return run


def _calls(function: Callable[[], None], n: int) -> Measure:
    def run() -> float:
        started = time.perf_counter()
        for _ in range(n):
            function()
        return (time.perf_counter() - started) / n

    return run


def websocket_variants(handle: otelmetrics.MetricsHandle, scale: int) -> dict[str, Measure]:
    ws = handle.websockets
    connection = ws.connected("/ws/prices/{pair}")
    return {
        "ASGI echo, bare": _session(_echo_app(), 20_000 // scale),
        "ASGI echo, OtelMetricsMiddleware": _session(
            OtelMetricsMiddleware(_echo_app(), handle=handle), 20_000 // scale
        ),
        "Connection.received()": _calls(connection.received, 200_000 // scale),
        "websockets.received(route, event)": _calls(
            lambda: ws.received("/", "order"), 200_000 // scale
        ),
    }


# -- 2. active users --------------------------------------------------------------------------


def _seen(users: ActiveUsers, n: int) -> Measure:
    ids = [f"user-{i}" for i in range(1000)]

    def run() -> float:
        seen = users.seen
        started = time.perf_counter()
        for i in range(n):
            seen(ids[i % 1000])
        return (time.perf_counter() - started) / n

    return run


def _asgi_hook(users: ActiveUsers, headers: list[Any], n: int) -> Measure:
    from starlette.requests import Request

    tracker = UserTracker(users)
    scope = {"type": "http", "headers": headers, "state": {}}

    def run() -> float:
        started = time.perf_counter()
        for _ in range(n):
            tracker.asgi(scope, Request)
        return (time.perf_counter() - started) / n

    return run


def _flask_hook(users: ActiveUsers, mode: str, n: int) -> Measure:
    """The adapter's call in ``start_response``, inside a real request context."""
    from flask import Flask, has_request_context, request, session

    app = Flask("bench")
    app.secret_key = secrets.token_urlsafe()
    tracker = UserTracker(users)
    headers = {"X-User-Id": "user-7"} if mode == "header user" else {}
    if mode == "session user":
        with app.test_request_context("/"):
            session["user_id"] = "user-7"
            cookie = app.session_interface.get_signing_serializer(app).dumps(dict(session))
        headers = {"Cookie": f"session={cookie}"}

    def run() -> float:
        with app.test_request_context("/hello", headers=headers):
            started = time.perf_counter()
            for _ in range(n):
                if has_request_context():
                    tracker(request._get_current_object())
            return (time.perf_counter() - started) / n

    return run


def _flask_requests(handle: otelmetrics.MetricsHandle, n: int) -> Measure:
    from flask import Flask
    from werkzeug.test import EnvironBuilder

    from otelmetrics.flask import OtelMetrics

    app = Flask("bench")
    app.get("/hello")(lambda: "hello")
    OtelMetrics(app, handle=handle)
    environ = EnvironBuilder(path="/hello", headers={"X-User-Id": "user-7"}).get_environ()

    def run() -> float:
        started = time.perf_counter()
        for _ in range(n):
            body = app(dict(environ), lambda status, headers, exc_info=None: None)
            b"".join(body)
            body.close()
        return (time.perf_counter() - started) / n

    return run


def _fastapi_requests(handle: otelmetrics.MetricsHandle, n: int) -> Measure:
    from fastapi import FastAPI

    app = FastAPI()
    app.get("/hello")(_hello)
    middleware = OtelMetricsMiddleware(app, handle=handle)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/hello",
        "raw_path": b"/hello",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"x-user-id", b"user-7")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }

    async def receive() -> Any:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        return None

    async def many() -> None:
        for _ in range(n):
            await middleware(dict(scope), receive, send)

    def run() -> float:
        started = time.perf_counter()
        asyncio.run(many())
        return (time.perf_counter() - started) / n

    return run


async def _hello() -> str:
    return "hello"


USER_HOOKS = {
    "Flask hook, anonymous": ("flask", "anonymous"),
    "Flask hook, X-User-Id header": ("flask", "header user"),
    "Flask hook, session user": ("flask", "session user"),
    "ASGI hook, anonymous": ("asgi", []),
    "ASGI hook, X-User-Id header": ("asgi", [(b"x-user-id", b"user-7")]),
}


def user_variants(handle: otelmetrics.MetricsHandle, scale: int) -> dict[str, Measure]:
    users = ActiveUsers(timeout=300, max_users=10_000)
    variants: dict[str, Measure] = {
        "ActiveUsers.seen(), 1000 users": _seen(users, 200_000 // scale)
    }
    for name, (kind, option) in USER_HOOKS.items():
        n = 100_000 // scale
        hook = _flask_hook(users, option, n) if kind == "flask" else _asgi_hook(users, option, n)
        variants[name] = hook
    variants["Flask request (whole, in-process)"] = _flask_requests(handle, 4000 // scale)
    variants["FastAPI request (whole, in-process)"] = _fastapi_requests(handle, 4000 // scale)
    return variants


# -- running ----------------------------------------------------------------------------------


def measure(variants: dict[str, Measure], repeats: int) -> dict[str, float]:
    """Median seconds per operation of each variant over ``repeats`` rotated rounds."""
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for measure_once in variants.values():
        measure_once()  # warm-up
    for turn in range(repeats):
        for name in rotated(list(variants), turn):
            gc.collect()
            samples[name].append(variants[name]())
    return {name: median(values) for name, values in samples.items()}


def websocket_table(results: dict[str, float]) -> str:
    bare = results["ASGI echo, bare"]
    ours = results["ASGI echo, OtelMetricsMiddleware"]
    rows = [
        ["ASGI echo, bare (per echo: 1 in + 1 out)", bare * 1e9, "", 1.0],
        ["ASGI echo, OtelMetricsMiddleware", ours * 1e9, (ours - bare) / 2 * 1e9, ours / bare],
        ["Connection.received() (pre-resolved)", results["Connection.received()"] * 1e9, "", ""],
        [
            "websockets.received(route, event) (Socket.IO)",
            results["websockets.received(route, event)"] * 1e9,
            "",
            "",
        ],
    ]
    return markdown(["variant", "ns/op", "added ns per message", "ratio to bare"], rows)


def users_table(results: dict[str, float]) -> str:
    flask = results["Flask request (whole, in-process)"]
    fastapi = results["FastAPI request (whole, in-process)"]
    rows: list[list[Any]] = [
        ["ActiveUsers.seen(), 1000 users", results["ActiveUsers.seen(), 1000 users"] * 1e9, ""]
    ]
    for name in USER_HOOKS:
        request = flask if name.startswith("Flask") else fastapi
        rows.append([name, results[name] * 1e9, f"{results[name] / request:.1%}"])
    rows.append(["Flask request (whole, in-process)", flask * 1e9, ""])
    rows.append(["FastAPI request (whole, in-process)", fastapi * 1e9, ""])
    return markdown(["per request", "ns", "share of a whole request"], rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="smoke run: 1/20 of the calls")
    parser.add_argument("--out", help="JSON path (default bench/results/websocket_users.json)")
    args = parser.parse_args()
    scale = 20 if args.quick else 1
    env = _common.environment()
    handle = _handle()
    try:
        ws_results = measure(websocket_variants(handle, scale), args.repeats)
        user_results = measure(user_variants(handle, scale), args.repeats)
    finally:
        handle.shutdown()
    print(f"# websocket messages and active users\n\n{_common.describe(env)}\n")
    print("## Websocket messages\n\n" + websocket_table(ws_results) + "\n")
    print("## Active users\n\n" + users_table(user_results) + "\n")
    _common.save(
        "websocket_users",
        {"environment": env, "websockets_s": ws_results, "users_s": user_results},
        args.out,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
