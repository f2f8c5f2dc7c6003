"""What every call of one trading facade shares: its lock, tables, labels, state and caches.

The calls are functions in one module per concept (:mod:`.orders`, :mod:`.positions`,
:mod:`.breakers`, :mod:`.feeds`, :mod:`.engine`, :mod:`.brokers`), each taking this state as
``self``; :class:`~otelmetrics.instruments.trading.facade.TradingMetrics` is a :class:`Shared`
that assigns them as its methods. So a call is one class-level method lookup, as cheap as a
method written in the class, and each concept keeps its own module.

Hold ``_lock`` to touch ``_state``, the tables, the labels or the caches. The facade swaps
``_state`` on reset and ``_lock`` after a fork; every call reads them afresh.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from otelmetrics.core.store import Aggregator, Key
from otelmetrics.instruments.trading.checks import Checks
from otelmetrics.instruments.trading.labels import Labels
from otelmetrics.instruments.trading.state import TradingState
from otelmetrics.instruments.trading.tables import Tables

FeedHook = Callable[[str, str, float], None]


class Shared:
    """The state of one facade that its calls share (see the module docstring).

    Attributes:
        clock: Wall clock in epoch seconds; "today" and the rolling windows read it.
        currency: The account currency of P&L values.
        _lock: The one lock of the tables, the labels, the state and the caches.
        _tables: The counters and histograms (:mod:`.tables`).
        _labels: The bounded attribute values (:mod:`.labels`).
        _state: What the gauges and the snapshot read (:mod:`.state`).
        _checks: What an invalid call leads to (:mod:`.checks`).
        _feed_hook: Receives each valid feed latency, or None (:mod:`.feeds`).
        _order_series, _order_keys, _close_series, _feed_series, _trade_series: The caches
            from a call's raw arguments to its resolved series, one per call kind.
    """

    def __init__(
        self,
        lock: threading.Lock,
        tables: Tables,
        labels: Labels,
        state: TradingState,
        *,
        checks: Checks,
        clock: Callable[[], float],
        currency: str,
        on_feed_latency: FeedHook | None,
    ) -> None:
        self._lock = lock  # the tables share it too
        self._tables = tables
        self._labels = labels
        self._state = state
        self._checks = checks
        self._feed_hook = on_feed_latency
        self.clock = clock
        self.currency = currency
        self._order_series: dict[Key, tuple[Aggregator, Key]] = {}  # (status, *order key)
        self._order_keys: dict[Key, Key] = {}  # (symbol, side, type, venue) -> bounded
        self._close_series: dict[Key, tuple[Aggregator, Aggregator, Key]] = {}
        self._feed_series: dict[Key, tuple[Aggregator, Aggregator]] = {}
        self._trade_series: dict[Key, tuple[Aggregator, str]] = {}

    @property
    def _caches(self) -> tuple[dict[Key, Any], ...]:
        """Every raw-argument cache (reset clears them)."""
        return (
            self._order_series,
            self._order_keys,
            self._close_series,
            self._feed_series,
            self._trade_series,
        )
