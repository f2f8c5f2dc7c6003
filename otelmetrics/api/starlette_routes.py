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
from starlette.routing import BaseRoute, Route

from otelmetrics.api.call import ApiRequest, ApiResponse
from otelmetrics.api.endpoints import ENDPOINTS, Endpoint
from otelmetrics.api.service import MetricsApi
from otelmetrics.api.sse import MetricsStream

__all__ = ["make_routes"]


def make_routes(api: MetricsApi) -> list[BaseRoute]:
    """One route per API endpoint, and the live page at ``settings.dashboard_path``."""
    return [
        Route(
            api.path(endpoint),
            _endpoint(api, endpoint),
            methods=[endpoint.method],
            name=f"otelmetrics_{endpoint.name}",
        )
        for endpoint in ENDPOINTS
    ]


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
