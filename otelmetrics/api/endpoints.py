"""The JSON API's endpoints, each with its method, path, role, rate-limit class and handler.

The Flask blueprint and the Starlette router register one route per :data:`ENDPOINTS` entry and
hand each request to :meth:`otelmetrics.api.service.MetricsApi.respond`, which checks it and
calls the entry's handler. A new endpoint is one row here and one handler function::

    Endpoint("history", "GET", "/history", "read", "read", core.history, "one per minute")
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from otelmetrics.api import downloads, page
from otelmetrics.api import handlers as core
from otelmetrics.api import operations as ops
from otelmetrics.api.auth import Role
from otelmetrics.api.call import ApiResponse, Call

__all__ = ["ENDPOINT", "ENDPOINTS", "Endpoint", "Handler"]

Handler = Callable[[Call], ApiResponse]


@dataclass(frozen=True)
class Endpoint:
    """One API endpoint: its method, path under the prefix, role, rate-limit class and handler.

    ``role`` None means no authorization (``/health``, the data-free live page). A ``path``
    of None is the live page, served at ``settings.dashboard_path`` rather than under the prefix.
    ``limit`` names the endpoint's budget in ``settings.api_rate_limits``; None (``/health``,
    the live page) is never limited, so a flood cannot make a load balancer's health probe see
    429. ``alias_of`` names the endpoint an alias answers as (same handler, role and budget).
    """

    @property
    def methods(self) -> tuple[str, ...]:
        """The methods it answers: its own, and HEAD with GET."""
        return (self.method, "HEAD") if self.method == "GET" else (self.method,)

    name: str
    method: str
    path: str | None
    role: Role | None
    limit: str | None
    handler: Handler
    summary: str
    alias_of: str | None = None


_ENDPOINTS = (
    Endpoint("current", "GET", "/current", "read", "read", core.current, "the current snapshot"),
    Endpoint("history", "GET", "/history", "read", "read", core.history, "one per minute"),
    Endpoint("statistics", "GET", "/statistics", "read", "read", core.statistics, "and totals"),
    Endpoint("reset", "POST", "/reset", "admin", "reset", core.reset, "reset the statistics"),
    Endpoint("export_json", "GET", "/export/json", "read", "export", downloads.export_json, "JSON"),
    Endpoint("export_csv", "GET", "/export/csv", "read", "export", downloads.export_csv, "CSV"),
    Endpoint("health", "GET", "/health", None, None, core.health, "healthy, degraded, unhealthy"),
    Endpoint("alerts", "GET", "/alerts", "read", "read", core.alerts, "thresholds breached now"),
    Endpoint("metric", "GET", "/metric/{name}", "read", "read", core.metric, "one's series"),
    Endpoint("summary", "GET", "/summary", "read", "read", core.summary, "count/mean/min/max"),
    Endpoint("routes", "GET", "/routes", "read", "read", core.routes, "per route, worst first"),
    Endpoint("clients", "GET", "/clients", "read", "read", core.clients, "per upstream host"),
    Endpoint("users", "GET", "/users", "admin", "read", core.users, "active user ids"),
    Endpoint("sse", "GET", "/sse/metrics", "read", "read", core.stream, "Server-Sent Events"),
    Endpoint("dashboard", "GET", None, None, None, page.dashboard, "the live page"),
    # The operations views (the breakout-bot API's and the MT5-style monitoring views).
    Endpoint("performance", "GET", "/performance", "read", "read", ops.performance, "resources"),
    Endpoint("trading", "GET", "/trading", "read", "read", ops.trading, "orders, positions, P&L"),
    Endpoint("errors", "GET", "/errors", "read", "read", ops.errors, "errors in 24 h, last 10"),
    Endpoint("security", "GET", "/security", "read", "read", ops.security, "denied requests"),
    Endpoint("status", "GET", "/status", "read", "read", ops.status, "the quick check"),
    Endpoint("dashboard_data", "GET", "/dashboard-data", "read", "read", ops.dashboard_data, "all"),
    Endpoint("all", "GET", "/all", "read", "export", ops.everything, "everything collected"),
    Endpoint("snapshot", "POST", "/snapshot", "admin", "snapshot", ops.snapshot, "a CSV row"),
)


def _aliases(*aliases: tuple[str, str, str]) -> tuple[Endpoint, ...]:
    """``(name, path, of)`` -> endpoints answering at ``path`` as the endpoint named ``of``."""
    named = {endpoint.name: endpoint for endpoint in _ENDPOINTS}
    return tuple(
        replace(named[of], name=name, path=path, summary=f"alias of {named[of].path}", alias_of=of)
        for name, path, of in aliases
    )


ENDPOINTS = _ENDPOINTS + _aliases(
    ("clear", "/clear", "reset"),
    # The MT5-style monitoring API's paths: with OTELMETRICS_API_PREFIX=/api/monitoring its
    # clients find every endpoint where they had it. <prefix>/dashboard is the live page's path
    # by default; there a client that asks for JSON, not HTML, gets /dashboard-data.
    ("metrics", "/metrics", "current"),
    ("metrics_trading", "/metrics/trading", "trading"),
    ("metrics_errors", "/metrics/errors", "errors"),
    ("metrics_security", "/metrics/security", "security"),
    ("dashboard_json", "/dashboard", "dashboard_data"),
    ("metrics_snapshot", "/metrics/snapshot", "snapshot"),
    ("metrics_reset", "/metrics/reset", "reset"),
)
ENDPOINT = {endpoint.name: endpoint for endpoint in ENDPOINTS}
