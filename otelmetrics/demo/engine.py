"""The strategy engine: signals, orders through the broker, positions and realized P&L.

Every cycle (0.5 s of simulation clock) the engine calls the exchange REST API through the
circuit breaker (skipping the cycle while it is open), times a scanner scan and the
market-data delay, then per pair either opens a position on a momentum signal (the direction
of the last 5 s) or closes the open one on take-profit (limit order), stop-loss (stop order)
or time (market order). It marks open positions to market for unrealized P&L and exposure.
Every random choice comes from the simulation's one seeded ``random.Random``; timings are
drawn, not measured, so a seed fixes every order and every P&L.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from otelmetrics.demo.breaker import CircuitBreaker
from otelmetrics.demo.broker import Ack, Broker
from otelmetrics.demo.market import Market
from otelmetrics.demo.scenarios import Scenarios

if TYPE_CHECKING:
    from otelmetrics.trading import TradingMetrics

__all__ = ["EngineView", "OrderRecord", "Position", "StrategyEngine"]

ENTRY_CHANCE = 0.15  # per cycle, per pair without a position
LOOKBACK_CYCLES = 10  # momentum: the mid now against the mid 5 s ago
NOTIONALS = (1_000.0, 2_000.0, 5_000.0)  # USD per position
HOLD_SECONDS = (2.0, 10.0)
TAKE_PROFIT = 0.0030
STOP_LOSS = 0.0025
FEE = 0.10  # USD per round trip
LEDGER_KEPT = 10_000  # newest orders kept (a long run must not grow without bound)
SCAN_MEDIAN, CYCLE_WORK_MEDIAN, DELAY_MEDIAN = 0.015, 0.020, 0.003


@dataclass(frozen=True)
class OrderRecord:
    """One order the engine sent and the venue's answer."""

    time: float
    symbol: str
    side: str
    order_type: str
    status: str
    price: float
    quantity: float


@dataclass
class Position:
    """An open position: ``side`` buy is long, sell is short."""

    symbol: str
    side: str
    quantity: float
    entry: float
    opened: float
    exit_after: float

    def pnl(self, price: float) -> float:
        direction = 1.0 if self.side == "buy" else -1.0
        return (price - self.entry) * self.quantity * direction


@dataclass(frozen=True)
class EngineView:
    """What the apps show, published whole after each cycle (safe to read from any thread)."""

    time: float = 0.0
    positions: tuple[dict[str, Any], ...] = ()
    realized: float = 0.0
    wins: int = 0
    losses: int = 0
    orders: int = 0


