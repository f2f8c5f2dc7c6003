"""The statistics: their names, the JSON shapes they are served in, and the snapshot of them
shaped from a window view, totals and gauges.

The shapes are TypedDicts listing their keys in the order they are sent (the API's contract).

:class:`otelmetrics.insights.stats.Stats` shapes this worker's window with :func:`shape`; the
service-wide view (:mod:`otelmetrics.insights.service`) shapes the workers' merged windows the
same way, so both send the same fields::

    view = window.view(now)                       # requests, errors, percentiles (seconds)
    shape(time.time(), view, window.totals, gauges)
    # {"timestamp": "...", "request_rate_rpm": 42.5, ..., "total_errors": 3}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import TypedDict, cast

from otelmetrics.core.window import WindowView
from otelmetrics.insights.health import HealthCheck
from otelmetrics.instruments.process import Sample

__all__ = [
    "STATISTICS",
    "Components",
    "Configuration",
    "Gauges",
    "Health",
    "HealthCheck",
    "RecentSample",
    "SeriesPoint",
    "ServiceSnapshot",
    "Snapshot",
    "Statistics",
    "Totals",
    "components",
    "gauges",
    "iso",
    "numbers",
    "pct",
    "shape",
]

# Every statistic a sample keeps, in the snapshot's order (its timestamp aside).
STATISTICS = (
    "request_rate_rpm",
    "error_rate_pct",
    "server_error_rate_pct",
    "latency_p50_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "active_users",
    "memory_usage_pct",
    "memory_usage_mb",
    "cpu_usage_pct",
    "websocket_connections",
    "total_requests",
    "total_errors",
)


class Snapshot(TypedDict):
    """The statistics now (``/current``'s ``metrics``, one ``/history`` entry): the BotV2
    dashboard's fields, with the 5xx rate after the error rate."""

    timestamp: str
    request_rate_rpm: float
    error_rate_pct: float
    server_error_rate_pct: float
    latency_p50_ms: float
    latency_p95_ms: float
    latency_p99_ms: float
    active_users: int
    memory_usage_pct: float
    memory_usage_mb: float
    cpu_usage_pct: float
    websocket_connections: int
    total_requests: int
    total_errors: int


class RecentSample(TypedDict):
    """One 5-second sample of every statistic (a ``/history?resolution=5s`` entry): the
    snapshot's fields, each number a float."""

    timestamp: str
    request_rate_rpm: float
    error_rate_pct: float
    server_error_rate_pct: float
    latency_p50_ms: float
    latency_p95_ms: float
    latency_p99_ms: float
    active_users: float
    memory_usage_pct: float
    memory_usage_mb: float
    cpu_usage_pct: float
    websocket_connections: float
    total_requests: float
    total_errors: float


class SeriesPoint(TypedDict):
    """One 5-second sample of one statistic (a ``/metric/{name}`` ``data`` entry)."""

    timestamp: str
    value: float


class ServiceSnapshot(Snapshot):
    """``/current?scope=service``: every worker's statistics merged, and how many workers."""

    workers: int


class Totals(TypedDict):
    total_requests: int
    total_errors: int
    total_error_rate_pct: float


class Configuration(TypedDict):
    window_seconds: float
    user_timeout_seconds: float
    max_history_minutes: int


class Statistics(TypedDict):
    """``/statistics``: the snapshot, the totals since start and the window's configuration."""

    current: Snapshot
    totals: Totals
    configuration: Configuration


class Components(TypedDict):
    """Each part of the monitor: operational or unavailable."""

    metrics_monitor: str
    request_tracking: str
    resource_monitoring: str
    websocket_tracking: str


class Health(TypedDict):
    """``/health`` (inside ``success`` and ``version``): healthy, degraded or unhealthy."""

    status: str
    components: Components
    checks: dict[str, HealthCheck]
    current_rpm: float


class Gauges(TypedDict):
    """The statistics read now rather than from the window (summed across workers)."""

    active_users: int
    memory_usage_pct: float
    memory_usage_mb: float
    cpu_usage_pct: float
    websocket_connections: int


def gauges(process: Sample | None, *, active_users: int, websockets: int) -> Gauges:
    """The gauges from a process sample (zeros without one), the users and the connections."""
    return {
        "active_users": active_users,
        "memory_usage_pct": round(process.memory_utilization * 100, 2) if process else 0.0,
        "memory_usage_mb": round(process.rss / 1048576, 1) if process else 0.0,
        "cpu_usage_pct": round(process.cpu_utilization * 100, 2) if process else 0.0,
        "websocket_connections": websockets,
    }


def shape(now: float, view: WindowView, totals: Sequence[int], found: Gauges) -> Snapshot:
    """The snapshot at epoch ``now``: rates and percentiles (ms) from ``view``, the totals since
    start (requests, errors) and the gauges."""
    # At least a minute: right after a start or a reset, 3 requests within 4 ms are 3 per
    # minute, not 45,000 (the rate never exceeds what a one-minute span would show).
    minutes = max(view.seconds, 60.0) / 60 if view.requests else 0.0
    return {
        "timestamp": iso(now),
        "request_rate_rpm": round(view.requests / minutes, 2) if minutes else 0.0,
        "error_rate_pct": pct(view.errors, view.requests),
        "server_error_rate_pct": pct(view.server_errors, view.requests),
        "latency_p50_ms": round(view.p50 * 1000, 3),
        "latency_p95_ms": round(view.p95 * 1000, 3),
        "latency_p99_ms": round(view.p99 * 1000, 3),
        "active_users": found["active_users"],
        "memory_usage_pct": found["memory_usage_pct"],
        "memory_usage_mb": found["memory_usage_mb"],
        "cpu_usage_pct": found["cpu_usage_pct"],
        "websocket_connections": found["websocket_connections"],
        "total_requests": totals[0],
        "total_errors": totals[1],
    }


def numbers(snapshot: Snapshot) -> list[float]:
    """The statistics of ``snapshot`` in :data:`STATISTICS` order, as floats (one sample)."""
    fields = cast(Mapping[str, float], snapshot)  # every field but the timestamp is a number
    return [float(fields[name]) for name in STATISTICS]


def components(*, resources: bool) -> Components:
    """The monitor's parts: all operational, resources unless process sampling fails."""
    return {
        "metrics_monitor": "operational",
        "request_tracking": "operational",
        "resource_monitoring": "operational" if resources else "unavailable",
        "websocket_tracking": "operational",
    }


def statistics_view(
    current: Snapshot, *, window_seconds: float, user_timeout_seconds: float, history_minutes: int
) -> Statistics:
    """The snapshot, the totals since start and the window's configuration (``/statistics``)."""
    requests, errors = current["total_requests"], current["total_errors"]
    return {
        "current": current,
        "totals": {
            "total_requests": requests,
            "total_errors": errors,
            "total_error_rate_pct": pct(errors, requests),
        },
        "configuration": {  # integers when whole, as the BotV2 contract has them
            "window_seconds": _whole(window_seconds),
            "user_timeout_seconds": _whole(user_timeout_seconds),
            "max_history_minutes": history_minutes,
        },
    }


def _whole(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def pct(part: float, whole: float) -> float:
    """``part`` as a percentage of ``whole``, to 2 decimals; 0.0 when ``whole`` is 0."""
    return round(100.0 * part / whole, 2) if whole else 0.0


def iso(epoch: float) -> str:
    """Epoch seconds as ISO-8601 UTC (``2026-01-25T01:16:30.123456+00:00``)."""
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat()
