"""What the trading gauges and the JSON snapshot read: plain, bounded state.

The counters and histograms live in lean tables; this holds what they cannot answer alone:
P&L (cumulative and today's), open positions, unrealized P&L and exposure, a rolling window of
closed trades (win rate, trade frequency), circuit breakers, feeds and brokers. Every dict is
keyed by an already bounded value (symbol, venue, breaker name), so memory is bounded. The
caller holds the trading lock around every method; nothing here locks or reads a clock. The
JSON view of it is :mod:`~otelmetrics.instruments.trading.snapshot`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from otelmetrics.instruments.trading.windows import MinuteCounter, Today, TradeWindow

CLOSED, OPEN, HALF_OPEN = 0, 1, 2


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
