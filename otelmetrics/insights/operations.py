"""The JSON bodies of the operations views (seeds 002-004), framework-neutral.

Each ``*_view(handle)`` returns the body of one endpoint (the API adds ``success`` and
``timestamp``); the pure builders underneath (:func:`trading_body`, :func:`status_body`,
:func:`row_from`) take plain snapshots, so they are tested without a clock::

    operations.trading_view(handle)      # GET /trading
    operations.errors_view(handle)       # GET /errors
    operations.security_view(handle)     # GET /security
    operations.performance_view(handle)  # GET /performance
    operations.status_view(handle)       # GET /status
    operations.summary_view(handle)      # GET /summary: engine, scanner, trading timings
    operations.dashboard_view(handle)    # GET /dashboard-data
    operations.all_view(handle)          # GET /all
    operations.alerts(handle)            # GET /alerts: the statistics' and seed 004's
    operations.feed_event_view(handle)   # the kraken_metrics SSE event
    operations.snapshot_row(handle)      # one CSV row (the SnapshotLog provider)

Percentages are 0..100; money is in ``settings.currency``; times are ISO-8601 UTC, except the
SSE event's epoch-millisecond ``timestamp`` (seed 003).
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from otelmetrics.core.store import SeriesTable
from otelmetrics.insights.alerts import AlertSince, OpsFacts, evaluate
from otelmetrics.insights.feed import feed_event

if TYPE_CHECKING:
    from otelmetrics.pipeline.handle import MetricsHandle

__all__ = [
    "all_view",
    "alerts",
    "dashboard_view",
    "errors_view",
    "facts",
    "feed_event_view",
    "ops_alerts",
    "order_totals",
    "performance_view",
    "row_from",
    "security_view",
    "snapshot_row",
    "status_body",
    "status_view",
    "summary_view",
    "timing",
    "timings",
    "trading_body",
    "trading_view",
]

_SINCE: weakref.WeakKeyDictionary[MetricsHandle, AlertSince] = weakref.WeakKeyDictionary()
_CLOSED = {"state": "closed", "value": 0, "trips": 0, "last_trip": None}

# -- pure builders --------------------------------------------------------------------------


def trading_body(
    snapshot: Mapping[str, Any], *, breaker_names: Iterable[str] | None = None
) -> dict[str, Any]:
    """``/trading`` from ``handle.trading.snapshot()``; configured breakers always appear."""
    orders, trades = snapshot["orders_today"], snapshot["trades"]
    positions, pnl, feeds = snapshot["positions"], snapshot["pnl"], snapshot["feeds"]
    breakers = {name: dict(_CLOSED) for name in breaker_names or ()}
    for name, state in snapshot["circuit_breakers"].items():
        breakers[name] = {**state, "last_trip": _iso_or_none(state.get("last_trip"))}
    return {
        "orders_today": {k: orders[k] for k in ("total", "successful", "failed", "rejected")},
        "order_success_rate": _round(orders["success_rate_pct"]),
        "positions": {
            "opened": positions["opened_today"],
            "closed": positions["closed_today"],
            "open": positions["open"],
        },
        "pnl_today": pnl["today"],
        "pnl_realized": pnl["realized"],
        "pnl_unrealized": pnl["unrealized"],
        "currency": snapshot["currency"],
        "deals_today": trades["deals_today"],
        "win_rate": _round(trades["win_rate_pct"]),
        "wins": trades["wins"],
        "losses": trades["losses"],
        "avg_win": trades["avg_win"],
        "avg_loss": trades["avg_loss"],
        "trade_frequency_per_hour": _round(trades["per_hour"]),
        "trade_window_seconds": trades["window_seconds"],
        "trades_per_min": _round(sum(feed["trades_per_min"] for feed in feeds.values())),
        "feeds": {venue: dict(feed) for venue, feed in feeds.items()},
        "circuit_breakers": breakers,
        "brokers": {venue: dict(broker) for venue, broker in snapshot["brokers"].items()},
    }


def status_body(
    facts: OpsFacts, alerts: Iterable[Mapping[str, Any]], *, uptime_seconds: float
) -> dict[str, Any]:
    """``/status`` (seed 004): healthy without an alert, else degraded with the issues."""
    issues = [str(alert["message"]) for alert in alerts]
    brokers = dict(facts.brokers)
    return {
        "status": "degraded" if issues else "healthy",
        "issues": issues,
        "broker_connected": _all_connected(brokers.values()),
        "brokers": brokers,
        "error_rate": facts.total_error_rate_pct,
        "uptime_hours": round(max(0.0, uptime_seconds) / 3600, 2),
    }


def row_from(
    current: Mapping[str, Any],
    orders: Mapping[str, float],
    brokers: Mapping[str, Mapping[str, Any]],
    *,
    now: float,
    uptime_seconds: float,
) -> dict[str, Any]:
    """One snapshot-log row from ``stats.current()``, order totals by status and brokers."""
    requests, errors = current["total_requests"], current["total_errors"]
    failed = int(orders.get("rejected", 0) + orders.get("failed", 0))
    filled = int(orders.get("filled", 0))
    return {
        "ts_utc": datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "uptime_hours": round(max(0.0, uptime_seconds) / 3600, 4),
        "total_requests": requests,
        "total_errors": errors,
        "error_rate": _pct(errors, requests),
        "orders_placed": int(orders.get("placed", 0)),
        "orders_failed": failed,
        "order_success_rate": _pct(filled, filled + failed) if filled + failed else None,
        "broker_connected": _all_connected(b.get("connected") for b in brokers.values()),
        "broker_failures": sum(int(b.get("failures", 0)) for b in brokers.values()),
    }


def order_totals(table: SeriesTable) -> dict[str, float]:
    """Orders since start by ``trading.order.status``, from the ``trading.orders`` table."""
    totals: dict[str, float] = {}
    for attributes, (value,) in table.snapshot():
        status = str(attributes.get("trading.order.status", "_OTHER"))
        totals[status] = totals.get(status, 0) + value
    return totals


def timing(table: SeriesTable) -> dict[str, Any]:
    """Count, mean, min and max (ms) of a seconds histogram table, over all its series."""
    n, total, low, high = 0, 0.0, float("inf"), float("-inf")
    for _, (point,) in table.snapshot():
        if not hasattr(point, "n"):  # both layouts: (explicit, exponential)
            point = point[0]
        n, total = n + point.n, total + point.total
        low, high = min(low, point.min), max(high, point.max)
    if not n:
        return {"count": 0, "mean_ms": None, "min_ms": None, "max_ms": None}
    return {"count": n, "mean_ms": _ms(total / n), "min_ms": _ms(low), "max_ms": _ms(high)}


# -- views of a handle ----------------------------------------------------------------------


def facts(handle: MetricsHandle, trading: Mapping[str, Any] | None = None) -> OpsFacts:
    """What the seed-004 alerts and ``/status`` read, from the handle's components."""
    snapshot = handle.trading.snapshot() if trading is None else trading
    current = handle.stats.current()
    return OpsFacts(
        total_requests=current["total_requests"],
        total_errors=current["total_errors"],
        errors_24h=handle.events.errors()["errors_24h"],
        invalid_tokens_24h=handle.events.security()["invalid_token_attempts_24h"],
        failed_orders_today=snapshot["orders_today"]["failed"],
        brokers={venue: b["connected"] for venue, b in snapshot["brokers"].items()},
    )


