"""Flask extension: request metrics on the lean path, and ``/metrics`` mounted in the app.

Usage (app factories work the same way)::

    from flask import Flask
    from otelmetrics.flask import OtelMetrics

    metrics = OtelMetrics()

    def create_app():
        app = Flask(__name__)
        metrics.init_app(app)
        return app

Per request: a WSGI wrapper times the request to the end of the body (a streamed body, one
without a Content-Length, ends when the server closes it); the ``start_response`` it passes
in notes the status, the Content-Length and the route template (Flask calls it inside the
request context, so no ``after_request`` hook is needed), and the ``got_request_exception``
signal (free when nothing raises) notes the exception type. Requests that raise are counted
as 500 with ``error.type``. ``start_response`` also notes the request's user for
``app.users.active`` (see :mod:`otelmetrics.users`; an extractor that raises is logged once).
A 5xx response or an exception is also recorded in ``handle.events`` (the API's ``/errors``);
a successful request pays one comparison for it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from time import perf_counter
from typing import Any

from flask import (
    Flask,
    Response,
    current_app,
    got_request_exception,
    has_request_context,
    request,
)

from otelmetrics.api import flask_routes as flask_api
from otelmetrics.api.auth import Authorize
from otelmetrics.api.service import MetricsApi
from otelmetrics.instruments.events import Events
from otelmetrics.instruments.http import HttpServerMetrics, current_trace, normalize_method
from otelmetrics.instruments.users import UserIdExtractor, UserTracker
from otelmetrics.pipeline import MetricsHandle, default_handle, tracing
from otelmetrics.settings import Settings

__all__ = ["OtelMetrics"]

_logger = logging.getLogger(__name__)
_ERROR = "otelmetrics.error"
_NO_RESULT = (None, 500, None, None)  # start_response was never called
EXTENSION = "otelmetrics"
METRICS_ENDPOINT = "otelmetrics_metrics"


class OtelMetrics:
    """The Flask extension; keeps no app, per-app state lives in ``app.extensions``.

    Args:
        app: Instrument this app now (or call :meth:`init_app` later).
        handle: The handle to record into; default: the configured one, or one configured from
            the environment on the first request.
        user_id: ``user_id(request) -> str | None`` for ``app.users.active``; default: the
            module-level extractor, else :func:`otelmetrics.instruments.users.user_id_from`.
        api: Serve the JSON API under ``api_prefix`` and the live page (every endpoint but
            ``/health`` and the page is locked until a token, hook or ``api_public`` allows it).
        authorize: The API's authorize hook (see :mod:`otelmetrics.api.auth`).
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
        settings = self._handle.settings if self._handle else Settings.from_env()
        if settings.sdk_disabled:
            return
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
        self.middleware = _Middleware(app.wsgi_app, self)

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
    status, body, content_type = state.resolve().scrape(
        request.remote_addr,
        request.headers.get("Authorization"),
        request.headers.get("Accept"),
    )
    return Response(body, status, content_type=content_type)


def _note_exception(sender: Flask, exception: BaseException, **_: Any) -> None:
    request.environ[_ERROR] = type(exception).__qualname__


