"""instrument(app): detect Flask or Starlette/FastAPI and apply the matching adapter.

The frameworks are never imported here: an app can only be a Flask app if ``flask`` is
already imported, and likewise for Starlette.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from otelmetrics.api.auth import Authorize
    from otelmetrics.instruments.user_ids import UserIdExtractor
    from otelmetrics.pipeline import MetricsHandle

__all__ = ["instrument", "uninstrument"]


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
