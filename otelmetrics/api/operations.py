"""What the operations endpoints answer (seeds 002-004): the views of
:mod:`otelmetrics.insights.operations` in the API's envelope, and ``POST /snapshot``.

Each body is ``{"success": true, **view, "timestamp": <ISO-8601 UTC>}``: ``/trading``,
``/errors``, ``/security``, ``/status``, ``/dashboard-data`` and ``/all`` serve their view's keys
at the top level (``/status`` is seed 004's body as it was). ``/performance`` nests seed 002's
fields under ``performance``, as ``/current`` nests ``metrics``: the sample keeps its own
``timestamp`` (epoch seconds, the time it was taken; one sample serves 5 s). ``/reset``,
``/clear``, ``/summary``, ``/alerts`` and the SSE stream are in
:mod:`otelmetrics.api.handlers`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from otelmetrics.api.handlers import ApiResponse, json_response
from otelmetrics.insights import operations

if TYPE_CHECKING:
    from otelmetrics.api.service import ApiRequest, MetricsApi
    from otelmetrics.pipeline.handle import MetricsHandle

__all__ = ["OPERATIONS_HANDLERS"]

_logger = logging.getLogger(__name__)

Handler = Callable[["MetricsApi", "ApiRequest", Mapping[str, str]], ApiResponse]


def _view(build: Callable[[MetricsHandle], dict[str, Any]]) -> Handler:
    """A handler serving ``build(handle)``'s keys in the envelope."""

    def handler(api: MetricsApi, request: ApiRequest, params: Mapping[str, str]) -> ApiResponse:
        return api.ok(**build(api.resolve()))

    handler.__name__ = build.__name__
    return handler


def _performance(api: MetricsApi, request: ApiRequest, params: Mapping[str, str]) -> ApiResponse:
    return api.ok(performance=operations.performance_view(api.resolve()))


def _snapshot(api: MetricsApi, request: ApiRequest, params: Mapping[str, str]) -> ApiResponse:
    """Append one row to the CSV log now. Only a failed write (a full disk, a path that cannot
    be created or written) answers 500, naming the OS's reason; nothing of the row is kept."""
    handle = api.resolve()
    try:
        row = handle.snapshots.snapshot()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        _logger.error("otelmetrics: snapshot to %s failed: %s", handle.snapshots.path, reason)
        handle.events.record_error("snapshot", f"snapshot not written: {reason}")
        error = f"Snapshot not written: the snapshot file cannot be written ({reason})"
        return json_response(500, {"error": error, "reason": reason})
    _logger.info("otelmetrics: snapshot appended through the API by %s", request.client)
    return api.ok(message="Metrics snapshot appended", snapshot=row)


OPERATIONS_HANDLERS: dict[str, Handler] = {
    "performance": _performance,
    "trading": _view(operations.trading_view),
    "errors": _view(operations.errors_view),
    "security": _view(operations.security_view),
    "status": _view(operations.status_view),
    "dashboard_data": _view(operations.dashboard_view),
    "all": _view(operations.all_view),
    "snapshot": _snapshot,
}
