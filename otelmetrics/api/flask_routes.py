"""The JSON API and the live page as a Flask blueprint (the checks are in
:mod:`otelmetrics.api.service` and the bodies in the endpoints' handlers, shared with the
Starlette router: the same bytes).

:class:`otelmetrics.flask.OtelMetrics` mounts it unless ``api=False``::

    OtelMetrics(app, authorize=my_hook)       # GET /api/metrics/current, ... and the live page

The SSE stream runs in the worker thread that serves it (use a threaded server or gthread /
gevent workers); it ends when the client disconnects (at the next write) or after
``?max_events=N`` updates.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from flask import Blueprint, Flask, Response, current_app, request

from otelmetrics.api.call import ApiRequest, ApiResponse
from otelmetrics.api.endpoints import ENDPOINT, ENDPOINTS, Endpoint
from otelmetrics.api.service import MetricsApi
from otelmetrics.api.sse import MetricsStream

__all__ = ["BLUEPRINT", "mount", "unmount"]

BLUEPRINT = "otelmetrics_api"
EXTENSION = "otelmetrics_api"
DASHBOARD_ENDPOINT = "otelmetrics_dashboard"


def mount(app: Flask, api: MetricsApi) -> None:
    """Serve ``api`` from ``app``: the endpoints under the prefix and the live page.

    Flask cannot remove rules, so after :func:`unmount` the rules stay and answer 404; a second
    ``mount`` reuses them.
    """
    app.extensions[EXTENSION] = api
    if BLUEPRINT in app.blueprints:
        return
    blueprint = Blueprint(BLUEPRINT, __name__, url_prefix=api.settings.api_prefix.rstrip("/"))
    for endpoint in ENDPOINTS:
        if endpoint.path is not None:
            rule = endpoint.path.replace("{name}", "<name>")
            blueprint.add_url_rule(rule, endpoint.name, _view(endpoint), methods=[endpoint.method])
    app.register_blueprint(blueprint)
    if DASHBOARD_ENDPOINT not in app.view_functions:
        page = ENDPOINT["dashboard"]
        app.add_url_rule(api.settings.dashboard_path, DASHBOARD_ENDPOINT, _view(page))


def unmount(app: Flask) -> None:
    """Stop serving the API (its rules answer 404 from now on)."""
    app.extensions.pop(EXTENSION, None)


def _view(endpoint: Endpoint) -> Callable[..., Response]:
    def view(**params: str) -> Response:
        api: MetricsApi | None = current_app.extensions.get(EXTENSION)
        if api is None:
            return Response(status=404)
        return _response(api.respond(endpoint, _api_request(), params))

    view.__name__ = endpoint.name
    return view


def _api_request() -> ApiRequest:
    return ApiRequest(
        request.method,
        request.path,
        request.args.to_dict(flat=True),
        {name.lower(): value for name, value in request.headers.items()},
        request.remote_addr,
        request._get_current_object(),  # type: ignore[attr-defined]
        # gthread, gevent, eventlet and threaded Werkzeug say True; gunicorn's sync worker not
        can_stream=bool(request.environ.get("wsgi.multithread")),
    )


def _response(result: ApiResponse) -> Response:
    body = _events(result.stream) if result.stream is not None else result.body
    response = Response(body, result.status, content_type=result.content_type)
    response.headers.extend(result.headers)
    if result.stream is not None:  # the WSGI server closes the body, even one never read
        response.call_on_close(result.stream.close)
    return response


def _events(stream: MetricsStream) -> Iterator[bytes]:
    """The SSE body; the server closes it (GeneratorExit at a yield) when the client is gone."""
    try:
        yield stream.opening()
        while not stream.done:
            time.sleep(stream.interval)
            yield stream.tick()
    finally:
        stream.close()
