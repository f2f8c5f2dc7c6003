"""Per-client rate limits for the JSON API, one token bucket per (client, endpoint class).

Each class (``read``, ``export``, ``snapshot``, ``reset``) allows N requests per minute per
client (``OTELMETRICS_API_RATE_LIMITS``): a full bucket holds N tokens and refills at N per
minute, so a client may burst N requests, then continues at the steady rate::

    limiter = RateLimiter({"read": 100, "reset": 5})
    wait = limiter.acquire("10.0.0.7", "reset")   # None: go ahead; else seconds to wait (429)

Memory is bounded: at most ``max_clients`` buckets are kept, the least recently used are
dropped first (a bucket untouched for a minute is full again, so dropping it changes nothing).
The clock is injected, so tests need no sleeps.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping

__all__ = ["RateLimiter"]

MAX_CLIENTS = 10_000
_EPSILON = 1e-9  # a token refilled to 0.999999999... by float arithmetic is a whole one


class RateLimiter:
    """Token buckets keyed by (client, endpoint class).

    Args:
        limits: Requests per minute for each endpoint class; a class not listed is unlimited.
        clock: Monotonic seconds (``time.monotonic``; tests pass a fake).
        max_clients: Most buckets kept at once.
    """

    def __init__(
        self,
        limits: Mapping[str, int],
        *,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = MAX_CLIENTS,
    ) -> None:
        if max_clients < 1:
            raise ValueError(f"max_clients={max_clients!r} is invalid: use 1 or more")
        self.limits = dict(limits)
        self._clock = clock
        self._max = max_clients
        self._lock = threading.Lock()
        # (client, class) -> (tokens left, when they were counted)
        self._buckets: OrderedDict[tuple[str, str], tuple[float, float]] = OrderedDict()

    def acquire(self, client: str | None, kind: str | None) -> float | None:
        """Take one token: None when allowed, else the seconds until the next one (> 0).

        A ``kind`` None, or one without a limit, is never limited.
        """
        limit = self.limits.get(kind) if kind is not None else None
        if limit is None or kind is None:
            return None
        key = (client or "unknown", kind)
        rate = limit / 60.0
        with self._lock:
            now = self._clock()
            tokens, then = self._buckets.pop(key, (float(limit), now))
            tokens = min(float(limit), tokens + (now - then) * rate)
            wait = None if tokens >= 1.0 - _EPSILON else (1.0 - tokens) / rate
            self._buckets[key] = (tokens if wait else tokens - 1.0, now)
            if len(self._buckets) > self._max:
                self._buckets.popitem(last=False)
        return wait

    def __len__(self) -> int:
        return len(self._buckets)


def retry_after(wait: float) -> int:
    """The ``Retry-After`` header value: whole seconds, at least 1."""
    return max(1, math.ceil(wait))