def trading_view(handle: MetricsHandle) -> dict[str, Any]:
    """``GET /trading``."""
    return trading_body(handle.trading.snapshot(), breaker_names=handle.settings.breaker_names)


def errors_view(handle: MetricsHandle) -> dict[str, Any]:
    """``GET /errors``: errors in 24 h, by scope, the last 10 (see :meth:`Events.errors`)."""
    return handle.events.errors()


def security_view(handle: MetricsHandle) -> dict[str, Any]:
    """``GET /security``: denied API requests by type, the recent ones."""
    return handle.events.security()


def performance_view(handle: MetricsHandle) -> dict[str, Any]:
    """``GET /performance``: the process's resources, sampled at most every 5 s."""
    return handle.performance.view()


def ops_alerts(
    handle: MetricsHandle, facts_now: OpsFacts | None = None, *, now: float | None = None
) -> list[dict[str, Any]]:
    """The seed-004 alerts firing now, each with since when."""
    found = facts(handle) if facts_now is None else facts_now
    since = _SINCE.get(handle)
    if since is None:
        since = _SINCE[handle] = AlertSince()
    fired = evaluate(found, handle.settings.thresholds)
    return since.stamp(fired, time.time() if now is None else now)


def alerts(handle: MetricsHandle, facts_now: OpsFacts | None = None) -> list[dict[str, Any]]:
    """``GET /alerts``: the statistics' threshold alerts, then the seed-004 ones."""
    return handle.stats.alerts() + ops_alerts(handle, facts_now)


