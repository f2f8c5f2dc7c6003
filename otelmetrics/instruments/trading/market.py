"""Trading calls on the market side: circuit breakers, exchange feeds, engine timing, broker.

Part of :class:`~otelmetrics.trading.TradingMetrics`; see that module for usage. Every public
call catches its own errors: in lenient mode a bad call is logged once and dropped, in strict
mode it raises (``TradingCore._failed``).
"""

from __future__ import annotations

from math import inf
from typing import Any

from otelmetrics.core.store import Aggregator, Key, SeriesTable
from otelmetrics.instruments.trading.core import TradingCore, lowered, remember, required
from otelmetrics.instruments.trading.state import CLOSED, HALF_OPEN, OPEN

BREAKER_STATES: dict[Any, int] = {
    CLOSED: CLOSED,
    OPEN: OPEN,
    HALF_OPEN: HALF_OPEN,
    "closed": CLOSED,
    "open": OPEN,
    "half_open": HALF_OPEN,
    "half-open": HALF_OPEN,
}


class MarketCalls(TradingCore):
    """Circuit breakers, exchange feeds, engine timing and broker connection."""

    # -- circuit breakers -----------------------------------------------------------------

    def breaker_state(self, name: str, state: int | str) -> None:
        """Set a breaker's state: 0/"closed", 1/"open", 2/"half_open"; into open counts a trip."""
        try:
            code = BREAKER_STATES.get(state)
            if code is None:
                self._reject(
                    "breaker_state",
                    f"breaker state must be 0/'closed', 1/'open' or 2/'half_open', got {state!r}",
                )
                return
            now = self.clock()
            with self._lock:
                breaker = required(self._labels.breakers, name)
                self._tables.trips.get((breaker,))  # trips start at 0, so increase() sees the 1st
                if code == OPEN and self._state.breaker(breaker).state != OPEN:
                    self._trip(breaker, now)
                self._state.breaker(breaker).state = code
        except Exception as exc:
            self._failed("breaker_state", exc)

    def breaker_trip(self, name: str) -> None:
        """Count a trip of breaker ``name`` and set it open."""
        try:
            now = self.clock()
            with self._lock:
                self._trip(required(self._labels.breakers, name), now)
        except Exception as exc:
            self._failed("breaker_trip", exc)

    def _trip(self, name: str, now: float) -> None:
        table = self._tables.trips
        (table.series.get((name,)) or table.get((name,)))[0].add(1)
        breaker = self._state.breaker(name)
        breaker.state, breaker.trips, breaker.last_trip = OPEN, breaker.trips + 1, now

    # -- exchange feeds -------------------------------------------------------------------

    def feed_message(
        self, venue: str, pair: str, latency: float, event_type: str = "trade"
    ) -> None:
        """One feed message: ``latency`` (s) by venue and pair, +1 event of ``event_type``.

        The latency also feeds ``handle.feed_latency`` (the SSE feed event's percentiles).
        """
        try:
            value = self._seconds(latency, "feed latency")
            if value is None:
                return
            raw = (venue, pair, event_type)
            lock = self._lock
            lock.acquire()  # cheaper than `with` on the hot path
            try:
                latency_agg, events_agg = self._feed_cache.get(raw) or self._feed_series(raw)
                latency_agg.add(value)
                events_agg.add(1)
            finally:
                lock.release()
            hook = self._feed_hook  # the rolling percentiles, under their own lock
            if hook is not None:
                hook(venue, pair, value)
        except Exception as exc:
            self._failed("feed_message", exc)

    def _feed_series(self, raw: Key) -> tuple[Aggregator, Aggregator]:
        labels = self._labels
        venue = required(labels.venues, raw[0])
        series = (
            self._tables.feed_latency.get((venue, required(labels.symbols, raw[1])))[0],
            self._tables.events.get((venue, labels.events(lowered(raw[2]))))[0],
        )
        return remember(self._feed_cache, raw, series)

    def feed_trade(self, venue: str, pair: str, count: int = 1) -> None:
        """``count`` trades received from the feed (``exchange.feed.trades``, trades/min)."""
        try:
            if not 0 <= count < inf:
                self._reject("count", f"trade count must be a finite number >= 0, got {count!r}")
                return
            now = self.clock()
            raw = (venue, pair)
            lock = self._lock
            lock.acquire()
            try:
                agg, name = self._trade_cache.get(raw) or self._trade_series(raw)
                agg.add(count)
                self._state.feed(name).trades.add(now, count)
            finally:
                lock.release()
        except Exception as exc:
            self._failed("feed_trade", exc)

    def _trade_series(self, raw: Key) -> tuple[Aggregator, str]:
        venue = required(self._labels.venues, raw[0])
        agg = self._tables.feed_trades.get((venue, required(self._labels.symbols, raw[1])))[0]
        return remember(self._trade_cache, raw, (agg, venue))

    def feed_status(self, venue: str, connected: bool) -> None:
        """Set a feed's connection status; connected after a disconnect counts a reconnect."""
        try:
            with self._lock:
                name = required(self._labels.venues, venue)
                self._tables.reconnects.get((name,))  # start at 0 (see breaker_state)
                feed = self._state.feed(name)
                if connected and feed.connected is False:
                    self._reconnect(name)
                feed.connected = bool(connected)
        except Exception as exc:
            self._failed("feed_status", exc)

    def feed_reconnect(self, venue: str) -> None:
        """Count a reconnect of ``venue``'s feed and mark it connected (not counted twice by a
        following ``feed_status(venue, True)``)."""
        try:
            with self._lock:
                name = required(self._labels.venues, venue)
                self._reconnect(name)
                self._state.feed(name).connected = True
        except Exception as exc:
            self._failed("feed_reconnect", exc)

    def _reconnect(self, venue: str) -> None:
        table = self._tables.reconnects
        (table.series.get((venue,)) or table.get((venue,)))[0].add(1)
        self._state.feed(venue).reconnects += 1

    # -- engine timing and broker ---------------------------------------------------------

    def engine_cycle(self, seconds: float) -> None:
        """Duration of one engine cycle (s)."""
        try:
            self._timing(self._tables.cycle, seconds, "engine cycle duration")
        except Exception as exc:
            self._failed("engine_cycle", exc)

    def scanner_scan(self, seconds: float) -> None:
        """Duration of one scanner scan (s)."""
        try:
            self._timing(self._tables.scanner, seconds, "scanner duration")
        except Exception as exc:
            self._failed("scanner_scan", exc)

    def market_data_delay(self, seconds: float) -> None:
        """Delay between market data receipt and its processing (s)."""
        try:
            self._timing(self._tables.market_data, seconds, "market data delay")
        except Exception as exc:
            self._failed("market_data_delay", exc)

    def _timing(self, table: SeriesTable, seconds: float, what: str) -> None:
        value = self._seconds(seconds, what)
        if value is None:
            return
        lock = self._lock
        lock.acquire()
        try:
            (table.series.get(()) or table.get(()))[0].add(value)
        finally:
            lock.release()

    def broker_status(self, venue: str, connected: bool) -> None:
        """Set the broker connection status of ``venue`` (gauge 1/0)."""
        try:
            with self._lock:
                name = required(self._labels.venues, venue)
                self._tables.broker_failures.get((name,))  # start at 0 (see breaker_state)
                self._state.broker(name).connected = bool(connected)
        except Exception as exc:
            self._failed("broker_status", exc)

    def broker_failure(self, venue: str) -> None:
        """Count a failed broker connection attempt; the broker is then disconnected."""
        try:
            with self._lock:
                name = required(self._labels.venues, venue)
                table = self._tables.broker_failures
                (table.series.get((name,)) or table.get((name,)))[0].add(1)
                broker = self._state.broker(name)
                broker.failures += 1
                broker.connected = False
        except Exception as exc:
            self._failed("broker_failure", exc)
