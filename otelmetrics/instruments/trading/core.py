"""The core of the trading facade: lock, tables, bounded labels, state, checks, snapshot, reset.

:class:`~otelmetrics.trading.TradingMetrics` builds on :class:`TradingCore` (through
:class:`~otelmetrics.instruments.trading.market.MarketCalls`); the calls live in those modules.

Each call kind keeps a cache from its raw arguments to the resolved series, so a repeated call
costs one dict lookup. A cache stops growing at CACHE_LIMIT keys: a flood of new symbols then
resolves each call again (slower, still bounded), it never grows memory.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from math import inf
from typing import Any, NamedTuple, TypeVar
from zoneinfo import ZoneInfo

from opentelemetry.metrics import Meter

from otelmetrics.core.bounded import BoundedValues
from otelmetrics.core.store import Key, Layout
from otelmetrics.instruments.trading.state import TradingState
from otelmetrics.instruments.trading.tables import Tables, make_tables, register_gauges

_logger = logging.getLogger("otelmetrics.trading")  # the public module users know

KIND_LIMIT = 20  # distinct order types, event types kept before _OTHER
CACHE_LIMIT = 4096  # raw-argument keys remembered per call kind
V = TypeVar("V")


class Labels(NamedTuple):
    """The bounded attribute values of one facade."""

    symbols: BoundedValues  # symbols and exchange pairs
    venues: BoundedValues
    order_types: BoundedValues
    breakers: BoundedValues
    events: BoundedValues


@dataclass(frozen=True)
class TradingOptions:
    """What the trading facade needs of the settings (the same names as there)."""

    strict: bool = False
    currency: str = "USD"
    timezone: str = "UTC"
    window_seconds: float = 300.0
    symbols: tuple[str, ...] | None = None
    venues: tuple[str, ...] | None = None
    symbol_limit: int = 100
    cardinality_limit: int = 2000
    layout: Layout = "explicit"


class TradingCore:
    """Construction, invalid-call handling, snapshot and reset of the trading facade.

    Args:
        meter: Where the observable gauges (P&L, positions, win rate, breakers) register.
        options: Strictness, currency, day boundary, window and label bounds.
        on_feed_latency: Receives ``(venue, pair, seconds)`` of each valid feed latency (the
            rolling percentiles of the SSE feed event), or None.
        clock: Wall clock in epoch seconds; tests inject one.
    """

    def __init__(
        self,
        meter: Meter,
        options: TradingOptions,
        *,
        on_feed_latency: Callable[[str, str, float], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.strict = options.strict
        self.clock = clock
        self.currency = options.currency
        self._zone = ZoneInfo(options.timezone)
        self._window_seconds = options.window_seconds
        self._pid = os.getpid()
        self._lock = threading.Lock()
        money = "{" + options.currency + "}"
        self._tables = make_tables(
            money, limit=options.cardinality_limit, layout=options.layout, lock=self._lock
        )
        self._labels = make_labels(options.symbols, options.venues, options.symbol_limit)
        self._state = TradingState(self._zone, self._window_seconds)
        self._order_cache: dict[Key, Any] = {}
        self._order_keys: dict[Key, Key] = {}
        self._close_cache: dict[Key, Any] = {}
        self._feed_cache: dict[Key, Any] = {}
        self._trade_cache: dict[Key, Any] = {}
        self._warned: set[str] = set()
        self._feed_hook = on_feed_latency
        register_gauges(
            meter,
            lambda: (self._lock, self._state),
            lambda: self.clock(),
            money_unit=money,
            limit=options.cardinality_limit,
        )

    @property
    def tables(self) -> Tables:
        """The lean tables every reader of the handle exports."""
        return self._tables

    @property
    def _caches(self) -> tuple[dict[Key, Any], ...]:
        return (
            self._order_cache,
            self._order_keys,
            self._close_cache,
            self._feed_cache,
            self._trade_cache,
        )

    def snapshot(self, now: float | None = None) -> dict[str, Any]:
        """A JSON-ready view for the JSON API (bounded: one entry per kept venue or breaker).

        Args:
            now: Epoch seconds to evaluate "today" and the windows at; default: the clock.

        Returns:
            ``time``, ``currency``; ``orders_today``: ``total`` (placed), ``successful``
            (filled), ``failed`` (rejected + failed), ``rejected``, ``cancelled``,
            ``success_rate_pct`` (filled / (filled + rejected + failed), None before any);
            ``positions``: ``opened_today``, ``closed_today``, ``open``; ``pnl``: ``today``,
            ``realized`` (since start), ``unrealized``; ``trades``: ``deals_today``, ``total``,
            ``wins``, ``losses``, ``win_rate_pct`` (rolling window, None when empty),
            ``avg_win``, ``avg_loss`` (since start), ``per_hour`` (over the window),
            ``window_seconds``; ``feeds``: per venue ``ws_status`` ("connected",
            "disconnected", None before any report), ``reconnects``, ``trades_per_min``
            (last 60 s); ``circuit_breakers``: per name ``state``, ``value`` (0/1/2),
            ``trips``, ``last_trip`` (epoch s); ``brokers``: per venue ``connected``,
            ``failures``.
        """
        at = self.clock() if now is None else now
        with self._lock:
            return self._state.snapshot(at, self.currency)

    def reset(self) -> None:
        """Start from zero: after a fork (then with a new lock) and for the API's reset."""
        if self._pid != os.getpid():  # the parent's lock may be held by a thread that is gone
            self._pid = os.getpid()
            self._lock = threading.Lock()
        with self._lock:
            for table in self._tables:
                table.reset()
                table.lock = self._lock
            for values in self._labels:
                values.reset()
            for cache in self._caches:
                cache.clear()
            self._state = TradingState(self._zone, self._window_seconds)

    def _seconds(self, value: float, what: str) -> float | None:
        """``value`` as float seconds, or None (after :meth:`_reject`) when invalid."""
        seconds = float(value)
        if 0.0 <= seconds < inf:
            return seconds
        self._reject(
            "seconds",
            f"{what} must be a finite number of seconds >= 0, got {value!r} (measure it with "
            "time.perf_counter() differences, not wall-clock timestamps)",
        )
        return None

    def _reject(self, kind: str, message: str) -> None:
        """Raise in strict mode; else log the first invalid call of each kind."""
        if self.strict:
            raise ValueError(f"otelmetrics.trading: {message}")
        if kind not in self._warned:
            self._warned.add(kind)
            _logger.warning(
                "otelmetrics.trading dropped an invalid call: %s. Further invalid %s calls are "
                "dropped silently; OTELMETRICS_STRICT=true raises instead.",
                message,
                kind,
            )

    def _failed(self, method: str, exc: Exception) -> None:
        """An unexpected error in a call (a wrong argument type): re-raised when strict."""
        if self.strict:
            raise exc
        if method not in self._warned:
            self._warned.add(method)
            _logger.warning(
                "otelmetrics.trading.%s dropped a call: %s: %s (logged once per method)",
                method,
                type(exc).__name__,
                exc,
            )


