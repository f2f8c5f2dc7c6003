"""The wrappers put around each HTTP client library's send, one factory per patch point.

Each factory takes the original function and a :data:`Resolve` and returns its replacement.
The replacement measures the call unless no metrics are found or OpenTelemetry's
suppress-instrumentation key is set, records a failure with ``error.type`` = the exception's
class name, and re-raises the caller's exception unchanged. Patch points:

- ``requests``: ``Session.send``, once per hop (a redirect is a second call);
- ``httpx``: ``Client.send`` and ``AsyncClient.send``, once per call (redirects followed inside);
- ``aiohttp``: ``ClientSession._request``, once per call, until the response headers.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from otelmetrics.adapters.client_calls import (
    DEFAULT_PORTS,
    Origin,
    Resolve,
    content_length,
    finish,
    origin,
    suppressed,
)

__all__ = ["PATCHES", "Patch"]

Wrap = Callable[[Callable[..., Any], Resolve], Callable[..., Any]]


Describe = Callable[[Any], tuple[str, Origin]]  # a request -> its method and origin


def _send_wrapper(describe: Describe) -> Wrap:
    """The wrapper factory of a synchronous ``send(request)`` whose request and response have
    case-insensitive ``headers`` and the response a ``status_code`` (requests, httpx)."""

    def wrap(original: Callable[..., Any], resolve: Resolve) -> Callable[..., Any]:
        @functools.wraps(original)
        def send(self: Any, request: Any, **kwargs: Any) -> Any:
            metrics = resolve()
            if metrics is None or suppressed():
                return original(self, request, **kwargs)
            method, where = describe(request)
            call = metrics.start(method, *where)
            size = content_length(request.headers.get("content-length"))
            try:
                response = original(self, request, **kwargs)
            except BaseException as exc:
                finish(metrics, call, None, type(exc).__qualname__, (size, None))
                raise
            received = content_length(response.headers.get("content-length"))
            finish(metrics, call, response.status_code, None, (size, received))
            return response

        return send

    return wrap


def _httpx_origin(url: Any) -> Origin:
    scheme = url.scheme
    return (url.host or None, url.port or DEFAULT_PORTS.get(scheme), scheme)


wrap_requests_send = _send_wrapper(lambda request: (request.method or "GET", origin(request.url)))
wrap_httpx_send = _send_wrapper(lambda request: (request.method, _httpx_origin(request.url)))


def wrap_httpx_async_send(original: Callable[..., Any], resolve: Resolve) -> Callable[..., Any]:
    @functools.wraps(original)
    async def send(self: Any, request: Any, **kwargs: Any) -> Any:
        metrics = resolve()
        if metrics is None or suppressed():
            return await original(self, request, **kwargs)
        call = metrics.start(request.method, *_httpx_origin(request.url))
        size = content_length(request.headers.get("content-length"))
        try:
            response = await original(self, request, **kwargs)
        except BaseException as exc:
            finish(metrics, call, None, type(exc).__qualname__, (size, None))
            raise
        received = content_length(response.headers.get("content-length"))
        finish(metrics, call, response.status_code, None, (size, received))
        return response

    return send


def _aiohttp_origin(session: Any, url: Any) -> Origin:
    found = origin(str(url))
    base = getattr(session, "_base_url", None)
    if found[0] is None and base is not None:  # a path relative to the session's base_url
        return origin(str(base))
    return found


def wrap_aiohttp_request(original: Callable[..., Any], resolve: Resolve) -> Callable[..., Any]:
    @functools.wraps(original)
    async def _request(self: Any, method: str, str_or_url: Any, **kwargs: Any) -> Any:
        metrics = resolve()
        if metrics is None or suppressed():
            return await original(self, method, str_or_url, **kwargs)
        call = metrics.start(method.upper(), *_aiohttp_origin(self, str_or_url))
        data = kwargs.get("data")
        size = len(data) if isinstance(data, bytes | bytearray | str) else None
        try:
            response = await original(self, method, str_or_url, **kwargs)
        except BaseException as exc:
            finish(metrics, call, None, type(exc).__qualname__, (size, None))
            raise
        finish(metrics, call, response.status, None, (size, response.content_length))
        return response

    return _request


@dataclass(frozen=True)
class Patch:
    """One patch point: ``module.owner.attribute`` on the library's supported major versions."""

    library: str  # the distribution's import name, whose __version__ is checked
    module: str
    owner: str
    attribute: str
    majors: tuple[int, ...]
    wrap: Wrap


PATCHES = (
    Patch("requests", "requests.sessions", "Session", "send", (2,), wrap_requests_send),
    Patch("httpx", "httpx", "Client", "send", (0,), wrap_httpx_send),
    Patch("httpx", "httpx", "AsyncClient", "send", (0,), wrap_httpx_async_send),
    Patch("aiohttp", "aiohttp", "ClientSession", "_request", (3,), wrap_aiohttp_request),
)
