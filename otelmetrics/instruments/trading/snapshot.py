"""The JSON-ready view of the trading state that the JSON API serves (``/trading``).

Bounded like the state it reads: one entry per kept venue, breaker or broker.
"""

from __future__ import annotations

from typing import TypedDict

from otelmetrics.instruments.trading.state import (
    CLOSED,
    HALF_OPEN,
    OPEN,
    Breaker,
    Feed,
    TradingState,
)
from otelmetrics.instruments.trading.windows import Today

__all__ = ["TradingSnapshot", "snapshot"]

STATE_NAMES = {CLOSED: "closed", OPEN: "open", HALF_OPEN: "half_open"}


class OrdersToday(TypedDict):
    """Orders since midnight (``OTELMETRICS_TIMEZONE``); success = filled / decided, in %."""

    total: int
    successful: int
    failed: int
    rejected: int
    cancelled: int
    success_rate_pct: float | None


class Positions(TypedDict):
    opened_today: int
    closed_today: int
    open: int


class Pnl(TypedDict):
    """In the account currency: today's, realized since start, and open positions'."""

    today: float
    realized: float
    unrealized: float


class Trades(TypedDict):
    """Closed trades: the win rate and the rate per hour over the rolling window."""

    deals_today: int
    total: int
    wins: int
    losses: int
    win_rate_pct: float | None
    avg_win: float | None
    avg_loss: float | None
    per_hour: float
    window_seconds: float


class FeedSnapshot(TypedDict):
    """``ws_status`` is connected, disconnected, or None before any report."""

    ws_status: str | None
    reconnects: int
    trades_per_min: float


class BreakerSnapshot(TypedDict):
    """``state`` closed, open or half_open (``value`` 0, 1, 2); ``last_trip`` in epoch s."""

    state: str
    value: int
    trips: int
    last_trip: float | None


class BrokerSnapshot(TypedDict):
    connected: bool | None
    failures: int


class TradingSnapshot(TypedDict):
    """What :meth:`TradingMetrics.snapshot` returns: one entry per kept venue or breaker."""

    time: float
    currency: str
    orders_today: OrdersToday
    positions: Positions
    pnl: Pnl
    trades: Trades
    feeds: dict[str, FeedSnapshot]
    circuit_breakers: dict[str, BreakerSnapshot]
    brokers: dict[str, BrokerSnapshot]


def snapshot(state: TradingState, now: float, currency: str) -> TradingSnapshot:
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


def _trades(state: TradingState, now: float, today: Today) -> Trades:
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


def _orders(counts: dict[str, int]) -> OrdersToday:
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


def _feed(feed: Feed, now: float) -> FeedSnapshot:
    status = None if feed.connected is None else "connected" if feed.connected else "disconnected"
    return {
        "ws_status": status,
        "reconnects": feed.reconnects,
        "trades_per_min": feed.trades.total(now),
    }


def _breaker(breaker: Breaker) -> BreakerSnapshot:
    return {
        "state": STATE_NAMES[breaker.state],
        "value": breaker.state,
        "trips": breaker.trips,
        "last_trip": breaker.last_trip,
    }
