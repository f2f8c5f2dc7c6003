"""Engine timing: engine cycle, scanner scan and market-data delay histograms (no attributes).

The timing methods of the facade (``self`` is its
:class:`~otelmetrics.instruments.trading.shared.Shared` state).
"""

from __future__ import annotations

from otelmetrics.core.store import SeriesTable
from otelmetrics.instruments.trading.shared import Shared


def engine_cycle(self: Shared, seconds: float) -> None:
    """Duration of one engine cycle (s)."""
    try:
        _record(self, self._tables.cycle, seconds, "engine cycle duration")
    except Exception as exc:
        self._checks.failed("engine_cycle", exc)


def scanner_scan(self: Shared, seconds: float) -> None:
    """Duration of one scanner scan (s)."""
    try:
        _record(self, self._tables.scanner, seconds, "scanner duration")
    except Exception as exc:
        self._checks.failed("scanner_scan", exc)


def market_data_delay(self: Shared, seconds: float) -> None:
    """Delay between market data receipt and its processing (s)."""
    try:
        _record(self, self._tables.market_data, seconds, "market data delay")
    except Exception as exc:
        self._checks.failed("market_data_delay", exc)


def _record(self: Shared, table: SeriesTable, seconds: float, what: str) -> None:
    value = self._checks.seconds(seconds, what)
    if value is None:
        return
    lock = self._lock
    lock.acquire()  # cheaper than `with` on the hot path
    try:
        (table.series.get(()) or table.get(()))[0].add(value)
    finally:
        lock.release()
