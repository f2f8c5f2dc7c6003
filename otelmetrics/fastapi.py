"""FastAPI / Starlette: a pure ASGI middleware, and ``instrument_app`` that also mounts /metrics.

Usage::

    from fastapi import FastAPI
    from otelmetrics.fastapi import instrument_app

    app = FastAPI()
    instrument_app(app)

or, for any ASGI app built on Starlette routing::

    app = OtelMetricsMiddleware(app)

The middleware (:mod:`otelmetrics.adapters.asgi`) times the request until the last body chunk is
sent (streaming and SSE included); the route template comes from the route Starlette matched
(mounted sub-apps get their mount prefix), and a raise before the response started counts as 500
with ``error.type``. Once a response is sent, the request's user is noted for
``app.users.active`` (see :mod:`otelmetrics.users`). A 5xx response or an exception is also
recorded in ``handle.events`` (the API's ``/errors``), after the response: a successful request
pays one comparison for it.

Websocket scopes are counted from ``websocket.accept`` until either side closes (or the app
raises), by route template, with their messages in and out; a connection rejected before accept
is not counted. Lifespan scopes pass straight through.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from otelmetrics.adapters.asgi import OtelMetricsMiddleware
from otelmetrics.api import starlette_routes as starlette_api
from otelmetrics.api.auth import Authorize
from otelmetrics.api.service import MetricsApi
from otelmetrics.instruments.user_ids import UserIdExtractor
from otelmetrics.pipeline import (
    MetricsHandle,
    app_settings,
    default_handle,
    tracing,
    wanted_by_an_app,
)

__all__ = ["OtelMetricsMiddleware", "instrument_app", "uninstrument_app"]

_logger = logging.getLogger(__name__)


def instrument_app(
    app: Starlette,
    *,
    handle: MetricsHandle | None = None,
    user_id: UserIdExtractor | None = None,
    api: bool = True,
    authorize: Authorize | None = None,
) -> None:
    """Add the middleware, the ``/metrics`` route and the JSON API to a FastAPI or Starlette app.

    Idempotent: a second call logs a warning. Call before the app starts serving.

    Args:
        app: The FastAPI or Starlette app.
        handle: The handle to record into; default: the configured one.
        user_id: ``user_id(request) -> str | None`` for ``app.users.active`` (see
            :mod:`otelmetrics.users`).
        api: Serve the JSON API under ``api_prefix`` and the live page (every endpoint but
            ``/health`` and the page is locked until a token, hook or ``api_public`` allows it).
        authorize: The API's authorize hook (see :mod:`otelmetrics.auth`).
    """
    if getattr(app.state, "otelmetrics", None) is not None:
        _logger.warning("otelmetrics: this ASGI app is already instrumented")
        return
    settings = app_settings(handle)
    if handle is None:
        wanted_by_an_app()  # a pre-fork worker configures now, not on its first request
    if settings.sdk_disabled:
        return
    tracing.take_over(app, "fastapi")
    middleware = native_before = None
    if not tracing.auto_instrumented(app):
        middleware = Middleware(OtelMetricsMiddleware, handle=handle, user_id=user_id)
        app.user_middleware.insert(0, middleware)
        app.middleware_stack = None
        native_before = _native_metrics(app, False)
    route = None
    if "prometheus" in settings.resolved_exporters:
        route = Route(settings.metrics_path, _metrics_endpoint(handle), methods=["GET"])
        app.router.routes.append(route)
    if api:
        resolve = (lambda: handle) if handle else default_handle
        api_routes = starlette_api.make_routes(MetricsApi(settings, resolve, authorize=authorize))
        app.router.routes.extend(api_routes)
        app.state.otelmetrics_api = api_routes
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
    for api_route in getattr(app.state, "otelmetrics_api", None) or ():
        app.router.routes.remove(api_route)
    app.state.otelmetrics_api = None
    tracing.remove_spans(app, "fastapi")
    app.state.otelmetrics = None


def _metrics_endpoint(handle: MetricsHandle | None) -> Any:
    def metrics(request: Request) -> Response:
        answer = (handle or default_handle()).scrape(
            request.client.host if request.client else None,
            request.headers.get("authorization"),
            request.headers.get("accept"),
            request.headers.get("accept-encoding"),
            request.headers.get("x-prometheus-scrape-timeout-seconds"),
        )
        return Response(answer.body, answer.status, headers=dict(answer.headers()))

    return metrics
