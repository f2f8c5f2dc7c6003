"""Broker connections: status (``trading.broker.connection.status``) and failed attempts.

The broker methods of the facade (``self`` is its
:class:`~otelmetrics.instruments.trading.shared.Shared` state).
"""

from __future__ import annotations

from otelmetrics.instruments.trading.labels import required
from otelmetrics.instruments.trading.shared import Shared


def broker_status(self: Shared, venue: str, connected: bool) -> None:
    """Set the broker connection status of ``venue`` (gauge 1/0)."""
    try:
        with self._lock:
            name = required(self._labels.venues, venue)
            self._tables.broker_failures.get((name,))  # failures start at 0, as breaker trips
            self._state.broker(name).connected = bool(connected)
    except Exception as exc:
        self._checks.failed("broker_status", exc)


def broker_failure(self: Shared, venue: str) -> None:
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
        self._checks.failed("broker_failure", exc)
