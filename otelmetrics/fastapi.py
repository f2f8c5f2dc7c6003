"""FastAPI / Starlette: a pure ASGI middleware, and ``instrument_app`` that also mounts /metrics.

Usage::

    from fastapi import FastAPI
    from otelmetrics.fastapi import instrument_app

    app = FastAPI()
    instrument_app(app)

or, for any ASGI app built on Starlette routing::

    app = OtelMetricsMiddleware(app)

The request is timed until the last body chunk is sent (streaming and SSE included); the route
template comes from the route Starlette matched (mounted sub-apps get their mount prefix), and
a raise before the response started counts as 500 with ``error.type``. Websocket and lifespan
scopes pass straight through.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from otelmetrics import prometheus, tracing
from otelmetrics.http import HttpServerMetrics, current_trace, normalize_method
from otelmetrics.settings import Settings
from otelmetrics.setup import MetricsHandle, default_handle

__all__ = ["OtelMetricsMiddleware", "instrument_app", "uninstrument_app"]

_logger = logging.getLogger(__name__)
_CONTENT_LENGTH = b"content-length"


class OtelMetricsMiddleware:
    """Records ``http.server.*`` metrics for every HTTP request passing through.

    Args:
        app: The ASGI app to wrap.
        handle: The handle to record into; default: the configured one, or one configured from
            the environment on the first request.
    """

    def __init__(self, app: ASGIApp, *, handle: MetricsHandle | None = None) -> None:
        self.app = app
        self.handle = handle
        self.http: HttpServerMetrics | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        http = self.http or self._resolve()
        if http.is_excluded(scope["path"]):
            await self.app(scope, receive, send)
            return
        await _Exchange(http, scope).run(self.app, receive, send)

    def _resolve(self) -> HttpServerMetrics:
        if self.handle is None:
            self.handle = default_handle()
        self.http = self.handle.http
        return self.http


class _Exchange:
    """One request's state; ``send`` is wrapped to see the status and the last body chunk."""

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
    )

    def __init__(self, http: HttpServerMetrics, scope: Scope) -> None:
        self.http = http
        self.scope = scope
        self.method = normalize_method(scope["method"])
        self.scheme = scope.get("scheme", "http")
        self.root = scope.get("root_path", "")
        self.status = 0
        self.size: int | None = None
        self.request_size = _content_length(scope["headers"])
        self.done = False

    async def run(self, app: ASGIApp, receive: Receive, send: Send) -> None:
        self.send = send
        self.started = self.http.start(self.method, self.scheme)
        try:
            await app(self.scope, receive, self.wrapped_send)
        except BaseException as exc:
            if not self.done:
                self.finish(type(exc).__qualname__)
            raise
        if not self.done:  # the app returned without completing a body
            self.finish(None)

    async def wrapped_send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.status = message["status"]
            self.size = _content_length(message.get("headers", ()))
        elif kind == "http.response.body" and not message.get("more_body", False):
            await self.send(message)
            self.finish(None)
            return
        await self.send(message)

    def finish(self, error_type: str | None) -> None:
        self.done = True
        status = self.status or 500
        http = self.http
        http.finish(
            self.started,
            self.method,
            self.route(),
            status,
            self.scheme,
            error_type,
            self.request_size,
            self.size,
            current_trace() if http.exemplars else None,
        )

    def route(self) -> str | None:
        route = self.scope.get("route")
        path: str | None = getattr(route, "path", None)
        if path is None:
            return None
        prefix: str = self.scope.get("root_path", "")[len(self.root) :]
        if isinstance(route, Mount):
            return prefix + "/{path:path}" if prefix.endswith(path) else prefix + path
        return prefix + path if prefix else path


def _content_length(headers: Any) -> int | None:
    for name, value in headers:
        if name == _CONTENT_LENGTH:
            return int(value) if value.isdigit() else None
    return None


def instrument_app(app: Starlette, *, handle: MetricsHandle | None = None) -> None:
    """Add the middleware and the ``/metrics`` route to a FastAPI or Starlette app.

    Idempotent: a second call logs a warning. Call before the app starts serving.
    """
    if getattr(app.state, "otelmetrics", None) is not None:
        _logger.warning("otelmetrics: this ASGI app is already instrumented")
        return
    settings = handle.settings if handle else Settings.from_env()
    if settings.sdk_disabled:
        return
    middleware = native_before = None
    if not tracing.auto_instrumented(app):
        middleware = Middleware(OtelMetricsMiddleware, handle=handle)
        app.user_middleware.insert(0, middleware)
        app.middleware_stack = None
        native_before = _native_metrics(app, False)
    route = None
    if "prometheus" in settings.resolved_exporters:
        route = Route(settings.metrics_path, _metrics_endpoint(handle), methods=["GET"])
        app.router.routes.append(route)
    app.state.otelmetrics = (middleware, route, native_before)
    tracing.add_spans(app, "fastapi", settings)


def _native_metrics(app: Starlette, enabled: bool | None) -> bool | None:
    """Switch FastAPI's own OpenTelemetry request metrics (FastAPI >= 0.165) on or off.

    With an SDK MeterProvider installed globally, FastAPI records ``http.server.*`` itself;
    otelmetrics records them on its lean path, so FastAPI's are turned off to count each
    request once. FastAPI reads the flag on every request.
    """
    telemetry = getattr(app, "_telemetry", None)
    if not isinstance(telemetry, dict) or enabled is None:
        return None
    before: bool | None = telemetry.get("metrics")
    telemetry["metrics"] = enabled
    return before


def uninstrument_app(app: Starlette) -> None:
    """Undo :func:`instrument_app`."""
    installed = getattr(app.state, "otelmetrics", None)
    if installed is None:
        return
    middleware, route, native_before = installed
    if middleware is not None:
        app.user_middleware.remove(middleware)
        app.middleware_stack = None
        _native_metrics(app, native_before)
    if route is not None:
        app.router.routes.remove(route)
    tracing.remove_spans(app, "fastapi")
    app.state.otelmetrics = None


def _metrics_endpoint(handle: MetricsHandle | None) -> Any:
    def metrics(request: Request) -> Response:
        status, body, content_type = prometheus.scrape(
            handle or default_handle(),
            request.client.host if request.client else None,
            request.headers.get("authorization"),
            request.headers.get("accept"),
        )
        return Response(body, status, media_type=content_type)

    return metrics
