"""The simulated market: one mid price per pair, a seeded random walk with slow trends.

Each pair's log price moves by a trend (an Ornstein-Uhlenbeck process: it wanders and decays
over about 30 s) plus noise, so a momentum strategy has a small, honest edge.

Readers on other threads (the HTTP apps, the websocket price feed) get :attr:`Market.quotes`,
an immutable snapshot swapped in whole after each step, so they never see a half update.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["PAIRS", "Market", "Quote"]

# Pair -> starting mid price (USD).
PAIRS: Mapping[str, float] = MappingProxyType(
    {"BTC-USD": 65_000.0, "ETH-USD": 3_200.0, "SOL-USD": 150.0}
)
VOLATILITY = 0.0006  # per square-root second: about 0.2 % over 10 s
TREND_SECONDS = 30.0  # how long a trend lasts
TREND_VOLATILITY = 0.00005  # the trend's own noise: a typical trend is 0.02 % per second
SPREAD = 0.0002  # bid-ask spread as a share of the mid


@dataclass(frozen=True)
class Quote:
    """One pair's price at one moment of the simulation clock."""

    pair: str
    bid: float
    ask: float
    mid: float
    time: float

    def as_dict(self) -> dict[str, float | str]:
        return {
            "pair": self.pair,
            "bid": round(self.bid, 4),
            "ask": round(self.ask, 4),
            "mid": round(self.mid, 4),
            "time": round(self.time, 3),
        }


class Market:
    """Mid prices that move by ``exp(gauss(0, volatility * sqrt(dt)))`` each step."""

    def __init__(self, rng: random.Random, pairs: Mapping[str, float] = PAIRS) -> None:
        self.rng = rng
        self._mids = dict(pairs)
        self._trends = dict.fromkeys(pairs, 0.0)
        self.quotes: Mapping[str, Quote] = self._publish(0.0)

    @property
    def pairs(self) -> tuple[str, ...]:
        return tuple(self._mids)

    def step(self, now: float, dt: float) -> None:
        """Move every trend and price by one random step of ``dt`` seconds."""
        rng, noise = self.rng, VOLATILITY * math.sqrt(dt)
        decay, kick = math.exp(-dt / TREND_SECONDS), TREND_VOLATILITY * math.sqrt(dt)
        for pair, mid in self._mids.items():
            trend = self._trends[pair] * decay + rng.gauss(0.0, kick)
            self._trends[pair] = trend
            self._mids[pair] = mid * math.exp(trend * dt + rng.gauss(0.0, noise))
        self.quotes = self._publish(now)

    def mid(self, pair: str) -> float:
        return self._mids[pair]

    def _publish(self, now: float) -> Mapping[str, Quote]:
        half = SPREAD / 2
        return MappingProxyType(
            {
                pair: Quote(pair, mid * (1 - half), mid * (1 + half), mid, now)
                for pair, mid in self._mids.items()
            }
        )
