"""The simulated broker: one venue's order gateway and its connection.

Orders are acknowledged after a lognormal latency (median 40 ms); 1 in 200 is rejected. The
``order_rejections`` scenario rejects or times out every order; ``broker_disconnect`` drops the
connection, and each reconnect attempt (every 5 s) fails until the scenario ends.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from otelmetrics.demo.scenarios import Scenarios

if TYPE_CHECKING:
    from otelmetrics.trading import TradingMetrics

__all__ = ["Ack", "Broker"]

_logger = logging.getLogger(__name__)

ACK_MEDIAN = 0.040  # s, signal to acknowledgement
ACK_SIGMA = 0.5
REJECT_RATE = 0.005
STORM_REJECT_SHARE = 0.75  # order_rejections: the rest time out (status failed)
RETRY_SECONDS = 5.0


@dataclass(frozen=True)
class Ack:
    """The venue's answer to one order: ``filled``, ``rejected`` or ``failed``, and when."""

    status: str
    latency: float


class Broker:
    """Attributes: ``connected``, ``failures`` (connection failures since start).

    ``errors(scope, message)`` records each connection failure (scope ``trading``).
    """

    def __init__(
        self,
        venue: str,
        *,
        trading: TradingMetrics,
        rng: random.Random,
        scenarios: Scenarios,
        errors: Callable[[str, str], None] = lambda scope, message: None,
    ) -> None:
        self.venue = venue
        self.errors = errors
        self.trading = trading
        self.rng = rng
        self.scenarios = scenarios
        self.connected = False
        self.failures = 0
        self._next_attempt = 0.0

    def step(self, now: float) -> None:
        """Drop the connection, or try to reconnect, as the ``broker_disconnect`` scenario says."""
        down = self.scenarios.active("broker_disconnect", now)
        if self.connected and down:
            _logger.warning("broker %s: connection lost", self.venue)
            self._fail(now)
        elif not self.connected and now >= self._next_attempt:
            if down:
                self._fail(now)
            else:
                self.connected = True
                self.trading.broker_status(self.venue, True)
                if self.failures:
                    _logger.info("broker %s: reconnected", self.venue)

    def submit(self, now: float, rng: random.Random | None = None) -> Ack:
        """Send one order; the answer comes from ``rng`` (the seeded random source by default)."""
        rng = self.rng if rng is None else rng
        latency = ACK_MEDIAN * math.exp(rng.gauss(0.0, ACK_SIGMA))
        if self.scenarios.active("order_rejections", now):
            status = "rejected" if rng.random() < STORM_REJECT_SHARE else "failed"
        else:
            status = "rejected" if rng.random() < REJECT_RATE else "filled"
        return Ack(status, latency)

    def _fail(self, now: float) -> None:
        self.connected = False
        self.failures += 1
        self._next_attempt = now + RETRY_SECONDS
        self.trading.broker_failure(self.venue)  # also reports the broker disconnected
        self.errors("trading", f"broker {self.venue}: connection failed")
