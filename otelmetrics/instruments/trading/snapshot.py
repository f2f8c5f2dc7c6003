"""The JSON-ready view of the trading state that the JSON API serves (``/trading``).

Bounded like the state it reads: one entry per kept venue, breaker or broker.
"""

from __future__ import annotations

from typing import Any

from otelmetrics.instruments.trading.state import (
    CLOSED,
    HALF_OPEN,
    OPEN,
    Breaker,
    Feed,
    TradingState,
)
from otelmetrics.instruments.trading.windows import Today

STATE_NAMES = {CLOSED: "closed", OPEN: "open", HALF_OPEN: "half_open"}


def snapshot(state: TradingState, now: float, currency: str) -> dict[str, Any]:
    """The JSON-ready view described in :meth:`TradingMetrics.snapshot`; call with the lock held."""
    today = state.today.at(now)
    return {
        "time": now,
        "currency": currency,
        "orders_today": _orders(today.orders),
        "positions": {
            "opened_today": today.opened,
            "closed_today": today.closed,
            "open": sum(state.open.values()),
        },
        "pnl": {
            "today": today.pnl,
            "realized": state.outcomes.realized,
            "unrealized": sum(state.unrealized.values(), 0.0),
        },
        "trades": _trades(state, now, today),
        "feeds": {venue: _feed(feed, now) for venue, feed in state.feeds.items()},
        "circuit_breakers": {name: _breaker(b) for name, b in state.breakers.items()},
        "brokers": {
            venue: {"connected": b.connected, "failures": b.failures}
            for venue, b in state.brokers.items()
        },
    }


def _trades(state: TradingState, now: float, today: Today) -> dict[str, Any]:
    o, window = state.outcomes, state.window
    rate = window.win_rate(now)
    return {
        "deals_today": today.closed,
        "total": o.trades,
        "wins": o.wins,
        "losses": o.losses,
        "win_rate_pct": None if rate is None else rate * 100.0,
        "avg_win": o.win_sum / o.wins if o.wins else None,
        "avg_loss": o.loss_sum / o.losses if o.losses else None,
        "per_hour": window.count(now) * 3600.0 / window.seconds,
        "window_seconds": window.seconds,
    }


def _orders(counts: dict[str, int]) -> dict[str, Any]:
    failed = counts["rejected"] + counts["failed"]
    decided = counts["filled"] + failed
    return {
        "total": counts["placed"],
        "successful": counts["filled"],
        "failed": failed,
        "rejected": counts["rejected"],
        "cancelled": counts["cancelled"],
        "success_rate_pct": counts["filled"] * 100.0 / decided if decided else None,
    }


def _feed(feed: Feed, now: float) -> dict[str, Any]:
    status = None if feed.connected is None else "connected" if feed.connected else "disconnected"
    return {
        "ws_status": status,
        "reconnects": feed.reconnects,
        "trades_per_min": feed.trades.total(now),
    }


def _breaker(breaker: Breaker) -> dict[str, Any]:
    return {
        "state": STATE_NAMES[breaker.state],
        "value": breaker.state,
        "trips": breaker.trips,
        "last_trip": breaker.last_trip,
    }
