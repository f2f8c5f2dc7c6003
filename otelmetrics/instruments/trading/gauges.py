"""The trading gauges: observable gauges over the trading state (P&L, positions, breakers, ...).

Each is a gauge callback that reads the current state under the facade's lock; names, units
and attributes are the contract in docs/metrics.md, "Trading metrics".
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

from opentelemetry.metrics import CallbackOptions, Meter, Observation

from otelmetrics.instruments.gauges import Callback, register
from otelmetrics.instruments.trading.state import TradingState
from otelmetrics.instruments.trading.tables import BREAKER, EXCHANGE, SYMBOL, VENUE

Read = Callable[[TradingState, float], Iterator[Observation]]


def register_gauges(
    meter: Meter,
    state: Callable[[], tuple[threading.Lock, TradingState]],
    clock: Callable[[], float],
    *,
    money_unit: str,
    limit: int,
) -> None:
    """Register the trading gauges; each reads the current state under its lock.

    Args:
        meter: Where the gauges register.
        state: The facade's current lock and state (both change on reset or after a fork).
        clock: The facade's clock (epoch seconds).
        money_unit: The unit of P&L and exposure (``{USD}``).
        limit: The cardinality limit of each gauge.
    """

    def observed(read: Read) -> Callback:
        def callback(options: CallbackOptions) -> list[Observation]:
            lock, current = state()
            now = clock()
            with lock:
                return list(read(current, now))

        return callback

    for name, unit, description, read in _gauges(money_unit):
        register(meter, name, observed(read), unit, description, limit=limit)


def _gauges(money: str) -> tuple[tuple[str, str, str, Read], ...]:
    return (
        ("trading.pnl.realized", money, "Realized P&L since start.", _realized),
        ("trading.pnl.today", money, "Realized P&L today (OTELMETRICS_TIMEZONE).", _today),
        ("trading.pnl.unrealized", money, "Unrealized P&L of open positions.", _unrealized),
        ("trading.exposure", money, "Exposure of open positions.", _exposure),
        ("trading.positions.open", "{position}", "Open positions.", _open),
        ("trading.win_rate", "1", "Share of winning trades in the rolling window.", _win_rate),
        (
            "circuit_breaker.state",
            "{state}",
            "Circuit breaker state: 0 closed, 1 open, 2 half-open.",
            _breakers,
        ),
        (
            "exchange.feed.connection.status",
            "{status}",
            "Exchange feed connection: 1 connected, 0 disconnected.",
            _feeds,
        ),
        (
            "trading.broker.connection.status",
            "{status}",
            "Broker connection: 1 connected, 0 disconnected.",
            _brokers,
        ),
    )


def _realized(state: TradingState, now: float) -> Iterator[Observation]:
    yield Observation(state.outcomes.realized)


def _today(state: TradingState, now: float) -> Iterator[Observation]:
    yield Observation(state.today.at(now).pnl)


def _unrealized(state: TradingState, now: float) -> Iterator[Observation]:
    for symbol, value in state.unrealized.items():
        yield Observation(value, {SYMBOL: symbol})


def _exposure(state: TradingState, now: float) -> Iterator[Observation]:
    for symbol, value in state.exposure.items():
        yield Observation(value, {SYMBOL: symbol})


def _open(state: TradingState, now: float) -> Iterator[Observation]:
    for symbol, count in state.open.items():
        yield Observation(count, {SYMBOL: symbol})


def _win_rate(state: TradingState, now: float) -> Iterator[Observation]:
    rate = state.window.win_rate(now)
    if rate is not None:  # no trade in the window: no rate, rather than a misleading 0
        yield Observation(rate)


def _breakers(state: TradingState, now: float) -> Iterator[Observation]:
    for name, breaker in state.breakers.items():
        yield Observation(breaker.state, {BREAKER: name})


def _feeds(state: TradingState, now: float) -> Iterator[Observation]:
    for venue, feed in state.feeds.items():
        if feed.connected is not None:
            yield Observation(int(feed.connected), {EXCHANGE: venue})


def _brokers(state: TradingState, now: float) -> Iterator[Observation]:
    for venue, broker in state.brokers.items():
        if broker.connected is not None:
            yield Observation(int(broker.connected), {VENUE: venue})
