"""Exchange feeds: message latency and events, trades received, connection status, reconnects.

The feed methods of the facade (``self`` is its
:class:`~otelmetrics.instruments.trading.shared.Shared` state). ``feed_message`` also hands
each valid latency to the facade's ``on_feed_latency`` (the rolling percentiles of the JSON
API's feed event), outside the trading lock.
"""

from __future__ import annotations

from math import inf

from otelmetrics.core.store import Aggregator, Key
from otelmetrics.instruments.trading.labels import lowered, remember, required
from otelmetrics.instruments.trading.shared import Shared


def feed_message(
    self: Shared, venue: str, pair: str, latency: float, event_type: str = "trade"
) -> None:
    """One feed message: ``latency`` (s) by venue and pair, +1 event of ``event_type``.

    The latency also feeds ``handle.feed_latency`` (the SSE feed event's percentiles).
    """
    try:
        value = self._checks.seconds(latency, "feed latency")
        if value is None:
            return
        raw = (venue, pair, event_type)
        lock = self._lock
        lock.acquire()  # cheaper than `with` on the hot path
        try:
            latency_agg, events_agg = self._feed_series.get(raw) or _message_series(self, raw)
            latency_agg.add(value)
            events_agg.add(1)
        finally:
            lock.release()
        hook = self._feed_hook  # the rolling percentiles, under their own lock
        if hook is not None:
            hook(venue, pair, value)
    except Exception as exc:
        self._checks.failed("feed_message", exc)


def _message_series(self: Shared, raw: Key) -> tuple[Aggregator, Aggregator]:
    """The latency and events aggregators of raw (venue, pair, event type)."""
    labels = self._labels
    venue = required(labels.venues, raw[0])
    series = (
        self._tables.feed_latency.get((venue, required(labels.symbols, raw[1])))[0],
        self._tables.events.get((venue, labels.events(lowered(raw[2]))))[0],
    )
    return remember(self._feed_series, raw, series)


def feed_trade(self: Shared, venue: str, pair: str, count: int = 1) -> None:
    """``count`` trades received from the feed (``exchange.feed.trades``, trades/min)."""
    try:
        if not 0 <= count < inf:
            self._checks.reject("count", f"trade count must be a finite number >= 0, got {count!r}")
            return
        now = self.clock()
        raw = (venue, pair)
        lock = self._lock
        lock.acquire()
        try:
            agg, name = self._trade_series.get(raw) or _trade_series(self, raw)
            agg.add(count)
            self._state.feed(name).trades.add(now, count)
        finally:
            lock.release()
    except Exception as exc:
        self._checks.failed("feed_trade", exc)


def _trade_series(self: Shared, raw: Key) -> tuple[Aggregator, str]:
    """The trades aggregator of raw (venue, pair), and the bounded venue."""
    venue = required(self._labels.venues, raw[0])
    agg = self._tables.feed_trades.get((venue, required(self._labels.symbols, raw[1])))[0]
    return remember(self._trade_series, raw, (agg, venue))


def feed_status(self: Shared, venue: str, connected: bool) -> None:
    """Set a feed's connection status; connected after a disconnect counts a reconnect."""
    try:
        with self._lock:
            name = required(self._labels.venues, venue)
            self._tables.reconnects.get((name,))  # reconnects start at 0, as breaker trips
            feed = self._state.feed(name)
            if connected and feed.connected is False:
                _reconnect(self, name)
            feed.connected = bool(connected)
    except Exception as exc:
        self._checks.failed("feed_status", exc)


def feed_reconnect(self: Shared, venue: str) -> None:
    """Count a reconnect of ``venue``'s feed and mark it connected (not counted twice by a
    following ``feed_status(venue, True)``)."""
    try:
        with self._lock:
            name = required(self._labels.venues, venue)
            _reconnect(self, name)
            self._state.feed(name).connected = True
    except Exception as exc:
        self._checks.failed("feed_reconnect", exc)


def _reconnect(self: Shared, venue: str) -> None:
    """Count a reconnect of ``venue``'s feed; call with the lock held."""
    table = self._tables.reconnects
    (table.series.get((venue,)) or table.get((venue,)))[0].add(1)
    self._state.feed(venue).reconnects += 1