class StrategyEngine:
    """Attributes: ``ledger`` (the newest orders), ``orders`` (how many since start),
    ``realized`` (P&L since start), ``positions``, ``view`` (the published
    :class:`EngineView`). ``errors(scope, message)`` records failed exchange calls and orders
    that were not filled (scope ``trading``)."""

    def __init__(
        self,
        market: Market,
        broker: Broker,
        breaker: CircuitBreaker,
        *,
        trading: TradingMetrics,
        rng: random.Random,
        scenarios: Scenarios,
        errors: Callable[[str, str], None] = lambda scope, message: None,
        manual_rng: random.Random | None = None,
    ) -> None:
        self.market = market
        self.errors = errors
        self.broker = broker
        self.breaker = breaker
        self.trading = trading
        self.rng = rng
        self.scenarios = scenarios
        self.venue = broker.venue
        self.positions: dict[str, Position] = {}
        self.ledger: deque[OrderRecord] = deque(maxlen=LEDGER_KEPT)  # the newest orders
        self.orders = 0
        self.realized = 0.0
        self.wins = self.losses = 0
        self.view = EngineView()
        self._history = {
            pair: deque([market.mid(pair)], maxlen=LOOKBACK_CYCLES) for pair in market.pairs
        }
        self._manual: deque[tuple[str, str, float]] = deque(maxlen=1000)
        # Orders from the API arrive in real time: their acks draw from their own source, so
        # they never shift the seeded market and strategy.
        self._manual_rng = rng if manual_rng is None else manual_rng

    def submit_manual(self, pair: str, side: str, quantity: float) -> None:
        """Queue an order from the API; the next cycle sends it as a limit order."""
        self._manual.append((pair, side, quantity))

    def cycle(self, now: float) -> None:
        """One engine cycle at ``now``."""
        if self._exchange_api(now):
            self._trade(now)
        self._mark()
        self.view = self._publish(now)

    def _exchange_api(self, now: float) -> bool:
        """The REST call each cycle needs, through the breaker (``breaker_trip`` fails it)."""
        if not self.breaker.allow(now):
            return False
        ok = not self.scenarios.active("breaker_trip", now)
        self.breaker.record(now, ok=ok)
        if not ok:
            self.errors("trading", "exchange API call failed: 503 Service Unavailable")
        return ok

    def _trade(self, now: float) -> None:
        rng, trading = self.rng, self.trading
        scan = _lognormal(rng, SCAN_MEDIAN, 0.4)
        trading.scanner_scan(scan)
        trading.market_data_delay(_lognormal(rng, DELAY_MEDIAN, 0.6))
        for pair in self.market.pairs:
            position = self.positions.get(pair)
            if position is not None:
                self._maybe_exit(position, now)
            elif self.broker.connected and rng.random() < ENTRY_CHANCE:
                self._enter(pair, now)
            self._history[pair].append(self.market.mid(pair))
        while self._manual and self.broker.connected:
            pair, side, quantity = self._manual.popleft()
            self._order(pair, side, "limit", quantity, now, self._manual_rng)
        trading.engine_cycle(scan + _lognormal(rng, CYCLE_WORK_MEDIAN, 0.3))

    def _enter(self, pair: str, now: float) -> None:
        rng, mid = self.rng, self.market.mid(pair)
        side = "buy" if mid >= self._history[pair][0] else "sell"
        quantity = rng.choice(NOTIONALS) / mid
        hold = rng.uniform(*HOLD_SECONDS)
        if self._order(pair, side, "market", quantity, now).status == "filled":
            self.positions[pair] = Position(pair, side, quantity, mid, now, now + hold)
            self.trading.position_opened(pair, venue=self.venue)

    def _maybe_exit(self, position: Position, now: float) -> None:
        mid = self.market.mid(position.symbol)
        move = position.pnl(mid) / (position.entry * position.quantity)
        if move >= TAKE_PROFIT:
            order_type = "limit"
        elif move <= -STOP_LOSS:
            order_type = "stop"
        elif now >= position.exit_after:
            order_type = "market"
        else:
            return
        if not self.broker.connected:
            return
        side = "sell" if position.side == "buy" else "buy"
        ack = self._order(position.symbol, side, order_type, position.quantity, now)
        if ack.status != "filled":
            return
        pnl = round(position.pnl(mid) - FEE, 2)
        del self.positions[position.symbol]
        self.realized += pnl
        self.wins += pnl > 0
        self.losses += pnl < 0
        self.trading.position_closed(
            position.symbol, pnl, venue=self.venue, holding_seconds=now - position.opened
        )

    def _order(
        self,
        pair: str,
        side: str,
        order_type: str,
        quantity: float,
        now: float,
        rng: random.Random | None = None,
    ) -> Ack:
        trading, venue = self.trading, self.venue
        trading.order_placed(pair, side, order_type, venue)
        ack = self.broker.submit(now, rng)
        if ack.status == "filled":
            trading.order_filled(pair, side, order_type, venue, latency=ack.latency)
        elif ack.status == "rejected":
            trading.order_rejected(pair, side, order_type, venue)
            trading.order_latency(ack.latency, pair, side, order_type, venue)
        else:
            trading.order_failed(pair, side, order_type, venue)
        if ack.status != "filled":
            self.errors("trading", f"order {ack.status}: {side} {pair} {order_type}")
        price = self.market.mid(pair)
        self.ledger.append(OrderRecord(now, pair, side, order_type, ack.status, price, quantity))
        self.orders += 1
        return ack

    def _mark(self) -> None:
        for pair in self.market.pairs:
            position = self.positions.get(pair)
            if position is None:
                self.trading.set_unrealized(pair, 0.0, exposure=0.0)
            else:
                mid = self.market.mid(pair)
                pnl = position.pnl(mid)
                self.trading.set_unrealized(pair, pnl, exposure=mid * position.quantity)

    def _publish(self, now: float) -> EngineView:
        positions = tuple(
            {
                "symbol": p.symbol,
                "side": p.side,
                "quantity": round(p.quantity, 6),
                "entry": round(p.entry, 4),
                "mark": round(self.market.mid(p.symbol), 4),
                "unrealized": round(p.pnl(self.market.mid(p.symbol)), 2),
                "opened": round(p.opened, 3),
            }
            for p in self.positions.values()
        )
        return EngineView(
            now, positions, round(self.realized, 2), self.wins, self.losses, self.orders
        )


def _lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0.0, sigma))
