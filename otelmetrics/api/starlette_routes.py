"""The JSON API and the live page as Starlette routes, for FastAPI and Starlette apps (the checks
are in :mod:`otelmetrics.api.service` and the bodies in the endpoints' handlers, shared with the
Flask blueprint).

:func:`otelmetrics.fastapi.instrument_app` adds them unless ``api=False``::

    instrument_app(app, authorize=my_hook)     # GET /api/metrics/current, ... and the live page

Requests are answered in the thread pool (an authorize hook may block); the SSE stream awaits
between events on the event loop and ends when the client disconnects or after
``?max_events=N`` updates.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

import anyio
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Match, Route
from starlette.types import Receive, Scope, Send

from otelmetrics.api.call import ApiRequest, ApiResponse
from otelmetrics.api.endpoints import Endpoint
from otelmetrics.api.service import MetricsApi, not_found, wrong_method
from otelmetrics.api.sse import MetricsStream

__all__ = ["make_routes"]


def make_routes(api: MetricsApi) -> list[BaseRoute]:
    """One route per API endpoint, the live page at ``settings.dashboard_path``, and the
    fallback that answers any other path under the prefix 404 in the API's JSON shape."""
    routes: list[BaseRoute] = [
        _EndpointRoute(
            api.path(endpoint),
            _endpoint(api, endpoint),
            methods=list(endpoint.methods),
            name=f"otelmetrics_{endpoint.name}",
        )
        for endpoint in api.routed
    ]
    prefix = api.settings.api_prefix.rstrip("/")
    if prefix:  # the API at the root: every other path is the app's
        routes.append(_Fallback(prefix))
    return routes


class _EndpointRoute(Route):
    """An endpoint's route: another method answers 405 in the API's JSON shape (Starlette's
    own raises an HTTPException, which FastAPI answers ``{"detail": ...}``)."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.methods and scope["method"] not in self.methods:
            allowed = tuple(sorted(self.methods, key=lambda method: (method != "GET", method)))
            await _response(wrong_method(allowed))(scope, receive, send)
            return
        await super().handle(scope, receive, send)


class _Fallback(Route):
    """Any method on any other path under the prefix (whatever it holds: Starlette's ``path``
    pattern stops at a newline), matched only partially: the router prefers every route that
    matches fully, wherever it is in the list (the app's own routes under the prefix, added
    before or after these)."""

    def __init__(self, prefix: str) -> None:
        super().__init__(prefix, _not_found, name="otelmetrics_not_found")
        self.methods = None  # a function endpoint defaults to GET
        self.prefix = prefix

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        path, root = scope["path"], scope.get("root_path", "")
        if root and path.startswith(root):  # a mounted app sees the path below its mount
            path = path[len(root) :]
        if path == self.prefix or path.startswith(self.prefix + "/"):
            return Match.PARTIAL, {"endpoint": self.endpoint, "path_params": {}}
        return Match.NONE, {}


async def _not_found(request: Request) -> Response:
    return _response(not_found())


def _endpoint(api: MetricsApi, endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
    async def call(request: Request) -> Response:
        result = await run_in_threadpool(
            api.respond, endpoint, _api_request(request), dict(request.path_params)
        )
        return _response(result)

    return call


def _api_request(request: Request) -> ApiRequest:
    return ApiRequest(
        request.method,
        request.url.path,
        _first_values(request.query_params.multi_items()),
        dict(request.headers.items()),  # Starlette already lower-cases the names
        request.client.host if request.client else None,
        request,
    )


def _first_values(items: list[tuple[str, str]]) -> Mapping[str, str]:
    """``?a=1&a=2`` -> ``{"a": "1"}``, as Flask's ``request.args`` reads it."""
    first: dict[str, str] = {}
    for key, value in items:
        first.setdefault(key, value)
    return first


def _response(result: ApiResponse) -> Response:
    headers = dict(result.headers)
    if result.stream is not None:
        return StreamingResponse(
            _events(result.stream),
            result.status,
            headers,
            media_type=result.content_type,
            background=BackgroundTask(result.stream.close),  # also after a disconnect
        )
    return Response(result.body, result.status, headers, media_type=result.content_type)


async def _events(stream: MetricsStream) -> AsyncIterator[bytes]:
    try:
        yield stream.opening()
        while not stream.done:
            await anyio.sleep(stream.interval)
            yield stream.tick()
    finally:
        stream.close()
