"""What the scenarios do to HTTP requests, decided by request count (no randomness).

Both apps ask :meth:`HttpFaults.plan` at the start of each business request::

    plan = faults.plan()
    time.sleep(plan.delay)              # normal work, or the latency spike
    if plan.error:
        return {"error": "simulated error burst"}, 500

Normally a request does 2-29 ms of simulated work (by request count modulo 10). During
``error_burst`` every 2nd request answers 500; during ``latency_spike`` every 4th request waits
``spike_seconds`` (1.5 s) first, so both the error ratio and the p95/p99 latency are
deterministic functions of the number of requests.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from otelmetrics.demo.scenarios import Scenarios

__all__ = ["HttpFaults", "Plan"]

ERROR_EVERY = 2
SPIKE_EVERY = 4
SPIKE_SECONDS = 1.5


@dataclass(frozen=True)
class Plan:
    """For one request: seconds to wait before answering, and whether to answer 500."""

    delay: float
    error: bool


class HttpFaults:
    """Plans each request from the scenario board at the simulation clock ``clock()``.

    Args:
        scenarios: The board to read.
        clock: The simulation clock (``lambda: simulation.now``).
        spike_seconds: The wait of a spiked request.
    """

    def __init__(
        self,
        scenarios: Scenarios,
        clock: Callable[[], float],
        *,
        spike_seconds: float = SPIKE_SECONDS,
    ) -> None:
        self.scenarios = scenarios
        self.clock = clock
        self.spike_seconds = spike_seconds
        self._lock = threading.Lock()
        self._requests = 0
        self._errors = 0
        self._spikes = 0

    def plan(self) -> Plan:
        """The plan of the next business request."""
        now = self.clock()
        bursting = self.scenarios.active("error_burst", now)
        spiking = self.scenarios.active("latency_spike", now)
        with self._lock:
            self._requests += 1
            delay = 0.002 + 0.003 * (self._requests % 10)
            if spiking:
                self._spikes += 1
                if self._spikes % SPIKE_EVERY == 0:
                    delay = self.spike_seconds
            error = False
            if bursting:
                self._errors += 1
                error = self._errors % ERROR_EVERY == 0
        return Plan(delay, error)
