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
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request
from werkzeug.routing import PathConverter

from otelmetrics.api.call import ApiRequest, ApiResponse
from otelmetrics.api.endpoints import ENDPOINT, Endpoint
from otelmetrics.api.service import MetricsApi, not_found, wrong_method
from otelmetrics.api.sse import MetricsStream

__all__ = ["BLUEPRINT", "mount", "unmount"]

BLUEPRINT = "otelmetrics_api"
EXTENSION = "otelmetrics_api"
DASHBOARD_ENDPOINT = "otelmetrics_dashboard"
ANY_PATH = "otelmetrics_any_path"  # the converter of the 404 fallback under the prefix


def mount(app: Flask, api: MetricsApi) -> None:
    """Serve ``api`` from ``app``: the endpoints under the prefix and the live page.

    Flask cannot remove rules, so after :func:`unmount` the rules stay and answer 404; a second
    ``mount`` reuses them.
    """
    app.extensions[EXTENSION] = api
    if BLUEPRINT in app.blueprints:
        return
    prefix = api.settings.api_prefix.rstrip("/")
    blueprint = Blueprint(BLUEPRINT, __name__, url_prefix=prefix)
    for endpoint in api.routed:
        if endpoint.path is not None:
            rule = endpoint.path.replace("{name}", "<name>")
            view = _view(endpoint)
            blueprint.add_url_rule(
                rule,
                endpoint.name,
                view,
                methods=[endpoint.method],
                provide_automatic_options=False,
            )
    app.register_blueprint(blueprint)
    if DASHBOARD_ENDPOINT not in app.view_functions:
        page = ENDPOINT["dashboard"]
        app.add_url_rule(
            api.settings.dashboard_path,
            DASHBOARD_ENDPOINT,
            _view(page),
            provide_automatic_options=False,
        )
    _add_json_errors(app, api, prefix)


def _add_json_errors(app: Flask, api: MetricsApi, prefix: str) -> None:
    """Rules that answer any other method of an endpoint 405, and any other path under the
    prefix 404, in the API's JSON shape. Werkzeug tries the rules of one path in the order they
    were added and static paths before converters, so the endpoints (and the app's own rules
    under the prefix) still win."""
    for endpoint in api.routed:
        path = api.path(endpoint).replace("{name}", "<name>")
        _add_rule(
            app, path, f"{BLUEPRINT}_405_{endpoint.name}", _refusal(wrong_method, endpoint.methods)
        )
    if not prefix:  # the API at the root: every other path is the app's
        return
    app.url_map.converters.setdefault(ANY_PATH, _AnyPath)
    for n, path in enumerate((prefix, f"{prefix}/<{ANY_PATH}:rest>")):
        _add_rule(app, path, f"{BLUEPRINT}_404_{n}", _refusal(not_found))


class _AnyPath(PathConverter):
    """The rest of a path, whatever it holds: empty, a leading slash, a newline (Werkzeug's
    ``path`` needs a first character other than ``/`` and stops at a newline)."""

    regex = r"[\s\S]*?"
    part_isolating = False  # it spans segments (Werkzeug infers True from a regex without "/")


def _add_rule(app: Flask, path: str, name: str, view: Callable[..., Response]) -> None:
    if name not in app.view_functions:
        app.url_map.add(app.url_rule_class(path, endpoint=name, methods=None))  # every method
        app.view_functions[name] = view


def _refusal(answer: Callable[..., ApiResponse], *args: Any) -> Callable[..., Response]:
    def view(**_: str) -> Response:
        if current_app.extensions.get(EXTENSION) is None:  # unmounted
            return Response(status=404)
        return _response(answer(*args))

    return view


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
