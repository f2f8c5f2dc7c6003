"""Orders: counted by status (``trading.orders``), with their latency (``trading.order.latency``).

The ``order_*`` methods of the facade (``self`` is the facade's
:class:`~otelmetrics.instruments.trading.shared.Shared` state). Each resolves its raw
arguments to a series once (see :mod:`~otelmetrics.instruments.trading.labels`), then costs
one dict lookup and one uncontended lock.
"""

from __future__ import annotations

from otelmetrics.core.store import Aggregator, Key
from otelmetrics.instruments.trading.labels import lowered, remember, required
from otelmetrics.instruments.trading.shared import Shared

SIDES = {"buy": "buy", "sell": "sell"}


def order_placed(
    self: Shared, symbol: str, side: str, order_type: str = "market", venue: str | None = None
) -> None:
    """Count an order sent (``trading.orders``, status ``placed``); side is buy or sell."""
    try:
        _record(self, "placed", symbol, side, order_type, venue, None)
    except Exception as exc:
        self._checks.failed("order_placed", exc)


def order_filled(
    self: Shared,
    symbol: str,
    side: str,
    order_type: str = "market",
    venue: str | None = None,
    latency: float | None = None,
) -> None:
    """Count a fill; ``latency`` (s, signal to acknowledgement) feeds the latency histogram."""
    try:
        _record(self, "filled", symbol, side, order_type, venue, latency)
    except Exception as exc:
        self._checks.failed("order_filled", exc)


def order_rejected(
    self: Shared, symbol: str, side: str, order_type: str = "market", venue: str | None = None
) -> None:
    """Count an order the venue rejected (status ``rejected``)."""
    try:
        _record(self, "rejected", symbol, side, order_type, venue, None)
    except Exception as exc:
        self._checks.failed("order_rejected", exc)


def order_failed(
    self: Shared, symbol: str, side: str, order_type: str = "market", venue: str | None = None
) -> None:
    """Count an order that failed before the venue answered (status ``failed``)."""
    try:
        _record(self, "failed", symbol, side, order_type, venue, None)
    except Exception as exc:
        self._checks.failed("order_failed", exc)


def order_cancelled(
    self: Shared, symbol: str, side: str, order_type: str = "market", venue: str | None = None
) -> None:
    """Count a cancelled order (status ``cancelled``; not a failure in the success rate)."""
    try:
        _record(self, "cancelled", symbol, side, order_type, venue, None)
    except Exception as exc:
        self._checks.failed("order_cancelled", exc)


def order_latency(
    self: Shared,
    seconds: float,
    symbol: str,
    side: str,
    order_type: str = "market",
    venue: str | None = None,
) -> None:
    """Record one order latency (s, signal to acknowledgement) without counting an order."""
    try:
        value = self._checks.seconds(seconds, "order latency")
        if value is None:
            return
        raw = (symbol, side, order_type, venue)
        with self._lock:
            key = self._order_keys.get(raw) or _key(self, raw)
            if key is not None:
                table = self._tables.latency
                (table.series.get(key) or table.get(key))[0].add(value)
    except Exception as exc:
        self._checks.failed("order_latency", exc)


def _record(
    self: Shared,
    status: str,
    symbol: str,
    side: str,
    order_type: str,
    venue: str | None,
    latency: float | None,
) -> None:
    if latency is not None:
        latency = self._checks.seconds(latency, "order latency")
        if latency is None:
            return
    now = self.clock()
    raw = (status, symbol, side, order_type, venue)
    lock = self._lock
    lock.acquire()  # cheaper than `with` on the hot path
    try:
        series = self._order_series.get(raw) or _resolve(self, raw)
        if series is None:
            return
        count, key = series
        count.add(1)
        if latency is not None:
            table = self._tables.latency
            (table.series.get(key) or table.get(key))[0].add(latency)
        self._state.today.at(now).orders[status] += 1
    finally:
        lock.release()


def _resolve(self: Shared, raw: Key) -> tuple[Aggregator, Key] | None:
    """The count aggregator and bounded key of (status, *raw key); None when dropped."""
    key = self._order_keys.get(raw[1:]) or _key(self, raw[1:])
    if key is None:
        return None
    series = (self._tables.orders.get((raw[0], *key))[0], key)
    return remember(self._order_series, raw, series)


def _key(self: Shared, raw: Key) -> Key | None:
    """(symbol, side, type, venue), validated and bounded; None when dropped."""
    symbol, side, order_type, venue = raw
    normal = SIDES.get(side.lower()) if isinstance(side, str) else None
    if normal is None:
        self._checks.reject("side", f"order side must be 'buy' or 'sell', got {side!r}")
        return None
    labels = self._labels
    key = (
        required(labels.symbols, symbol),
        normal,
        labels.order_types(lowered(order_type)),
        labels.venues(venue),
    )
    return remember(self._order_keys, raw, key)
