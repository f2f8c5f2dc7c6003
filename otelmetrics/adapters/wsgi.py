"""Flask's per-request path: a WSGI wrapper that times each request to the end of its body.

The ``start_response`` it passes in notes the status, the Content-Length and the route template
(Flask calls it inside the request context, so no ``after_request`` hook is needed); a streamed
body (no Content-Length) ends when the server closes it. :mod:`otelmetrics.flask` installs it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from time import perf_counter
from typing import Any

from flask import has_request_context, request

from otelmetrics.instruments.events import Events
from otelmetrics.instruments.http import HttpServerMetrics, current_trace, normalize_method
from otelmetrics.instruments.user_ids import UserIdExtractor, UserTracker
from otelmetrics.pipeline import MetricsHandle

__all__ = ["ERROR_KEY", "WsgiMiddleware"]

ERROR_KEY = "otelmetrics.error"  # the environ key got_request_exception notes the error type in
_NOT_FLASK = object()  # what the environ holds under werkzeug.request has no url_rule


class WsgiMiddleware:
    """Wraps ``app.wsgi_app``: start, then finish when the body is done (or on a raise).

    Args:
        wsgi_app: The Flask app's WSGI callable.
        resolve: The handle to record into, looked up on the first request (after a fork).
        user_id: The app's own user-id extractor, or None.
    """

    def __init__(
        self,
        wsgi_app: Callable[..., Iterable[bytes]],
        resolve: Callable[[], MetricsHandle],
        user_id: UserIdExtractor | None = None,
    ) -> None:
        self.wsgi_app = wsgi_app
        self.resolve = resolve
        self.user_id = user_id
        self.http: HttpServerMetrics | None = None
        self.users: UserTracker | None = None
        self.events: Events | None = None  # 5xx and exceptions go to /errors too
        self.timing = False  # add X-Response-Time (settings.response_time_header)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        http = self.http or self._resolve()
        if http.is_excluded(environ.get("PATH_INFO", "")):  # /metrics, the API, the page
            if self.timing:
                start_response = _timed(start_response, perf_counter())
            return self.wsgi_app(environ, start_response)
        method = normalize_method(environ["REQUEST_METHOD"])
        scheme = environ["wsgi.url_scheme"]
        length = environ.get("CONTENT_LENGTH")
        request_size = int(length) if length and length.isdigit() else None
        started = http.start(method, scheme)
        capture = _Capture(start_response, self, environ)
        respond: Callable[..., Any] = capture
        try:
            if self.timing:
                respond = _timed(capture, started)
            body = self.wsgi_app(environ, respond)
        except BaseException as exc:
            raised = type(exc).__qualname__
            http.finish(started, method, None, 500, scheme, raised, request_size, None)
            _server_error(self.events, method, None, 500, raised)
            raise
        status = capture.status
        if status:
            route, response_size, trace = capture.route, capture.size, capture.trace
        else:  # start_response was never called
            route, status, response_size, trace = None, 500, None, None
        if response_size is None:  # no Content-Length: a streamed body, done when closed
            result = (route, status, request_size, response_size, trace)
            finish = _finish_later(http, self.events, environ, started, method, scheme, result)
            return _FinishOnClose(body, finish)
        error = environ.get(ERROR_KEY)
        http.finish(
            started, method, route, status, scheme, error, request_size, response_size, trace
        )
        if status >= 500:  # the only cost a successful request pays: this comparison
            _server_error(self.events, method, route, status, error)
        return body

    def _resolve(self) -> HttpServerMetrics:
        handle = self.resolve()
        self.users = UserTracker(handle.users, self.user_id)
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


class _Capture:
    """One request's ``start_response``: notes the route, status, Content-Length, trace and
    user, then calls the server's. One object per request (no closure, no cells, no list).

    Flask calls it inside the request context, so the matched rule is still at hand.
    """

    __slots__ = ("start_response", "middleware", "environ", "route", "status", "size", "trace")

    def __init__(
        self, start_response: Callable[..., Any], middleware: WsgiMiddleware, environ: Any
    ) -> None:
        self.start_response = start_response
        self.middleware = middleware
        self.environ = environ
        self.status = 0  # start_response not called (yet)

    def __call__(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        environ = self.environ
        middleware = self.middleware
        self.route = _route(environ)
        self.status = int(status[:3])
        self.size = _content_length(headers)
        self.trace = current_trace() if middleware.http.exemplars else None  # type: ignore[union-attr]
        users = middleware.users
        if users is not None:
            users.wsgi(environ, _current_request)
        return self.start_response(status, headers, exc_info)


def _route(environ: dict[str, Any]) -> str | None:
    """The matched rule's template: Flask's request is in the environ while its context lives
    (werkzeug keeps it under ``werkzeug.request``), cheaper than the context-local proxy."""
    rule: Any = getattr(environ.get("werkzeug.request"), "url_rule", _NOT_FLASK)
    if rule is _NOT_FLASK:  # a middleware in between copied the environ (or answered itself)
        if not has_request_context():
            return None
        rule = request.url_rule
    return rule.rule if rule is not None else None


def _content_length(headers: list[tuple[str, str]]) -> int | None:
    for name, value in headers:
        if len(name) == 14 and name.lower() == "content-length":
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
        error = environ.get(ERROR_KEY)
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
