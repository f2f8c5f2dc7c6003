"""The per-host view of outgoing calls: which upstream is slow or failing, worst first.

One row per ``server.address`` with calls in the rolling window (``_OTHER``: the hosts beyond
the kept ones or outside ``OTELMETRICS_CLIENT_HOSTS``, marked ``overflow``)::

    {"host": "api.exchange.example", "requests": 120, "requests_per_min": 24.0,
     "error_rate_pct": 50.0, "failure_rate_pct": 50.0, "latency_p50_ms": 12.1,
     "latency_p95_ms": 48.0, "latency_p99_ms": 95.2, "overflow": false}

``error_rate_pct`` counts 4xx, 5xx and calls that got no response; ``failure_rate_pct`` only
5xx and no response (the upstream's fault). Worst first, ordered as the per-route view is
(:mod:`otelmetrics.insights.routes`, whose rows these are, renamed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from time import perf_counter
from typing import Protocol, TypedDict, TypeVar

from otelmetrics.core.routes import RouteWindows
from otelmetrics.core.window import WindowView
from otelmetrics.insights.routes import route_rows

__all__ = ["ClientRow", "HostSource", "client_rows", "clients_view"]

T = TypeVar("T")


class HostSource(Protocol):
    """The outgoing calls' per-host windows, read under their lock (``HttpClientMetrics``)."""

    def read_hosts(self, read: Callable[[RouteWindows], T]) -> T: ...


class ClientRow(TypedDict):
    """One upstream host over the window (latencies in ms)."""

    host: str | None
    requests: int
    requests_per_min: float
    error_rate_pct: float
    failure_rate_pct: float
    latency_p50_ms: float
    latency_p95_ms: float
    latency_p99_ms: float
    overflow: bool


def client_rows(views: Iterable[tuple[str | None, WindowView]]) -> list[ClientRow]:
    """The rows of ``views`` (host, window view), worst first."""
    return [
        {
            "host": row["route"],
            "requests": row["requests"],
            "requests_per_min": row["requests_per_min"],
            "error_rate_pct": row["error_rate_pct"],
            "failure_rate_pct": row["server_error_rate_pct"],
            "latency_p50_ms": row["latency_p50_ms"],
            "latency_p95_ms": row["latency_p95_ms"],
            "latency_p99_ms": row["latency_p99_ms"],
            "overflow": row["overflow"],
        }
        for row in route_rows(views)
    ]


def clients_view(source: HostSource, now: float | None = None) -> list[ClientRow]:
    """Each host's row as of ``now`` (default: the calls' clock, ``perf_counter``)."""
    at = perf_counter() if now is None else now
    return client_rows(source.read_hosts(lambda windows: windows.views(at)))
