"""Demo scenarios: named faults with a bounded duration, triggered now or scheduled.

Each scenario makes one unmistakable signal for one alert, and nothing else::

    board = Scenarios()
    board.schedule("feed_disconnect", at=30.0)        # --scenario feed_disconnect --at 30
    board.trigger("error_burst", now=12.0)            # POST /api/demo/scenarios/error_burst
    board.active("error_burst", now=20.0)             # True until 12 + 60 s

The board only keeps time windows on the simulation clock; the parts of the demo read it
(level-triggered) and act: the HTTP apps (:class:`otelmetrics.demo.faults.HttpFaults`), the
exchange feed, the broker and the strategy engine. When a window ends, they return to normal.
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass
from typing import Any

__all__ = ["SCENARIOS", "Scenario", "Scenarios", "UnknownScenario", "Window"]

_logger = logging.getLogger(__name__)
MAX_DURATION = 3600.0


@dataclass(frozen=True)
class Scenario:
    """One scenario: its name, default duration (s), what it does and the signal it makes."""

    name: str
    duration: float
    effect: str
    signal: str


SCENARIOS: dict[str, Scenario] = {
    scenario.name: scenario
    for scenario in (
        Scenario(
            "error_burst",
            60.0,
            "every 2nd request to the business routes of both apps answers 500",
            "HTTP 5xx ratio about 50 % (error rate > 5 %)",
        ),
        Scenario(
            "latency_spike",
            60.0,
            "every 4th request to the business routes of both apps waits 1.5 s first",
            "HTTP p95 and p99 above 1 s",
        ),
        Scenario(
            "breaker_trip",
            5.0,
            "the exchange REST API fails; the kraken-api breaker trips after 5 failures, "
            "stays open 10 s, half-open 10 s, then closes",
            "circuit_breaker.trips +1; state 1 (open), 2 (half-open), 0 (closed)",
        ),
        Scenario(
            "feed_disconnect",
            60.0,
            "the kraken exchange feed drops and reconnects when the scenario ends",
            "exchange.feed.connection.status 0, then exchange.feed.reconnects +1",
        ),
        Scenario(
            "order_rejections",
            60.0,
            "the venue rejects (3 in 4) or times out (1 in 4) every order",
            "trading.orders rejected + failed: more than 10",
        ),
        Scenario(
            "broker_disconnect",
            60.0,
            "the broker connection drops; a reconnect attempt fails every 5 s",
            "trading.broker.connection.status 0, broker connection failures rising",
        ),
        Scenario(
            "reconnect_storm",
            60.0,
            "the kraken feed drops for 1 s every 3 s",
            "exchange.feed.reconnects rising by about 20 per minute",
        ),
        Scenario(
            "auth_failures",
            60.0,
            "a client of the load generator tries a wrong bearer token twice a second",
            "otelmetrics.api.security_events invalid_token rising (failed authentications)",
        ),
    )
}


class UnknownScenario(KeyError):
    """No scenario has this name (``name`` holds it)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"unknown scenario {self.name!r}; use one of {', '.join(SCENARIOS)}"


@dataclass(frozen=True)
class Window:
    """A scenario's time window on the simulation clock: [start, end)."""

    name: str
    start: float
    end: float

    def holds(self, now: float) -> bool:
        return self.start <= now < self.end

    def as_dict(self) -> dict[str, Any]:
        return {"scenario": self.name, "start": self.start, "end": self.end}


class Scenarios:
    """Active and scheduled scenario windows; thread-safe (the apps read, the driver steps)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, Window] = {}
        self._pending: list[Window] = []
        self._ended: set[Window] = set()

    def trigger(self, name: str, now: float, duration: float | None = None) -> Window:
        """Start ``name`` at ``now`` for ``duration`` s (its default when None).

        Triggering a running scenario again restarts its window.

        Raises:
            UnknownScenario: No scenario has this name.
            ValueError: The duration is not in (0, 3600] s.
        """
        window = _window(name, now, duration)
        with self._lock:
            self._windows[name] = window
        _logger.info("scenario %s started (%.0f s)", name, window.end - window.start)
        return window

    def schedule(self, name: str, at: float, duration: float | None = None) -> Window:
        """Start ``name`` when the clock reaches ``at`` (same checks as :meth:`trigger`)."""
        if not math.isfinite(at) or at < 0:
            raise ValueError(f"scenario {name}: --at {at!r} must be a number of seconds >= 0")
        window = _window(name, at, duration)
        with self._lock:
            self._pending.append(window)
        return window

    def due(self, now: float) -> list[Window]:
        """Start the scheduled windows whose time has come (returned); log the ones that ended."""
        with self._lock:
            started = [w for w in self._pending if w.start <= now]
            self._pending = [w for w in self._pending if w.start > now]
            for window in started:
                self._windows[window.name] = window
            ended = [w for w in self._windows.values() if w.end <= now and w not in self._ended]
            self._ended.update(ended)
        for window in started:
            _logger.info("scenario %s started (%.0f s)", window.name, window.end - window.start)
        for window in ended:
            _logger.info("scenario %s ended: back to normal", window.name)
        return started

    def active(self, name: str, now: float) -> bool:
        """Whether scenario ``name`` is running at ``now``."""
        window = self._windows.get(name)
        return window is not None and window.holds(now)

    def window(self, name: str) -> Window | None:
        """The latest window of ``name`` (running, ended or None)."""
        return self._windows.get(name)

    def status(self, now: float) -> list[dict[str, Any]]:
        """Every scenario with its default duration, effect, signal and latest window."""
        with self._lock:
            windows = dict(self._windows)
            pending = {w.name: w for w in self._pending}
        return [
            {
                "name": s.name,
                "active": s.name in windows and windows[s.name].holds(now),
                "default_duration": s.duration,
                "effect": s.effect,
                "signal": s.signal,
                "window": windows[s.name].as_dict() if s.name in windows else None,
                "scheduled": pending[s.name].as_dict() if s.name in pending else None,
            }
            for s in SCENARIOS.values()
        ]


def _window(name: str, start: float, duration: float | None) -> Window:
    scenario = SCENARIOS.get(name)
    if scenario is None:
        raise UnknownScenario(name)
    seconds = scenario.duration if duration is None else float(duration)
    if not 0 < seconds <= MAX_DURATION:
        raise ValueError(
            f"scenario {name}: duration {duration!r} must be a number of seconds in "
            f"(0, {MAX_DURATION:.0f}]"
        )
    return Window(name, start, start + seconds)