def make_labels(
    symbols: tuple[str, ...] | None, venues: tuple[str, ...] | None, limit: int
) -> Labels:
    cap = "raise OTELMETRICS_SYMBOL_LIMIT or set an allow-list"
    return Labels(
        BoundedValues(
            "trading.symbol", symbols, limit, fix=f"add it to OTELMETRICS_SYMBOLS or {cap}"
        ),
        BoundedValues("trading.venue", venues, limit, fix=f"add it to OTELMETRICS_VENUES or {cap}"),
        BoundedValues("trading.order.type", None, KIND_LIMIT, fix="use fewer order types"),
        BoundedValues("circuit_breaker.name", None, limit, fix="raise OTELMETRICS_SYMBOL_LIMIT"),
        BoundedValues("exchange.event.type", None, KIND_LIMIT, fix="use fewer event types"),
    )


def required(values: BoundedValues, value: str | None) -> str:
    """The bounded ``value``; a TypeError for None where the attribute is required."""
    kept = values(value)
    if kept is None:
        raise TypeError(f"{values.attribute} is required, got None")
    return kept


def lowered(value: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a str, got {type(value).__name__}")
    return value.lower()


def remember(cache: dict[Key, Any], key: Key, value: V) -> V:
    """Cache ``value`` under the raw-argument ``key`` while the cache is small; return it."""
    if len(cache) < CACHE_LIMIT:
        cache[key] = value
    return value
