"""``GET /status``: the MT5-style quick check, healthy until an alert fires.

Built from plain values, so it is tested without a clock::

    facts = ops_facts(stats.current(), errors_view(events), security_view(events), snapshot)
    status_view(facts, alerts, uptime_seconds=3600.0)
    # {"status": "degraded", "issues": ["Broker disconnected: mt5"], "broker_connected": False,
    #  "brokers": {"mt5": False}, "error_rate": 0.0, "uptime_hours": 1.0}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypedDict

from otelmetrics.insights.alerts import Alert, OpsFacts
from otelmetrics.insights.event_views import ErrorsView, SecurityView
from otelmetrics.insights.statistics import Snapshot

__all__ = ["StatusView", "all_connected", "ops_facts", "status_view"]


class StatusView(TypedDict):
    """``/status``: healthy without an alert, else degraded with the alerts' messages."""

    status: str
    issues: list[str]
    broker_connected: bool | None
    brokers: dict[str, bool | None]
    error_rate: float
    uptime_hours: float


def ops_facts(
    current: Snapshot, errors: ErrorsView, security: SecurityView, trading: Mapping[str, Any]
) -> OpsFacts:
    """What the operations alerts and ``/status`` read, from the views of now.

    Args:
        current: ``Stats.current()``: the request totals since start.
        errors: ``/errors``: errors in 24 h.
        security: ``/security``: invalid tokens in 24 h.
        trading: ``TradingMetrics.snapshot()``: failed orders today, broker connections.
    """
    return OpsFacts(
        total_requests=current["total_requests"],
        total_errors=current["total_errors"],
        errors_24h=errors["errors_24h"],
        invalid_tokens_24h=security["invalid_token_attempts_24h"],
        failed_orders_today=trading["orders_today"]["failed"],
        brokers={venue: b["connected"] for venue, b in trading["brokers"].items()},
    )


def status_view(facts: OpsFacts, alerts: Iterable[Alert], *, uptime_seconds: float) -> StatusView:
    """Healthy without an alert, else degraded with the issues; uptime in hours."""
    issues = [str(alert["message"]) for alert in alerts]
    brokers = dict(facts.brokers)
    return {
        "status": "degraded" if issues else "healthy",
        "issues": issues,
        "broker_connected": all_connected(brokers.values()),
        "brokers": brokers,
        "error_rate": facts.total_error_rate_pct,
        "uptime_hours": round(max(0.0, uptime_seconds) / 3600, 2),
    }


def all_connected(states: Iterable[bool | None]) -> bool | None:
    """False if any is disconnected, True if all reported ones are connected, None if none."""
    known = [state for state in states if state is not None]
    return None if not known else all(known)
