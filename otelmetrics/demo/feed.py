"""The simulated exchange websocket feed: messages with latency, trades, disconnects.

Each step, every pair of a connected venue receives a random number of ``trade``, ``spread`` and
``ohlc`` messages (Poisson, by rate), each with a lognormal latency around the venue's median
(kraken: p50 12 ms, p95 30 ms, p99 43 ms, as the crypto-ai-bot publisher saw). The
``feed_disconnect`` and ``reconnect_storm`` scenarios take the kraken feed down; when it comes
back the trading facade counts a reconnect.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from otelmetrics.demo.scenarios import Scenarios

if TYPE_CHECKING:
    from otelmetrics.trading import TradingMetrics

__all__ = ["DISRUPTED_VENUE", "ExchangeFeed", "VENUES"]

_logger = logging.getLogger(__name__)

# Venue -> median message latency (s).
VENUES = {"kraken": 0.012, "coinbase": 0.018}
DISRUPTED_VENUE = "kraken"  # the feed the scenarios take down
LATENCY_SIGMA = 0.55
# Event type -> messages per second per pair.
EVENT_RATES = {"trade": 6.0, "spread": 3.0, "ohlc": 1.0}
STORM_PERIOD = 3.0  # reconnect_storm: down for the first second of every period
STORM_DOWN = 1.0


class ExchangeFeed:
    """One venue's feed of the market's pairs; ``errors(scope, message)`` records a disconnect.

    Attributes:
        connected: The connection state last reported to the trading facade.
        messages: Messages received since start (for tests and the portfolio view).
        reconnects: Reconnects since start.
    """

    def __init__(
        self,
        venue: str,
        pairs: Sequence[str],
        *,
        trading: TradingMetrics,
        rng: random.Random,
        scenarios: Scenarios,
        errors: Callable[[str, str], None] = lambda scope, message: None,
    ) -> None:
        self.venue = venue
        self.errors = errors
        self.pairs = tuple(pairs)
        self.trading = trading
        self.rng = rng
        self.scenarios = scenarios
        self.median = VENUES.get(venue, 0.015)
        self.connected = False
        self.messages = 0
        self.reconnects = 0
        self._started = False

    def step(self, now: float, dt: float) -> None:
        """Follow the wanted connection state, then receive ``dt`` seconds of messages."""
        wanted = self.wanted(now)
        if wanted != self.connected:
            self._set_connected(wanted)
        if self.connected:
            for pair in self.pairs:
                self._receive(pair, dt)

    def wanted(self, now: float) -> bool:
        """Whether the feed should be up now (the scenarios take the disrupted venue down)."""
        if self.venue != DISRUPTED_VENUE:
            return True
        if self.scenarios.active("feed_disconnect", now):
            return False
        if self.scenarios.active("reconnect_storm", now):
            window = self.scenarios.window("reconnect_storm")
            assert window is not None
            return (now - window.start) % STORM_PERIOD >= STORM_DOWN
        return True

    def _set_connected(self, connected: bool) -> None:
        if connected and self._started:
            self.reconnects += 1
            _logger.info("%s feed reconnected", self.venue)
        elif not connected:
            _logger.warning("%s feed disconnected", self.venue)
            self.errors("feed", f"{self.venue} feed disconnected")
        self._started = True
        self.connected = connected
        self.trading.feed_status(self.venue, connected)  # up after down counts a reconnect

    def _receive(self, pair: str, dt: float) -> None:
        rng = self.rng
        for event_type, rate in EVENT_RATES.items():
            for _ in range(_poisson(rng, rate * dt)):
                latency = self.median * math.exp(rng.gauss(0.0, LATENCY_SIGMA))
                self.trading.feed_message(self.venue, pair, latency, event_type)
                self.messages += 1
                if event_type == "trade":
                    self.trading.feed_trade(self.venue, pair, rng.randint(1, 4))


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw for a small mean (Knuth's method)."""
    limit = math.exp(-mean)
    count, product = 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count