def status_view(handle: MetricsHandle, facts_now: OpsFacts | None = None) -> dict[str, Any]:
    """``GET /status``: status, issues, broker connection, error rate, uptime hours."""
    found = facts(handle) if facts_now is None else facts_now
    return status_body(found, alerts(handle, found), uptime_seconds=_uptime(handle))


def summary_view(handle: MetricsHandle) -> dict[str, Any]:
    """``GET /summary``: every statistic's count/mean/min/max/latest, and the timings."""
    return {"summary": handle.stats.summary(), **timings(handle)}


def timings(handle: MetricsHandle) -> dict[str, Any]:
    """Engine, scanner and trading timings since start (seed 002's aggregated view)."""
    tables = handle.trading.tables
    return {
        "engine": {"cycle": timing(tables.cycle)},
        "scanner": {"scan": timing(tables.scanner)},
        "trading": {
            "order_latency": timing(tables.latency),
            "market_data_delay": timing(tables.market_data),
            "feed_latency": timing(tables.feed_latency),
        },
    }


def feed_event_view(handle: MetricsHandle, *, now: float | None = None) -> dict[str, Any]:
    """The ``sse_feed_event`` (``kraken_metrics``) payload for the configured feed."""
    settings = handle.settings
    return feed_event(
        handle.feed_latency,
        handle.trading.snapshot(),
        venue=settings.sse_feed_venue,
        pairs=settings.feed_pairs,
        breakers=settings.breaker_names,
        now=time.time() if now is None else now,
    )


def dashboard_view(handle: MetricsHandle) -> dict[str, Any]:
    """``GET /dashboard-data``: every operations view in one body, for a UI."""
    trading = handle.trading.snapshot()
    found = facts(handle, trading)
    every_alert = alerts(handle, found)
    return {
        "status": status_body(found, every_alert, uptime_seconds=_uptime(handle)),
        "alerts": every_alert,
        "current": handle.stats.current(),
        "trading": trading_body(trading, breaker_names=handle.settings.breaker_names),
        "errors": handle.events.errors(),
        "security": handle.events.security(),
        "performance": handle.performance.view(),
        "feed": feed_event_view(handle),
    }


def all_view(handle: MetricsHandle) -> dict[str, Any]:
    """``GET /all``: the dashboard data, the statistics, their history and the timings."""
    stats = handle.stats
    return {
        **dashboard_view(handle),
        "statistics": stats.statistics(),
        "history": stats.history(handle.settings.history_minutes),
        "summary": stats.summary(),
        "timings": timings(handle),
    }


def snapshot_row(handle: MetricsHandle, *, now: float | None = None) -> dict[str, Any]:
    """One row of the CSV snapshot log (``SnapshotLog(provider=lambda: snapshot_row(h))``)."""
    return row_from(
        handle.stats.current(),
        order_totals(handle.trading.tables.orders),
        handle.trading.snapshot()["brokers"],
        now=time.time() if now is None else now,
        uptime_seconds=_uptime(handle),
    )


# -- helpers --------------------------------------------------------------------------------


def _uptime(handle: MetricsHandle) -> float:
    return time.time() - handle.start_ns / 1e9


def _all_connected(states: Iterable[bool | None]) -> bool | None:
    """False if any is disconnected, True if all reported ones are connected, None if none."""
    known = [state for state in states if state is not None]
    return None if not known else all(known)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def _pct(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _iso_or_none(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, timezone.utc).isoformat()
