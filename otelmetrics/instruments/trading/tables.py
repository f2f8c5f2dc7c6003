"""The trading counters and histograms: attribute names, bucket bounds, specs and lean tables.

Names, kinds, units and attributes are the contract in docs/metrics.md's "Trading metrics" table
(the gauges are in :mod:`~otelmetrics.instruments.trading.gauges`). All tables of one facade
share its lock, so a call that updates several (an order fill with its latency, a closed
position) takes one lock.
"""

from __future__ import annotations

import threading
from typing import NamedTuple

from otelmetrics.core.store import InstrumentSpec, Layout, SeriesTable

SYMBOL, SIDE, ORDER_TYPE, VENUE = (
    "trading.symbol",
    "trading.side",
    "trading.order.type",
    "trading.venue",
)
STATUS, OUTCOME, BREAKER = "trading.order.status", "trading.outcome", "circuit_breaker.name"
EXCHANGE, PAIR, EVENT_TYPE = "exchange.venue", "exchange.pair", "exchange.event.type"

# Signal -> acknowledgement, and exchange message latency: fine enough for ms-level quantiles.
LATENCY_BOUNDS = (
    0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1,
    0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0,
)  # fmt: skip
# Realized P&L per trade, in the account currency. The first bound is 0, not negative: with a
# negative bound prometheus_client (OpenMetrics) drops the histogram's _sum and _count, which
# are the cumulative P&L and the trade count. Every loss falls in the le=0 bucket; its size is
# in _sum by trading.outcome=loss (an OTLP exponential histogram keeps the full distribution).
PNL_BOUNDS = (0.0, 1.0, 5.0, 10.0, 50.0, 100.0, 500.0, 1000.0, 5000.0, 10000.0)
# Holding duration: one second to one week.
HOLDING_BOUNDS = (
    1.0, 5.0, 15.0, 30.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 14400.0, 28800.0, 86400.0,
    259200.0, 604800.0,
)  # fmt: skip
# Engine cycle and scanner scan: one millisecond to one minute.
TIMING_BOUNDS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
)  # fmt: skip


def _counter(name: str, unit: str, description: str) -> InstrumentSpec:
    return InstrumentSpec(name, "counter", unit, description)


def _histogram(name: str, unit: str, description: str, bounds: tuple[float, ...]) -> InstrumentSpec:
    return InstrumentSpec(name, "histogram", unit, description, bounds)


ORDERS = _counter(
    "trading.orders", "{order}", "Orders by status (placed, filled, rejected, failed, cancelled)."
)
ORDER_LATENCY = _histogram(
    "trading.order.latency", "s", "Order latency, signal to acknowledgement.", LATENCY_BOUNDS
)
TRADES = _counter("trading.trades", "{trade}", "Realized round trips by outcome (win, loss, ...).")
POSITION_DURATION = _histogram(
    "trading.position.duration", "s", "How long a closed position was held.", HOLDING_BOUNDS
)
BREAKER_TRIPS = _counter("circuit_breaker.trips", "{trip}", "Circuit breaker transitions to open.")
FEED_LATENCY = _histogram(
    "exchange.feed.latency", "s", "Exchange websocket message latency.", LATENCY_BOUNDS
)
FEED_RECONNECTS = _counter("exchange.feed.reconnects", "{reconnect}", "Feed reconnections.")
FEED_EVENTS = _counter("exchange.feed.events", "{event}", "Feed events processed, by type.")
FEED_TRADES = _counter("exchange.feed.trades", "{trade}", "Trades received from the feed.")
ENGINE_CYCLE = _histogram(
    "trading.engine.cycle.duration", "s", "Duration of one engine cycle.", TIMING_BOUNDS
)
SCANNER = _histogram(
    "trading.scanner.duration", "s", "Duration of one scanner scan.", TIMING_BOUNDS
)
MARKET_DATA_DELAY = _histogram(
    "trading.market_data.delay",
    "s",
    "Delay between market data receipt and its processing.",
    LATENCY_BOUNDS,
)
BROKER_FAILURES = _counter(
    "trading.broker.connection.failures", "{failure}", "Failed broker connection attempts."
)


def pnl_spec(unit: str) -> InstrumentSpec:
    return _histogram(
        "trading.trade.pnl",
        unit,
        "Realized P&L per closed trade (losses negative); its sum is the cumulative P&L.",
        PNL_BOUNDS,
    )


class Tables(NamedTuple):
    """One lean table per counter or histogram of the facade."""

    orders: SeriesTable
    latency: SeriesTable
    pnl: SeriesTable
    trades: SeriesTable
    duration: SeriesTable
    trips: SeriesTable
    feed_latency: SeriesTable
    reconnects: SeriesTable
    events: SeriesTable
    feed_trades: SeriesTable
    cycle: SeriesTable
    scanner: SeriesTable
    market_data: SeriesTable
    broker_failures: SeriesTable


def make_tables(money_unit: str, *, limit: int, layout: Layout, lock: threading.Lock) -> Tables:
    """One table per instrument, all sharing ``lock``."""

    def table(spec: InstrumentSpec, *attributes: str) -> SeriesTable:
        return SeriesTable((spec,), attributes, limit=limit, layout=layout, lock=lock)

    order = (SYMBOL, SIDE, ORDER_TYPE, VENUE)
    return Tables(
        orders=table(ORDERS, STATUS, *order),
        latency=table(ORDER_LATENCY, *order),
        pnl=table(pnl_spec(money_unit), SYMBOL, VENUE, OUTCOME),
        trades=table(TRADES, SYMBOL, VENUE, OUTCOME),
        duration=table(POSITION_DURATION, SYMBOL),
        trips=table(BREAKER_TRIPS, BREAKER),
        feed_latency=table(FEED_LATENCY, EXCHANGE, PAIR),
        reconnects=table(FEED_RECONNECTS, EXCHANGE),
        events=table(FEED_EVENTS, EXCHANGE, EVENT_TYPE),
        feed_trades=table(FEED_TRADES, EXCHANGE, PAIR),
        cycle=table(ENGINE_CYCLE),
        scanner=table(SCANNER),
        market_data=table(MARKET_DATA_DELAY),
        broker_failures=table(BROKER_FAILURES, VENUE),
    )
