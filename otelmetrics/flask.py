"""Flask extension: request metrics on the lean path, and ``/metrics`` mounted in the app.

Usage (app factories work the same way)::

    from flask import Flask
    from otelmetrics.flask import OtelMetrics

    metrics = OtelMetrics()

    def create_app():
        app = Flask(__name__)
        metrics.init_app(app)
        return app

Per request: a WSGI wrapper (:mod:`otelmetrics.adapters.wsgi`) times the request to the end of
the body, and the ``got_request_exception`` signal (free when nothing raises) notes the
exception type. Requests that raise are counted
as 500 with ``error.type``. ``start_response`` also notes the request's user for
``app.users.active`` (see :mod:`otelmetrics.users`; an extractor that raises is logged once).
A 5xx response or an exception is also recorded in ``handle.events`` (the API's ``/errors``);
a successful request pays one comparison for it.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import (
    Flask,
    Response,
    current_app,
    got_request_exception,
    request,
)

from otelmetrics.adapters.wsgi import ERROR_KEY, WsgiMiddleware
from otelmetrics.api import flask_routes as flask_api
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
from otelmetrics.settings import Settings

__all__ = ["OtelMetrics"]

_logger = logging.getLogger(__name__)
EXTENSION = "otelmetrics"
METRICS_ENDPOINT = "otelmetrics_metrics"


class OtelMetrics:
    """The Flask extension; keeps no app, per-app state lives in ``app.extensions``.

    Args:
        app: Instrument this app now (or call :meth:`init_app` later).
        handle: The handle to record into; default: the configured one, or one configured from
            the environment on the first request.
        user_id: ``user_id(request) -> str | None`` for ``app.users.active``; default: the
            module-level extractor, else :func:`otelmetrics.users.user_id_from`.
        api: Serve the JSON API under ``api_prefix`` and the live page (every endpoint but
            ``/health`` and the page is locked until a token, hook or ``api_public`` allows it).
        authorize: The API's authorize hook (see :mod:`otelmetrics.auth`).
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        handle: MetricsHandle | None = None,
        user_id: UserIdExtractor | None = None,
        api: bool = True,
        authorize: Authorize | None = None,
    ) -> None:
        self._handle = handle
        self._user_id = user_id
        self._api = api
        self._authorize = authorize
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Instrument ``app``; a second call logs a warning and changes nothing."""
        if EXTENSION in app.extensions:
            _logger.warning("otelmetrics: Flask app %r is already instrumented", app.name)
            return
        settings = app_settings(self._handle)
        if settings.sdk_disabled:
            return
        tracing.take_over(app, "flask")
        state = _AppState(app, self._handle, settings, self._user_id)
        app.extensions[EXTENSION] = state
        state.install()
        if self._api:
            flask_api.mount(app, MetricsApi(settings, state.resolve, authorize=self._authorize))

    @staticmethod
    def uninstrument_app(app: Flask) -> None:
        """Undo :meth:`init_app`; the ``/metrics`` and API rules stay (Flask cannot remove
        rules) but answer 404 until the app is instrumented again."""
        state = app.extensions.pop(EXTENSION, None)
        if state is not None:
            state.uninstall()
            flask_api.unmount(app)


class _AppState:
    def __init__(
        self,
        app: Flask,
        handle: MetricsHandle | None,
        settings: Settings,
        user_id: UserIdExtractor | None = None,
    ) -> None:
        self.app = app
        self.handle = handle
        self.settings = settings
        self.user_id = user_id
        self.record = not tracing.auto_instrumented(app)
        self.middleware = WsgiMiddleware(app.wsgi_app, self.resolve, user_id)
        if handle is None:
            wanted_by_an_app()  # a pre-fork worker configures now, not on its first request

    def resolve(self) -> MetricsHandle:
        if self.handle is None:
            self.handle = default_handle()
        return self.handle

    def install(self) -> None:
        app = self.app
        if self.record:
            app.wsgi_app = self.middleware  # type: ignore[method-assign]
            got_request_exception.connect(_note_exception, app, weak=False)
        else:
            _logger.info(
                "otelmetrics: %r is auto-instrumented; its HTTP metrics stay there", app.name
            )
        wants_endpoint = "prometheus" in self.settings.resolved_exporters
        if wants_endpoint and METRICS_ENDPOINT not in app.view_functions:
            app.add_url_rule(self.settings.metrics_path, METRICS_ENDPOINT, _metrics_view)
        tracing.add_spans(app, "flask", self.settings)

    def uninstall(self) -> None:
        app = self.app
        if self.record:
            app.wsgi_app = self.middleware.wsgi_app  # type: ignore[method-assign]
            got_request_exception.disconnect(_note_exception, app)
        tracing.remove_spans(app, "flask")


def _metrics_view() -> Response:
    state = current_app.extensions.get(EXTENSION)
    if state is None:
        return Response(status=404)
    answer = state.resolve().scrape(
        request.remote_addr,
        request.headers.get("Authorization"),
        request.headers.get("Accept"),
        request.headers.get("Accept-Encoding"),
        request.headers.get("X-Prometheus-Scrape-Timeout-Seconds"),
    )
    return Response(answer.body, answer.status, headers=answer.headers())


def _note_exception(sender: Flask, exception: BaseException, **_: Any) -> None:
    request.environ[ERROR_KEY] = type(exception).__qualname__
