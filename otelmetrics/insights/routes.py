"""The per-route view: which route is failing, over the rolling window, worst first.

One row per ``http.route`` with requests in the window (``null``: requests that matched no
route; ``_OTHER``: the routes beyond the kept ones, marked ``overflow``)::

    {"route": "/api/orders", "requests": 120, "requests_per_min": 24.0, "error_rate_pct": 50.0,
     "server_error_rate_pct": 50.0, "latency_p50_ms": 12.1, "latency_p95_ms": 48.0,
     "latency_p99_ms": 95.2, "overflow": false}

Worst first: the highest 5xx rate, then error rate, then p99. A rate divides by at least a
minute, so the first requests after a start or a reset never read as a huge per-minute rate.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypedDict

from otelmetrics.core.routes import OTHER_ROUTE
from otelmetrics.core.window import WindowView
from otelmetrics.insights.statistics import pct

__all__ = ["RouteRow", "route_rows"]


class RouteRow(TypedDict):
    """One route over the window (latencies in ms)."""

    route: str | None
    requests: int
    requests_per_min: float
    error_rate_pct: float
    server_error_rate_pct: float
    latency_p50_ms: float
    latency_p95_ms: float
    latency_p99_ms: float
    overflow: bool


def route_rows(views: Iterable[tuple[str | None, WindowView]]) -> list[RouteRow]:
    """The rows of ``views`` (route, window view), worst first."""
    rows = [_row(route, view) for route, view in views]
    rows.sort(key=_badness, reverse=True)
    return rows


def _row(route: str | None, view: WindowView) -> RouteRow:
    return {
        "route": route,
        "requests": view.requests,
        "requests_per_min": round(view.requests * 60 / max(view.seconds, 60.0), 2),
        "error_rate_pct": pct(view.errors, view.requests),
        "server_error_rate_pct": pct(view.server_errors, view.requests),
        "latency_p50_ms": round(view.p50 * 1000, 3),
        "latency_p95_ms": round(view.p95 * 1000, 3),
        "latency_p99_ms": round(view.p99 * 1000, 3),
        "overflow": route == OTHER_ROUTE,
    }


def _badness(row: RouteRow) -> tuple[float, float, float, int]:
    return (
        row["server_error_rate_pct"],
        row["error_rate_pct"],
        row["latency_p99_ms"],
        row["requests"],
    )
