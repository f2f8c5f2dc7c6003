"""The simulated trading service: market, feeds, broker, breaker and engine on one clock.

All random choices come from one ``random.Random(seed)``, and time is a step counter, so a
test runs hours of trading in milliseconds and the same seed gives the same orders and P&L::

    sim = Simulation(handle.trading, seed=7)
    sim.run(600)                       # 600 steps of 0.1 s: one simulated minute
    sim.engine.ledger, sim.engine.realized

The live demo drives it from a :class:`Driver` thread that keeps the simulation clock on the
wall clock; the apps read :attr:`Simulation.now`, the market's quotes and the engine's view.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from otelmetrics.demo.breaker import BreakerConfig, CircuitBreaker
from otelmetrics.demo.broker import Broker
from otelmetrics.demo.engine import StrategyEngine
from otelmetrics.demo.feed import VENUES, ExchangeFeed
from otelmetrics.demo.market import Market
from otelmetrics.demo.scenarios import Scenarios

if TYPE_CHECKING:
    from otelmetrics.trading import TradingMetrics

__all__ = ["BREAKER_NAME", "Driver", "Simulation", "STEP_SECONDS"]

_logger = logging.getLogger(__name__)

STEP_SECONDS = 0.1
CYCLE_STEPS = 5  # an engine cycle every 0.5 s
BREAKER_NAME = "kraken-api"
ORDER_VENUE = "kraken"
DEFAULT_BREAKER = BreakerConfig()


class Simulation:
    """One simulated trading service recording into ``trading``.

    Args:
        trading: The facade to record into (``handle.trading``).
        seed: Seeds the one random source of every simulated choice.
        scenarios: The scenario board the parts read (a new one by default).
        step_seconds: Simulated seconds per :meth:`step`.
        breaker: The circuit breaker's thresholds and timeouts.
        errors: ``errors(scope, message)`` records the service's errors (the demo passes
            ``handle.events.record_error``): feed disconnects, broker failures, failed
            exchange calls, orders not filled.
    """

    def __init__(
        self,
        trading: TradingMetrics,
        *,
        seed: int,
        scenarios: Scenarios | None = None,
        step_seconds: float = STEP_SECONDS,
        breaker: BreakerConfig = DEFAULT_BREAKER,
        errors: Callable[[str, str], None] = lambda scope, message: None,
    ) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.scenarios = scenarios or Scenarios()
        self.step_seconds = step_seconds
        self.steps = 0
        self.market = Market(self.rng)
        self.feeds = self._feeds(trading, errors)
        self.broker = Broker(
            ORDER_VENUE, trading=trading, rng=self.rng, scenarios=self.scenarios, errors=errors
        )
        self.breaker = CircuitBreaker(BREAKER_NAME, trading=trading, config=breaker)
        self.engine = StrategyEngine(
            self.market,
            self.broker,
            self.breaker,
            trading=trading,
            rng=self.rng,
            scenarios=self.scenarios,
            errors=errors,
            manual_rng=random.Random(f"{seed}/manual-orders"),
        )
        self._connect()

    def _feeds(
        self, trading: TradingMetrics, errors: Callable[[str, str], None]
    ) -> tuple[ExchangeFeed, ...]:
        return tuple(
            ExchangeFeed(
                venue,
                self.market.pairs,
                trading=trading,
                rng=self.rng,
                scenarios=self.scenarios,
                errors=errors,
            )
            for venue in VENUES
        )

    @property
    def now(self) -> float:
        """Simulated seconds since start (a step count, so it never drifts)."""
        return round(self.steps * self.step_seconds, 6)

    def _connect(self) -> None:
        now = self.now
        self.scenarios.due(now)
        self.broker.step(now)
        for feed in self.feeds:
            feed.step(now, 0.0)

    def step(self) -> None:
        """Advance the clock one step: scenarios, prices, feeds, broker, then maybe a cycle."""
        self.steps += 1
        now, dt = self.now, self.step_seconds
        self.scenarios.due(now)
        self.market.step(now, dt)
        for feed in self.feeds:
            feed.step(now, dt)
        self.broker.step(now)
        if self.steps % CYCLE_STEPS == 0:
            self.engine.cycle(now)

    def run(self, steps: int) -> None:
        """Take ``steps`` steps."""
        for _ in range(steps):
            self.step()

    def run_until(self, seconds: float) -> None:
        """Step until the clock reaches ``seconds``."""
        while self.now + 1e-9 < seconds:
            self.step()


class Driver(threading.Thread):
    """Steps a simulation in real time until ``stop`` is set; a failing step is logged once.

    Args:
        simulation: The simulation to step.
        stop: Set it to end the thread.
        clock: Monotonic seconds (injectable).
    """

    def __init__(
        self,
        simulation: Simulation,
        stop: threading.Event,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(name="otelmetrics-demo-simulation", daemon=True)
        self.simulation = simulation
        self.stop = stop
        self.clock = clock
        self._failed: set[str] = set()

    def run(self) -> None:
        sim = self.simulation
        started = self.clock()
        while not self.stop.wait(sim.step_seconds / 2):
            self.catch_up(self.clock() - started)

    def catch_up(self, elapsed: float) -> None:
        """Step until the simulation clock has reached ``elapsed`` seconds."""
        sim = self.simulation
        while sim.now + sim.step_seconds <= elapsed + 1e-9:
            try:
                sim.step()
            except Exception as exc:  # the demo keeps running; the bug is logged once
                if type(exc).__name__ not in self._failed:
                    self._failed.add(type(exc).__name__)
                    _logger.exception("the demo simulation step failed")
