"""``GET /trading``: the MT5-style operations view of what the trading calls recorded.

Built from ``TradingMetrics.snapshot()`` alone, so it is tested without a clock::

    trading_view(trading.snapshot(), breaker_names=("kraken-orders",))
    # {"orders_today": {"total": 3, ...}, "order_success_rate": 66.67, ..., "brokers": {...}}

Every configured breaker appears, closed until it trips; money is in ``settings.currency``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any, TypedDict

__all__ = [
    "BreakerState",
    "BrokerState",
    "FeedState",
    "OrdersToday",
    "Positions",
    "TradingView",
    "trading_view",
]


class OrdersToday(TypedDict):
    total: int
    successful: int
    failed: int
    rejected: int


class Positions(TypedDict):
    opened: int
    closed: int
    open: int


class FeedState(TypedDict):
    """An exchange feed: ``ws_status`` connected, disconnected, or None before any report."""

    ws_status: str | None
    reconnects: int
    trades_per_min: float


class BreakerState(TypedDict):
    """A circuit breaker: ``state`` closed, open or half_open (``value`` 0, 1, 2)."""

    state: str
    value: int
    trips: int
    last_trip: str | None


class BrokerState(TypedDict):
    """A broker connection: ``connected`` None before any report."""

    connected: bool | None
    failures: int


class TradingView(TypedDict):
    """``/trading``: orders, positions and P&L today, trades, feeds, breakers and brokers."""

    orders_today: OrdersToday
    order_success_rate: float | None
    positions: Positions
    pnl_today: float
    pnl_realized: float
    pnl_unrealized: float
    currency: str
    deals_today: int
    win_rate: float | None
    wins: int
    losses: int
    avg_win: float | None
    avg_loss: float | None
    trade_frequency_per_hour: float | None
    trade_window_seconds: float
    trades_per_min: float | None
    feeds: dict[str, FeedState]
    circuit_breakers: dict[str, BreakerState]
    brokers: dict[str, BrokerState]


def trading_view(
    snapshot: Mapping[str, Any], breaker_names: Iterable[str] | None = None
) -> TradingView:
    """``/trading`` from ``TradingMetrics.snapshot()``; ``breaker_names`` always appear."""
    orders, trades, positions = snapshot["orders_today"], snapshot["trades"], snapshot["positions"]
    pnl, feeds = snapshot["pnl"], snapshot["feeds"]
    return {
        "orders_today": {
            "total": orders["total"],
            "successful": orders["successful"],
            "failed": orders["failed"],
            "rejected": orders["rejected"],
        },
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
        "feeds": {venue: _feed(feed) for venue, feed in feeds.items()},
        "circuit_breakers": _breakers(snapshot["circuit_breakers"], breaker_names),
        "brokers": {venue: _broker(broker) for venue, broker in snapshot["brokers"].items()},
    }


_CLOSED: BreakerState = {"state": "closed", "value": 0, "trips": 0, "last_trip": None}


def _breakers(
    states: Mapping[str, Mapping[str, Any]], names: Iterable[str] | None
) -> dict[str, BreakerState]:
    """The configured breakers (closed until they trip), then any other that reported."""
    breakers = {name: _CLOSED.copy() for name in names or ()}
    for name, state in states.items():
        breakers[name] = {
            "state": state["state"],
            "value": state["value"],
            "trips": state["trips"],
            "last_trip": _iso_or_none(state.get("last_trip")),
        }
    return breakers


def _feed(feed: Mapping[str, Any]) -> FeedState:
    return {
        "ws_status": feed["ws_status"],
        "reconnects": feed["reconnects"],
        "trades_per_min": feed["trades_per_min"],
    }


def _broker(broker: Mapping[str, Any]) -> BrokerState:
    return {"connected": broker["connected"], "failures": broker["failures"]}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _iso_or_none(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, timezone.utc).isoformat()
