"""What the operations endpoints answer: the breakout-bot Metrics API's ``/performance`` and
``/all``, and the MT5-style ``/trading``, ``/errors``, ``/security``, ``/status``,
``/dashboard-data`` and ``POST /snapshot``.

Each body is ``{"success": true, **view, "timestamp": <ISO-8601 UTC>}``: the views' keys at the
top level (``/status`` is the MT5 monitoring body as it was). ``/performance`` nests its fields
under ``performance``, as ``/current`` nests ``metrics``: the sample keeps its own
``timestamp`` (epoch seconds, the time it was taken; one sample serves 5 s). The views are
typed in :mod:`otelmetrics.insights`; :mod:`otelmetrics.api.views` joins them.
"""

from __future__ import annotations

import logging

from otelmetrics.api import views
from otelmetrics.api.call import ApiResponse, Call, json_response
from otelmetrics.insights.event_views import errors_view, security_view

__all__ = [
    "dashboard_data",
    "errors",
    "everything",
    "performance",
    "security",
    "snapshot",
    "status",
    "trading",
]

_logger = logging.getLogger(__name__)


def performance(call: Call) -> ApiResponse:
    return call.ok(performance=call.source.performance.view())


def trading(call: Call) -> ApiResponse:
    return call.ok(**views.trading(call.source))


def errors(call: Call) -> ApiResponse:
    return call.ok(**errors_view(call.source.events))


def security(call: Call) -> ApiResponse:
    return call.ok(**security_view(call.source.events))


def status(call: Call) -> ApiResponse:
    return call.ok(**views.status(call.source))


def dashboard_data(call: Call) -> ApiResponse:
    return call.ok(**views.dashboard(call.source))


def everything(call: Call) -> ApiResponse:
    return call.ok(**views.everything(call.source))


def snapshot(call: Call) -> ApiResponse:
    """Append one row to the CSV log now. Only a failed write (a full disk, a path that cannot
    be created or written) answers 500, naming the OS's reason; nothing of the row is kept."""
    source = call.source
    try:
        row = source.snapshots.snapshot()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        _logger.error("otelmetrics: snapshot to %s failed: %s", source.snapshots.path, reason)
        source.events.record_error("snapshot", f"snapshot not written: {reason}")
        error = f"Snapshot not written: the snapshot file cannot be written ({reason})"
        return json_response(500, {"error": error, "reason": reason})
    _logger.info("otelmetrics: snapshot appended through the API by %s", call.request.client)
    return call.ok(message="Metrics snapshot appended", snapshot=row)
