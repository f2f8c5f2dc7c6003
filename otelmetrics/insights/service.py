"""The statistics of the whole service: every worker's window merged into one snapshot.

Workers that share ``OTELMETRICS_STATS_DIR`` publish their state there on every sample (see
:mod:`otelmetrics.insights.workers`); ``GET /current?scope=service`` reads them all::

    service_snapshot("/run/stats", own_state, time.time(), window_seconds=300.0)
    # {"timestamp": ..., "request_rate_rpm": 250.0, ..., "total_errors": 12, "workers": 4}
"""

from __future__ import annotations

import os
from typing import Any

from otelmetrics.core.window import WindowView
from otelmetrics.insights import workers
from otelmetrics.insights.statistics import Gauges, ServiceSnapshot, shape

__all__ = ["service_snapshot", "shared_directory"]


def service_snapshot(
    directory: str, own: dict[str, Any], now: float, *, window_seconds: float
) -> ServiceSnapshot:
    """The merged snapshot of the live workers in ``directory``, this one (``own``) included.

    Args:
        directory: The shared ``stats_dir``.
        own: This worker's state now (its window, totals and gauges).
        now: Epoch seconds.
        window_seconds: The rolling window; older slots are left out.
    """
    states = workers.collect(directory, own, now)
    merged = workers.merge(states, now, window_seconds)
    view = WindowView(
        merged["requests"],
        merged["errors"],
        merged["server_errors"],
        merged["seconds"],
        *merged["percentiles"],
    )
    summed = merged["gauges"]
    found: Gauges = {
        "active_users": round(summed["active_users"], 2),
        "memory_usage_pct": round(summed["memory_usage_pct"], 2),
        "memory_usage_mb": round(summed["memory_usage_mb"], 2),
        "cpu_usage_pct": round(summed["cpu_usage_pct"], 2),
        "websocket_connections": round(summed["websocket_connections"], 2),
    }
    return {**shape(now, view, merged["totals"], found), "workers": merged["workers"]}


def shared_directory(path: str) -> None:
    """Create the shared ``stats_dir`` if needed; ValueError when it cannot be written."""
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"OTELMETRICS_STATS_DIR={path!r} cannot be created ({exc})") from None
    if not os.access(path, os.W_OK):
        raise ValueError(f"OTELMETRICS_STATS_DIR={path!r} is not writable: pick a directory")
