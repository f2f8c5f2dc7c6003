"""FastAPI's and Starlette's per-request path: a pure ASGI middleware.

The request is timed until the last body chunk is sent (streaming and SSE included); the route
template comes from the route Starlette matched (mounted sub-apps get their mount prefix), and
a raise before the response started counts as 500 with ``error.type``. Websocket scopes are
counted from ``websocket.accept`` until either side closes (or the app raises); lifespan scopes
pass straight through. :func:`otelmetrics.fastapi.instrument_app` installs it.
"""

from __future__ import annotations

from collections.abc import Awaitable
from time import perf_counter
from typing import Any

from starlette.requests import Request
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from otelmetrics.instruments.events import Events
from otelmetrics.instruments.http import HttpServerMetrics, current_trace, normalize_method
from otelmetrics.instruments.user_ids import UserIdExtractor, UserTracker
from otelmetrics.instruments.websockets import Connection, WebsocketMetrics
from otelmetrics.pipeline import MetricsHandle, default_handle

__all__ = ["OtelMetricsMiddleware"]

_CONTENT_LENGTH = b"content-length"
_RESPONSE_TIME = b"x-response-time"


class OtelMetricsMiddleware:
    """Records ``http.server.*`` metrics for every HTTP request passing through.

    Args:
        app: The ASGI app to wrap.
        handle: The handle to record into; default: the configured one, or one configured from
            the environment on the first request.
        user_id: ``user_id(request) -> str | None`` for ``app.users.active``; default: the
            module-level extractor, else :func:`otelmetrics.users.user_id_from`.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        handle: MetricsHandle | None = None,
        user_id: UserIdExtractor | None = None,
    ) -> None:
        self.app = app
        self.handle = handle
        self.user_id = user_id
        self.http: HttpServerMetrics | None = None
        self.websockets: WebsocketMetrics | None = None
        self.users: UserTracker | None = None
        self.events: Events | None = None  # 5xx and exceptions go to /errors too
        self.timing = False  # add X-Response-Time (settings.response_time_header)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                await self._websocket(scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        http = self.http or self._resolve()
        if http.is_excluded(scope["path"]):  # /metrics, the API, the page
            await self.app(scope, receive, _timed(send, perf_counter()) if self.timing else send)
            return
        exchange = _Exchange(http, scope, self.users, self.timing, self.events, send)
        try:  # here, not in a method of the exchange: one coroutine less per request
            await self.app(scope, receive, exchange.wrapped_send)
        except BaseException as exc:
            if not exchange.done:
                exchange.finish(type(exc).__qualname__)
            raise
        if not exchange.done:  # the app returned without completing a body
            exchange.finish(None)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        http = self.http or self._resolve()
        if http.is_excluded(scope["path"]) or self.websockets is None:
            await self.app(scope, receive, send)
            return
        await _WebsocketSession(self.websockets, scope).run(self.app, receive, send)

    def _resolve(self) -> HttpServerMetrics:
        if self.handle is None:
            self.handle = default_handle()
        self.websockets = self.handle.websockets
        self.users = UserTracker(self.handle.users, self.user_id)
        self.events = self.handle.events
        self.timing = self.handle.settings.response_time_header
        self.http = self.handle.http
        return self.http


class _Exchange:
    """One request's state, from its start; ``send`` is wrapped to see the status and the last
    body chunk."""

    __slots__ = (
        "http",
        "scope",
        "method",
        "scheme",
        "root",
        "status",
        "size",
        "request_size",
        "started",
        "done",
        "send",
        "users",
        "timing",
        "events",
    )

    def __init__(
        self,
        http: HttpServerMetrics,
        scope: Scope,
        users: UserTracker | None,
        timing: bool,
        events: Events | None,
        send: Send,
    ) -> None:
        self.http = http
        self.send = send
        self.scope = scope
        self.users = users
        self.timing = timing
        self.events = events
        self.method = normalize_method(scope["method"])
        self.scheme = scope.get("scheme", "http")
        self.root = scope.get("root_path", "")
        self.status = 0
        self.size: int | None = None
        self.request_size = _content_length(scope["headers"])
        self.done = False
        self.started = http.start(self.method, self.scheme)

    def wrapped_send(self, message: Message) -> Awaitable[None]:
        """The app's ``send``: notes the status and Content-Length and hands the message on
        without a coroutine of its own; the last body chunk finishes the request once sent."""
        kind = message["type"]
        if kind == "http.response.start":
            self.status = message["status"]
            self.size = _content_length(message.get("headers", ()))
            if self.timing:  # from the start time already taken: one clock read, when enabled
                _stamp(message, self.started)
        elif kind == "http.response.body" and not message.get("more_body", False):
            return self._send_last(message)
        return self.send(message)

    async def _send_last(self, message: Message) -> None:
        await self.send(message)
        self.finish(None)

    def finish(self, error_type: str | None) -> None:
        self.done = True
        status = self.status or 500
        http = self.http
        route = _route(self.scope, self.root)
        http.finish(
            self.started,
            self.method,
            route,
            status,
            self.scheme,
            error_type,
            self.request_size,
            self.size,
            current_trace() if http.exemplars else None,
        )
        if self.users is not None:  # after the response: off the timed path
            self.users.asgi(self.scope, Request)
        if (status >= 500 or error_type is not None) and self.events is not None:
            self.events.record_http_error(self.method, route, status, error_type)


def _stamp(message: Message, started: float) -> None:
    """Add ``X-Response-Time`` (ms since ``started``) to an ``http.response.start`` message."""
    elapsed = f"{(perf_counter() - started) * 1000:.2f}ms".encode()
    message["headers"] = [*message.get("headers", ()), (_RESPONSE_TIME, elapsed)]


def _timed(send: Send, started: float) -> Send:
    """``send`` stamping ``X-Response-Time`` on the response start (an excluded path's)."""

    async def timed(message: Message) -> None:
        if message["type"] == "http.response.start":
            _stamp(message, started)
        await send(message)

    return timed


def _route(scope: Scope, root: str) -> str | None:
    """The template of the route Starlette matched, with the prefix of any mounts passed."""
    route = scope.get("route")
    path: str | None = getattr(route, "path", None)
    if path is None:
        return None
    prefix: str = scope.get("root_path", "")[len(root) :]
    if isinstance(route, Mount):
        return prefix + "/{path:path}" if prefix.endswith(path) else prefix + path
    return prefix + path if prefix else path


class _WebsocketSession:
    """One websocket: counted from ``websocket.accept`` until either side closes it.

    The route is read at accept (routing has run by then) and its series resolved once, so
    each message costs one locked add.
    """

    __slots__ = ("websockets", "scope", "root", "connection", "receive", "send")

    def __init__(self, websockets: WebsocketMetrics, scope: Scope) -> None:
        self.websockets = websockets
        self.scope = scope
        self.root = scope.get("root_path", "")
        self.connection: Connection | None = None

    async def run(self, app: ASGIApp, receive: Receive, send: Send) -> None:
        self.receive = receive
        self.send = send
        try:
            await app(self.scope, self.wrapped_receive, self.wrapped_send)
        finally:
            if self.connection is not None:  # an exception, or the app returned unclosed
                self.connection.close()

    async def wrapped_receive(self) -> Message:
        message = await self.receive()
        connection = self.connection
        if connection is not None:
            kind = message["type"]
            if kind == "websocket.receive":
                connection.received()
            elif kind == "websocket.disconnect":
                connection.close()
        return message

    async def wrapped_send(self, message: Message) -> None:
        await self.send(message)
        kind = message["type"]
        if kind == "websocket.send":
            if self.connection is not None:
                self.connection.sent()
        elif kind == "websocket.accept":
            self.connection = self.websockets.connected(_route(self.scope, self.root))
        elif kind == "websocket.close" and self.connection is not None:
            self.connection.close()


def _content_length(headers: Any) -> int | None:
    for name, value in headers:
        if name == _CONTENT_LENGTH:
            return int(value) if value.isdigit() else None
    return None
