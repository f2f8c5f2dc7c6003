"""instrument(app): detect Flask or Starlette/FastAPI and apply the matching adapter.

The frameworks are never imported here: an app can only be a Flask app if ``flask`` is
already imported, and likewise for Starlette.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any

from otelmetrics.adapters import http_clients
from otelmetrics.adapters.client_calls import url_template
from otelmetrics.core.once import LogOnce
from otelmetrics.instruments.http_client import HttpClientMetrics

if TYPE_CHECKING:
    from otelmetrics.api.auth import Authorize
    from otelmetrics.instruments.user_ids import UserIdExtractor
    from otelmetrics.pipeline import MetricsHandle

__all__ = [
    "instrument",
    "instrument_http_clients",
    "uninstrument",
    "uninstrument_http_clients",
    "url_template",
]

_logger = logging.getLogger(__name__)
_log_once = LogOnce(_logger, later=None)


def _framework(app: Any) -> str:
    flask = sys.modules.get("flask")
    if flask is not None and isinstance(app, flask.Flask):
        return "flask"
    starlette = sys.modules.get("starlette.applications")
    if starlette is not None and isinstance(app, starlette.Starlette):
        return "starlette"
    raise TypeError(
        f"otelmetrics.instrument() supports Flask and FastAPI/Starlette apps, got "
        f"{type(app).__name__}; for another ASGI app wrap it in "
        "otelmetrics.fastapi.OtelMetricsMiddleware"
    )


def instrument(
    app: Any,
    *,
    handle: MetricsHandle | None = None,
    user_id: UserIdExtractor | None = None,
    api: bool = True,
    authorize: Authorize | None = None,
) -> Any:
    """Instrument a Flask or FastAPI/Starlette app; returns the app.

    Args:
        app: The application object.
        handle: The handle to record into; default: the one ``configure()`` set, or one
            configured from the environment on the first request.
        user_id: ``user_id(request) -> str | None`` for ``app.users.active`` (see
            :mod:`otelmetrics.users`).
        api: Serve the JSON API under ``api_prefix`` and the live page.
        authorize: The API's authorize hook (see :mod:`otelmetrics.auth`).

    Raises:
        TypeError: ``app`` is neither Flask nor Starlette-based.
    """
    if _framework(app) == "flask":
        from otelmetrics.flask import OtelMetrics

        OtelMetrics(app, handle=handle, user_id=user_id, api=api, authorize=authorize)
    else:
        from otelmetrics.fastapi import instrument_app

        instrument_app(app, handle=handle, user_id=user_id, api=api, authorize=authorize)
    return app


def uninstrument(app: Any) -> None:
    """Undo :func:`instrument` (a no-op for an app that is not instrumented)."""
    if _framework(app) == "flask":
        from otelmetrics.flask import OtelMetrics

        OtelMetrics.uninstrument_app(app)
    else:
        from otelmetrics.fastapi import uninstrument_app

        uninstrument_app(app)


def instrument_http_clients(*, handle: MetricsHandle | None = None) -> list[str]:
    """Record the outgoing calls of ``requests``, ``httpx`` (sync and async) and ``aiohttp``.

    Each call made through an installed library gets ``http.client.request.duration``, the body
    sizes where known and ``http.client.active_requests``; a call that fails without a response
    counts with ``error.type`` = the exception's class name, and the exception reaches the caller
    unchanged. otelmetrics' own exports are never counted. A second call logs a warning and
    changes nothing. Usage::

        otelmetrics.instrument_http_clients()
        with otelmetrics.url_template("/api/v3/order/{id}"):   # optional: url.template
            requests.get(f"https://api.exchange.example/api/v3/order/{order_id}")

    Args:
        handle: The handle to record into; default: the one ``configure()`` set, or one
            configured from the environment on the first call.

    Returns:
        The libraries patched (``["aiohttp", "httpx", "requests"]`` with all three installed).
    """
    if handle is not None:
        found = handle.http_clients
        return http_clients.instrument(lambda: found)
    return http_clients.instrument(_default_clients)


def uninstrument_http_clients() -> None:
    """Undo :func:`instrument_http_clients` (a no-op when the clients are not instrumented)."""
    http_clients.uninstrument()


def _default_clients() -> HttpClientMetrics | None:
    """The default handle's client metrics; None (logged once) when it cannot be configured."""
    from otelmetrics.pipeline import default_handle

    try:
        return default_handle().http_clients
    except Exception:
        _log_once("default", "otelmetrics: outgoing calls go unrecorded", exc_info=True)
        return None
