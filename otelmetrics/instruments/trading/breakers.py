"""Circuit breakers: their state (``circuit_breaker.state``) and trips (``circuit_breaker.trips``).

The breaker methods of the facade (``self`` is its
:class:`~otelmetrics.instruments.trading.shared.Shared` state). A transition into open counts
a trip; a breaker's trip counter exists (at 0) from its first report, so ``increase()`` in a
rule sees the first trip.
"""

from __future__ import annotations

from typing import Any

from otelmetrics.instruments.trading.labels import required
from otelmetrics.instruments.trading.shared import Shared
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


def breaker_state(self: Shared, name: str, state: int | str) -> None:
    """Set a breaker's state: 0/"closed", 1/"open", 2/"half_open"; into open counts a trip."""
    try:
        code = BREAKER_STATES.get(state)
        if code is None:
            self._checks.reject(
                "breaker_state",
                f"breaker state must be 0/'closed', 1/'open' or 2/'half_open', got {state!r}",
            )
            return
        now = self.clock()
        with self._lock:
            breaker = required(self._labels.breakers, name)
            self._tables.trips.get((breaker,))  # trips start at 0 (see the module docstring)
            if code == OPEN and self._state.breaker(breaker).state != OPEN:
                _trip(self, breaker, now)
            self._state.breaker(breaker).state = code
    except Exception as exc:
        self._checks.failed("breaker_state", exc)


def breaker_trip(self: Shared, name: str) -> None:
    """Count a trip of breaker ``name`` and set it open."""
    try:
        now = self.clock()
        with self._lock:
            _trip(self, required(self._labels.breakers, name), now)
    except Exception as exc:
        self._checks.failed("breaker_trip", exc)


def _trip(self: Shared, name: str, now: float) -> None:
    """Count a trip of breaker ``name`` and set it open; call with the lock held."""
    table = self._tables.trips
    (table.series.get((name,)) or table.get((name,)))[0].add(1)
    breaker = self._state.breaker(name)
    breaker.state, breaker.trips, breaker.last_trip = OPEN, breaker.trips + 1, now
