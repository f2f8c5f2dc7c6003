"""Positions and P&L: opened and closed positions, realized and unrealized P&L, exposure.

The position methods of the facade (``self`` is its
:class:`~otelmetrics.instruments.trading.shared.Shared` state). A closed position records
``trading.trade.pnl`` and ``trading.trades`` by outcome, and ``trading.position.duration``
when its holding time is given; the P&L, open-position and win-rate gauges read the state.
"""

from __future__ import annotations

from math import inf

from otelmetrics.core.store import Aggregator, Key
from otelmetrics.instruments.trading.labels import remember, required
from otelmetrics.instruments.trading.shared import Shared


def position_opened(self: Shared, symbol: str, venue: str | None = None) -> None:
    """One more open position of ``symbol`` (``venue`` is accepted for symmetry)."""
    try:
        now = self.clock()
        with self._lock:
            self._state.opened(required(self._labels.symbols, symbol), now)
    except Exception as exc:
        self._checks.failed("position_opened", exc)


def position_closed(
    self: Shared,
    symbol: str,
    pnl: float,
    *,
    venue: str | None = None,
    holding_seconds: float | None = None,
) -> None:
    """A round trip realized ``pnl`` (account currency, losses negative).

    Records the P&L histogram and the trades counter by outcome (win > 0, loss < 0,
    breakeven), the holding duration when given, cumulative and today's P&L, the rolling
    win rate, and one open position fewer (never below 0).
    """
    try:
        value = float(pnl)
        if not -inf < value < inf:
            self._checks.reject(
                "pnl", f"pnl must be a finite amount in {self.currency}, got {pnl!r}"
            )
            return
        holding = None
        if holding_seconds is not None:
            holding = self._checks.seconds(holding_seconds, "holding_seconds")
            if holding is None:
                return
        now = self.clock()
        raw = (symbol, venue, "win" if value > 0 else "loss" if value < 0 else "breakeven")
        lock = self._lock
        lock.acquire()  # cheaper than `with` on the hot path
        try:
            pnl_agg, trades_agg, key = self._close_series.get(raw) or _resolve(self, raw)
            pnl_agg.add(value)
            trades_agg.add(1)
            if holding is not None:
                table = self._tables.duration
                (table.series.get(key) or table.get(key))[0].add(holding)
            self._state.closed(key[0], value, now)
        finally:
            lock.release()
    except Exception as exc:
        self._checks.failed("position_closed", exc)


def _resolve(self: Shared, raw: Key) -> tuple[Aggregator, Aggregator, Key]:
    """The P&L and trades aggregators of raw (symbol, venue, outcome), and the duration key."""
    symbol = required(self._labels.symbols, raw[0])
    key = (symbol, self._labels.venues(raw[1]), raw[2])
    series = (self._tables.pnl.get(key)[0], self._tables.trades.get(key)[0], (symbol,))
    return remember(self._close_series, raw, series)


def set_unrealized(self: Shared, symbol: str, pnl: float, exposure: float | None = None) -> None:
    """Set the unrealized P&L (and exposure) of ``symbol``'s open positions."""
    try:
        value = float(pnl)
        size = None if exposure is None else float(exposure)
        if not -inf < value < inf or (size is not None and not -inf < size < inf):
            self._checks.reject(
                "unrealized",
                f"unrealized P&L and exposure must be finite, got {pnl!r} and {exposure!r}",
            )
            return
        with self._lock:
            name = required(self._labels.symbols, symbol)
            self._state.unrealized[name] = value
            if size is not None:
                self._state.exposure[name] = size
    except Exception as exc:
        self._checks.failed("set_unrealized", exc)
