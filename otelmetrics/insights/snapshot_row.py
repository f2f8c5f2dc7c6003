"""One row of the CSV snapshot log: request totals, orders and brokers now (MT5-style columns).

:class:`otelmetrics.insights.snapshots.SnapshotLog` writes what its provider returns; the
pipeline's provider is :func:`current_row` over the handle's statistics and trading facade::

    SnapshotLog.from_settings(settings, provider=lambda: current_row(stats, trading, start_ns))
    # {"ts_utc": "2026-11-21T12:00:00Z", "uptime_hours": 0.5, "total_requests": 120, ...}
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, TypedDict

from otelmetrics.core.store import SeriesTable
from otelmetrics.insights.statistics import Snapshot, pct
from otelmetrics.insights.stats import Stats
from otelmetrics.insights.status import all_connected
from otelmetrics.instruments.trading.facade import TradingMetrics

__all__ = ["SnapshotRow", "current_row", "order_totals", "snapshot_row"]


class SnapshotRow(TypedDict):
    """One row of the CSV snapshot log (its columns, in order)."""

    ts_utc: str
    uptime_hours: float
    total_requests: int
    total_errors: int
    error_rate: float
    orders_placed: int
    orders_failed: int
    order_success_rate: float | None
    broker_connected: bool | None
    broker_failures: int


def snapshot_row(
    current: Snapshot,
    orders: Mapping[str, float],
    brokers: Mapping[str, Mapping[str, Any]],
    *,
    now: float,
    uptime_seconds: float,
) -> SnapshotRow:
    """The row at epoch ``now`` from ``Stats.current()``, order totals by status (see
    :func:`order_totals`) and the trading snapshot's ``brokers``."""
    requests, errors = current["total_requests"], current["total_errors"]
    failed = int(orders.get("rejected", 0) + orders.get("failed", 0))
    filled = int(orders.get("filled", 0))
    return {
        "ts_utc": datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "uptime_hours": round(max(0.0, uptime_seconds) / 3600, 4),
        "total_requests": requests,
        "total_errors": errors,
        "error_rate": pct(errors, requests),
        "orders_placed": int(orders.get("placed", 0)),
        "orders_failed": failed,
        "order_success_rate": pct(filled, filled + failed) if filled + failed else None,
        "broker_connected": all_connected(b.get("connected") for b in brokers.values()),
        "broker_failures": sum(int(b.get("failures", 0)) for b in brokers.values()),
    }


def order_totals(table: SeriesTable) -> dict[str, float]:
    """Orders since start by ``trading.order.status``, from the ``trading.orders`` table."""
    totals: dict[str, float] = {}
    for attributes, (value,) in table.snapshot():
        status = str(attributes.get("trading.order.status", "_OTHER"))
        totals[status] = totals.get(status, 0) + value
    return totals


def current_row(
    stats: Stats, trading: TradingMetrics, start_ns: int, *, now: float | None = None
) -> SnapshotRow:
    """The row now (stamped ``now``, epoch seconds, when given); the uptime counts from
    ``start_ns`` (epoch nanoseconds, the handle's start)."""
    wall = time.time()
    return snapshot_row(
        stats.current(),
        order_totals(trading.tables.orders),
        trading.snapshot()["brokers"],
        now=wall if now is None else now,
        uptime_seconds=wall - start_ns / 1e9,
    )