class _Middleware:
    """Wraps ``app.wsgi_app``: start, then finish when the body is done (or on a raise)."""

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]], state: _AppState) -> None:
        self.wsgi_app = wsgi_app
        self.state = state
        self.http: HttpServerMetrics | None = None
        self.users: UserTracker | None = None
        self.events: Events | None = None  # 5xx and exceptions go to /errors too
        self.timing = False  # add X-Response-Time (settings.response_time_header)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        http = self.http or self._resolve()
        if http.is_excluded(environ.get("PATH_INFO", "")):
            return self.wsgi_app(environ, start_response)
        method = normalize_method(environ["REQUEST_METHOD"])
        scheme = environ["wsgi.url_scheme"]
        length = environ.get("CONTENT_LENGTH")
        request_size = int(length) if length and length.isdigit() else None
        started = http.start(method, scheme)
        seen: list[Any] = []
        try:
            capture = _capturing(start_response, seen, http.exemplars, self.users, environ)
            if self.timing:
                capture = _timed(capture, started)
            body = self.wsgi_app(environ, capture)
        except BaseException as exc:
            raised = type(exc).__qualname__
            http.finish(started, method, None, 500, scheme, raised, request_size, None)
            _server_error(self.events, method, None, 500, raised)
            raise
        route, status, response_size, trace = seen or _NO_RESULT
        if response_size is None:  # no Content-Length: a streamed body, done when closed
            result = (route, status, request_size, response_size, trace)
            finish = _finish_later(http, self.events, environ, started, method, scheme, result)
            return _FinishOnClose(body, finish)
        error = environ.get(_ERROR)
        http.finish(
            started, method, route, status, scheme, error, request_size, response_size, trace
        )
        if status >= 500:  # the only cost a successful request pays: this comparison
            _server_error(self.events, method, route, status, error)
        return body

    def _resolve(self) -> HttpServerMetrics:
        handle = self.state.resolve()
        self.users = UserTracker(handle.users, self.state.user_id)
        self.events = handle.events
        self.timing = handle.settings.response_time_header
        self.http = handle.http
        return self.http


def _timed(start_response: Callable[..., Any], started: float) -> Callable[..., Any]:
    """``start_response`` adding ``X-Response-Time`` (ms since ``started``, the start time the
    middleware already took)."""

    def timed(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        headers.append(("X-Response-Time", f"{(perf_counter() - started) * 1000:.2f}ms"))
        return start_response(status, headers, exc_info)

    return timed


def _current_request() -> Any:
    """The Flask request, for a custom user-id extractor (None outside a request context)."""
    if not has_request_context():
        return None
    return request._get_current_object()  # type: ignore[attr-defined]


def _capturing(
    start_response: Callable[..., Any],
    seen: list[Any],
    exemplars: bool,
    users: UserTracker | None,
    environ: dict[str, Any],
) -> Callable[..., Any]:
    """``start_response`` that also notes the route, status, Content-Length, trace and user.

    Flask calls it inside the request context, so the matched rule is still at hand.
    """

    def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen[:] = (
            _route(),
            int(status[:3]),
            _content_length(headers),
            current_trace() if exemplars else None,
        )
        if users is not None:
            users.wsgi(environ, _current_request)
        return start_response(status, headers, exc_info)

    return capture


def _route() -> str | None:
    try:
        rule = request._get_current_object().url_rule  # type: ignore[attr-defined]
    except RuntimeError:  # a middleware in between answered outside the request context
        return None
    return rule.rule if rule is not None else None


def _content_length(headers: list[tuple[str, str]]) -> int | None:
    for name, value in headers:
        if name.lower() == "content-length":
            return int(value) if value.isdigit() else None
    return None


def _server_error(
    events: Events | None, method: str, route: str | None, status: int, error: str | None
) -> None:
    """A 5xx or an exception, for ``/errors`` (``record_http_error`` never raises)."""
    if events is not None:
        events.record_http_error(method, route, status, error)


def _finish_later(
    http: HttpServerMetrics,
    events: Events | None,
    environ: dict[str, Any],
    started: float,
    method: str,
    scheme: str,
    result: tuple[Any, ...],
) -> Callable[[], None]:
    """``finish`` bound to one request, for a body that ends later (the closure lives here so
    the locals of ``_Middleware.__call__`` stay fast locals, not cells)."""
    route, status, request_size, response_size, trace = result

    def finish() -> None:
        error = environ.get(_ERROR)
        http.finish(
            started, method, route, status, scheme, error, request_size, response_size, trace
        )
        if status >= 500:
            _server_error(events, method, route, status, error)

    return finish


class _FinishOnClose:
    """A streamed body: the request ends when the server closes the iterable."""

    def __init__(self, body: Iterable[bytes], finish: Callable[[], None]) -> None:
        self._body = body
        self._finish = finish

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._body)

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._finish()
