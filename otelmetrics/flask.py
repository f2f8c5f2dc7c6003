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
as 500 with ``error.type``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flask import Flask, Response, current_app, got_request_exception, request

from otelmetrics import prometheus, tracing
from otelmetrics.http import HttpServerMetrics, current_trace, normalize_method
from otelmetrics.settings import Settings
from otelmetrics.setup import MetricsHandle, default_handle

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
    """

    def __init__(self, app: Flask | None = None, *, handle: MetricsHandle | None = None) -> None:
        self._handle = handle
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
        state = _AppState(app, self._handle, settings)
        app.extensions[EXTENSION] = state
        state.install()

    @staticmethod
    def uninstrument_app(app: Flask) -> None:
        """Undo :meth:`init_app`; the ``/metrics`` rule stays (Flask cannot remove rules) but
        answers 404 until the app is instrumented again."""
        state = app.extensions.pop(EXTENSION, None)
        if state is not None:
            state.uninstall()


class _AppState:
    def __init__(self, app: Flask, handle: MetricsHandle | None, settings: Settings) -> None:
        self.app = app
        self.handle = handle
        self.settings = settings
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
    status, body, content_type = prometheus.scrape(
        state.resolve(),
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
            body = self.wsgi_app(environ, _capturing(start_response, seen, http.exemplars))
        except BaseException as exc:
            http.finish(
                started, method, None, 500, scheme, type(exc).__qualname__, request_size, None
            )
            raise
        route, status, response_size, trace = seen or _NO_RESULT
        if response_size is None:  # no Content-Length: a streamed body, done when closed
            result = (route, status, request_size, response_size, trace)
            finish = _finish_later(http, environ, started, method, scheme, result)
            return _FinishOnClose(body, finish)
        http.finish(
            started,
            method,
            route,
            status,
            scheme,
            environ.get(_ERROR),
            request_size,
            response_size,
            trace,
        )
        return body

    def _resolve(self) -> HttpServerMetrics:
        self.http = self.state.resolve().http
        return self.http


def _capturing(
    start_response: Callable[..., Any], seen: list[Any], exemplars: bool
) -> Callable[..., Any]:
    """``start_response`` that also notes the route, status, Content-Length and trace.

    Flask calls it inside the request context, so the matched rule is still at hand.
    """

    def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen[:] = (
            _route(),
            int(status[:3]),
            _content_length(headers),
            current_trace() if exemplars else None,
        )
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


def _finish_later(
    http: HttpServerMetrics,
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
