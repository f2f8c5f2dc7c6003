"""What the trading gauges and the JSON snapshot read: plain, bounded state.

The counters and histograms live in lean tables; this holds what they cannot answer alone:
P&L (cumulative and today's), open positions, unrealized P&L and exposure, a rolling window of
closed trades (win rate, trade frequency), circuit breakers, feeds and brokers. Every dict is
keyed by an already bounded value (symbol, venue, breaker name), so memory is bounded. The
caller holds the trading lock around every method; nothing here locks or reads a clock.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

CLOSED, OPEN, HALF_OPEN = 0, 1, 2
STATE_NAMES = {CLOSED: "closed", OPEN: "open", HALF_OPEN: "half_open"}
STATUSES = ("placed", "filled", "rejected", "failed", "cancelled")
WINDOW_CAP = 10_000  # closed trades kept in the rolling window, whatever its length


class MinuteCounter:
    """Counts of the last 60 seconds, in one-second slots (O(1) add, 60 slots read)."""

    __slots__ = ("stamps", "counts")

    def __init__(self) -> None:
        self.stamps = [-1] * 60
        self.counts = [0.0] * 60

    def add(self, now: float, n: float) -> None:
        second = int(now)
        slot = second % 60
        if self.stamps[slot] != second:
            self.stamps[slot] = second
            self.counts[slot] = 0
        self.counts[slot] += n

    def total(self, now: float) -> float:
        """The sum over the 60 seconds ending at ``now``."""
        second = int(now)
        return sum(
            n
            for stamp, n in zip(self.stamps, self.counts, strict=True)
            if second - 60 < stamp <= second
        )


class TradeWindow:
    """Closed trades of the last ``seconds`` (at most WINDOW_CAP): their count and wins."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.wins = 0
        self._trades: deque[tuple[float, bool]] = deque()

    def add(self, now: float, win: bool) -> None:
        self.evict(now)
        if len(self._trades) >= WINDOW_CAP:
            self.wins -= self._trades.popleft()[1]
        self._trades.append((now, win))
        self.wins += win

    def evict(self, now: float) -> None:
        """Drop trades closed ``seconds`` or more before ``now``."""
        trades, oldest = self._trades, now - self.seconds
        while trades and trades[0][0] <= oldest:
            self.wins -= trades.popleft()[1]

    def count(self, now: float) -> int:
        self.evict(now)
        return len(self._trades)

    def win_rate(self, now: float) -> float | None:
        """Wins / trades in the window (breakeven trades count, as non-wins); None if empty."""
        n = self.count(now)
        return self.wins / n if n else None


@dataclass
class Breaker:
    state: int = CLOSED
    trips: int = 0
    last_trip: float | None = None


@dataclass
class Feed:
    connected: bool | None = None  # None until the feed's status is reported
    reconnects: int = 0
    trades: MinuteCounter = field(default_factory=MinuteCounter)


@dataclass
class Broker:
    connected: bool | None = None
    failures: int = 0


@dataclass
class Outcomes:
    """Realized trades since start: count and P&L sum of wins, of losses, of all."""

    trades: int = 0
    realized: float = 0.0
    wins: int = 0
    win_sum: float = 0.0
    losses: int = 0
    loss_sum: float = 0.0

    def add(self, pnl: float) -> None:
        self.trades += 1
        self.realized += pnl
        if pnl > 0:
            self.wins += 1
            self.win_sum += pnl
        elif pnl < 0:
            self.losses += 1
            self.loss_sum += pnl


class Today:
    """Counts and P&L of the current local day; ``roll`` starts a new one."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self.start = self.end = 0.0  # epoch seconds; empty until the first roll
        self.orders = dict.fromkeys(STATUSES, 0)
        self.opened = self.closed = 0
        self.pnl = 0.0

    def roll(self, now: float) -> None:
        """Make the day holding ``now`` current; its counts start from zero."""
        day = datetime.fromtimestamp(now, self.zone).date()
        self.start = datetime.combine(day, time(), self.zone).timestamp()
        self.end = datetime.combine(day + timedelta(days=1), time(), self.zone).timestamp()
        self.orders = dict.fromkeys(STATUSES, 0)
        self.opened = self.closed = 0
        self.pnl = 0.0

    def at(self, now: float) -> Today:
        """Self, rolled over first when ``now`` is past the current day.

        Never rolls back: a time read before the lock (another thread's, the collection's)
        that lands just before midnight counts in the current day instead of wiping it.
        """
        if now >= self.end:
            self.roll(now)
        return self


class TradingState:
    """The state of one trading facade. Call every method with the trading lock held."""

    def __init__(self, zone: ZoneInfo, window_seconds: float) -> None:
        self.today = Today(zone)
        self.outcomes = Outcomes()
        self.window = TradeWindow(window_seconds)
        self.open: dict[str, int] = {}
        self.unrealized: dict[str, float] = {}
        self.exposure: dict[str, float] = {}
        self.breakers: dict[str, Breaker] = {}
        self.feeds: dict[str, Feed] = {}
        self.brokers: dict[str, Broker] = {}

    def opened(self, symbol: str, now: float) -> None:
        self.open[symbol] = self.open.get(symbol, 0) + 1
        self.today.at(now).opened += 1

    def closed(self, symbol: str, pnl: float, now: float) -> None:
        """One round trip realized: P&L, outcome counts, window, open positions -1 (>= 0)."""
        self.outcomes.add(pnl)
        self.window.add(now, pnl > 0)
        today = self.today.at(now)
        today.closed += 1
        today.pnl += pnl
        self.open[symbol] = max(0, self.open.get(symbol, 0) - 1)

    def feed(self, venue: str) -> Feed:
        found = self.feeds.get(venue)
        if found is None:
            found = self.feeds[venue] = Feed()
        return found

    def breaker(self, name: str) -> Breaker:
        found = self.breakers.get(name)
        if found is None:
            found = self.breakers[name] = Breaker()
        return found

    def broker(self, venue: str) -> Broker:
        found = self.brokers.get(venue)
        if found is None:
            found = self.brokers[venue] = Broker()
        return found

    def snapshot(self, now: float, currency: str) -> dict[str, Any]:
        """The JSON-ready view described in :meth:`TradingMetrics.snapshot`."""
        today = self.today.at(now)
        return {
            "time": now,
            "currency": currency,
            "orders_today": _orders(today.orders),
            "positions": {
                "opened_today": today.opened,
                "closed_today": today.closed,
                "open": sum(self.open.values()),
            },
            "pnl": {
                "today": today.pnl,
                "realized": self.outcomes.realized,
                "unrealized": sum(self.unrealized.values(), 0.0),
            },
            "trades": self._trades(now, today),
            "feeds": {venue: _feed(feed, now) for venue, feed in self.feeds.items()},
            "circuit_breakers": {name: _breaker(b) for name, b in self.breakers.items()},
            "brokers": {
                venue: {"connected": b.connected, "failures": b.failures}
                for venue, b in self.brokers.items()
            },
        }

    def _trades(self, now: float, today: Today) -> dict[str, Any]:
        o, window = self.outcomes, self.window
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
