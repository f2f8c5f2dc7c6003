"""A circuit breaker on the simulation clock, reporting its state to the trading facade.

Closed: calls go through; ``max_failures`` failures in a row open it (a trip). Open: calls are
refused for ``open_seconds``, then it is half-open. Half-open: calls go through as probes; one
failure opens it again (another trip), ``half_open_seconds`` without a failure close it.
The defaults follow the crypto-ai-bot breaker's ``max_failures: 5``, shortened timeouts for a demo::

    breaker = CircuitBreaker("kraken-api", trading=handle.trading)
    if breaker.allow(now):
        breaker.record(now, ok=call_the_api())
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from otelmetrics.trading import TradingMetrics

__all__ = ["BreakerConfig", "CircuitBreaker"]

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


@dataclass(frozen=True)
class BreakerConfig:
    """When the breaker opens and how long it waits (seconds of the simulation clock)."""

    max_failures: int = 5
    open_seconds: float = 10.0
    half_open_seconds: float = 10.0


class CircuitBreaker:
    """Attributes: ``state`` (closed, open, half_open), ``trips`` and ``history`` of
    ``(time, state)`` transitions since start."""

    def __init__(
        self, name: str, *, trading: TradingMetrics, config: BreakerConfig | None = None
    ) -> None:
        self.name = name
        self.trading = trading
        self.config = config or BreakerConfig()
        self.state = CLOSED
        self.since = 0.0
        self.failures = 0
        self.trips = 0
        self.history: list[tuple[float, str]] = []
        trading.breaker_state(name, CLOSED)

    def allow(self, now: float) -> bool:
        """Whether a call may go through now (an open breaker half-opens when its time is up)."""
        if self.state == OPEN and now - self.since >= self.config.open_seconds:
            self._enter(HALF_OPEN, now)
        return self.state != OPEN

    def record(self, now: float, *, ok: bool) -> None:
        """The outcome of a call that :meth:`allow` let through."""
        if ok:
            self.failures = 0
            if self.state == HALF_OPEN and now - self.since >= self.config.half_open_seconds:
                self._enter(CLOSED, now)
            return
        self.failures += 1
        if self.state == HALF_OPEN or self.failures >= self.config.max_failures:
            self.trips += 1
            self._enter(OPEN, now)  # the facade counts the trip on the way into open

    def _enter(self, state: str, now: float) -> None:
        self.state, self.since = state, now
        self.failures = 0
        self.history.append((now, state))
        self.trading.breaker_state(self.name, state)
