"""The exchange-feed view: rolling latency percentiles per pair, and the SSE feed event.

The crypto-ai-bot dashboard reads p50/p95/p99 of the websocket latency per pair, breaker trips,
reconnects, trades per minute and the connection status, as one ``kraken_metrics`` event on
``/sse/metrics`` (the name is ``sse_feed_event``)::

    event: kraken_metrics
    data: {"latency_p50_ms":12.5,"latency_p95_ms":28.3,"latency_p99_ms":45.0,
           "circuit_breaker_trips":0,"reconnect_count":2,"trades_per_min":127.5,
           "ws_status":"connected","timestamp":1699999999999, "venue":"kraken", "pairs":{...}}

:class:`FeedLatency` (``handle.feed_latency``) keeps the percentiles: ``trading.feed_message`` hands
it each latency via :meth:`FeedLatency.add`. Per (venue, pair) it keeps a ring of ten time slots
covering the rolling window (``window_seconds``), each a :class:`~otelmetrics.core.window.Sketch`
(values within 1 % of the exact ones). Only the configured pairs (``feed_pairs``) are kept, or, with
none configured, the first ``max_series`` (venue, pair) seen; memory is bounded by that count, never
by the message rate. :func:`feed_event` builds the event's payload (a :class:`FeedEvent`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypedDict

from otelmetrics.core.forks import ForkGuard
from otelmetrics.core.once import LogOnce
from otelmetrics.core.window import SLOTS, Sketch

__all__ = ["FeedEvent", "FeedLatency", "FeedPercentiles", "feed_event"]

_logger = logging.getLogger(__name__)

MAX_SERIES = 100
QUANTILES = (0.5, 0.95, 0.99)


class FeedPercentiles(TypedDict):
    """p50/p95/p99 (ms) of the feed latency over the window, and how many latencies."""

    latency_p50_ms: float
    latency_p95_ms: float
    latency_p99_ms: float
    count: int


class FeedEvent(TypedDict):
    """The ``kraken_metrics`` SSE event's payload (also ``/dashboard-data``'s ``feed``)."""

    latency_p50_ms: float
    latency_p95_ms: float
    latency_p99_ms: float
    circuit_breaker_trips: int
    reconnect_count: int
    trades_per_min: float
    ws_status: str
    timestamp: int  # epoch milliseconds
    venue: str | None
    pairs: dict[str, FeedPercentiles]  # pair (or "venue:pair") -> its percentiles


class _Ring:
    """The sketches of one (venue, pair): one per time slot, the last ``SLOTS`` kept.

    ``slot`` is the newest slot's number and ``add`` its sketch's bound ``add``, so a message
    in the current slot costs one comparison and one call.
    """

    __slots__ = ("slots", "slot", "add")

    def __init__(self) -> None:
        self.slots: deque[tuple[int, Sketch]] = deque()
        self.slot = -(2**62)  # older than any slot: the first message advances
        self.add: Callable[[float], None] = _ignore

    def advance(self, slot: int) -> Callable[[float], None]:
        """Start the sketch of ``slot`` (newer than the newest), drop expired ones; its add."""
        sketch = Sketch()
        slots = self.slots
        slots.append((slot, sketch))
        while slots[0][0] <= slot - SLOTS:
            slots.popleft()
        self.slot, self.add = slot, sketch.add
        return sketch.add

    def merge_into(self, target: Sketch, newest: int) -> None:
        for slot, sketch in self.slots:
            if slot > newest - SLOTS:
                target.merge(sketch)


class FeedLatency:
    """Rolling feed-latency percentiles per (venue, pair); thread-safe.

    Args:
        pairs: The pairs to keep (``feed_pairs``); None keeps the first ``max_series`` seen.
        seconds: The rolling window (``window_seconds``).
        max_series: Most (venue, pair) rings kept.
        clock: Monotonic seconds; tests inject one.
    """

    def __init__(
        self,
        *,
        pairs: Iterable[str] | None = None,
        seconds: float = 300.0,
        max_series: int = MAX_SERIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.pairs = frozenset(pairs) if pairs is not None else None
        self.slot_seconds = seconds / SLOTS
        self.max_series = max_series
        self.clock = clock
        self._fork = ForkGuard()
        self._lock = threading.Lock()
        self._rings: dict[tuple[str, str], _Ring] = {}
        self._log_once = LogOnce(_logger, later=None)

    @property
    def tables(self) -> tuple[()]:
        return ()  # a handle component for its reset; the histogram is exchange.feed.latency

    def add(self, venue: str, pair: str, seconds: float) -> None:
        """The hook ``trading.feed_message`` calls with a validated latency (s, >= 0)."""
        slot = int(self.clock() // self.slot_seconds)
        lock = self._lock
        lock.acquire()  # cheaper than `with`: this runs on every feed message
        try:
            ring = self._rings.get((venue, pair))
            if ring is None:
                ring = self._admit(venue, pair)
                if ring is None:
                    return
            # a clock that steps back (an injected one) keeps adding to the newest slot
            (ring.add if ring.slot >= slot else ring.advance(slot))(seconds)
        finally:
            lock.release()

    def _admit(self, venue: str, pair: str) -> _Ring | None:
        if self.pairs is not None and pair not in self.pairs:
            return None
        if len(self._rings) >= self.max_series:
            self._log_once(
                "capped",
                "otelmetrics: feed latency percentiles kept for %d (venue, pair) only; "
                "%r/%r and later ones are not (set OTELMETRICS_FEED_PAIRS)",
                self.max_series,
                venue,
                pair,
            )
            return None
        ring = self._rings[(venue, pair)] = _Ring()
        return ring

    def percentiles(
        self, venue: str | None = None, pairs: Iterable[str] | None = None
    ) -> FeedPercentiles:
        """p50/p95/p99 (ms) and count over the window, merged over the matching rings.

        Args:
            venue: Only this venue's pairs; None: every venue.
            pairs: Only these pairs; None: every kept pair.
        """
        wanted = None if pairs is None else frozenset(pairs)
        merged = Sketch("L")
        newest = int(self.clock() // self.slot_seconds)
        with self._lock:
            for (ring_venue, pair), ring in self._rings.items():
                if (venue is None or ring_venue == venue) and (wanted is None or pair in wanted):
                    ring.merge_into(merged, newest)
        return _summary(merged)

    def by_pair(self, venue: str | None = None) -> dict[str, dict[str, FeedPercentiles]]:
        """venue -> pair -> its percentiles, for every kept pair (of ``venue``, when given)."""
        with self._lock:
            keys = [key for key in self._rings if venue is None or key[0] == venue]
        found: dict[str, dict[str, FeedPercentiles]] = {}
        for ring_venue, pair in keys:
            found.setdefault(ring_venue, {})[pair] = self.percentiles(ring_venue, (pair,))
        return found

    def reset(self) -> None:
        """Forget every ring (after a fork, with a new lock; and for the API's reset)."""
        if self._fork.forked():  # the parent's lock may be held by a thread that is gone
            self._lock = threading.Lock()
        with self._lock:
            self._rings = {}


def _ignore(seconds: float) -> None:
    """The ``add`` of a ring before its first slot (never called: the first add advances)."""


def _summary(sketch: Sketch) -> FeedPercentiles:
    p50, p95, p99 = sketch.quantiles(QUANTILES)
    return {
        "latency_p50_ms": round(p50 * 1000, 3),
        "latency_p95_ms": round(p95 * 1000, 3),
        "latency_p99_ms": round(p99 * 1000, 3),
        "count": sketch.n,
    }


def feed_event(
    latency: FeedLatency,
    trading: Mapping[str, Any],
    *,
    venue: str | None,
    pairs: Iterable[str] | None,
    breakers: Iterable[str] | None,
    now: float,
) -> FeedEvent:
    """The ``kraken_metrics`` payload (the crypto-ai-bot publisher's names) for one venue's feed.

    Args:
        latency: ``handle.feed_latency``.
        trading: ``handle.trading.snapshot()``.
        venue: ``sse_feed_venue``; None sums every venue's feed (connected only when all are)
            and reports the venue by name when there is only one.
        pairs: ``feed_pairs``; None: every kept pair of the venue.
        breakers: ``breaker_names``; their trips are summed (None: every breaker's).
        now: Epoch seconds; the payload's ``timestamp`` is in milliseconds.
    """
    feeds = _feeds(trading.get("feeds", {}), venue)
    chosen = None if pairs is None else tuple(pairs)
    quantiles = latency.percentiles(venue, chosen)
    by_venue = latency.by_pair(venue)
    per_pair = {
        pair if venue is not None else f"{feed_venue}:{pair}": stats
        for feed_venue, kept in by_venue.items()
        for pair, stats in kept.items()
        if chosen is None or pair in chosen
    }
    if venue is None:  # unset: the one venue there is, by name; several are summed (None)
        known = set(trading.get("feeds", {})) | set(by_venue)
        venue = next(iter(known)) if len(known) == 1 else None
    return {
        "latency_p50_ms": quantiles["latency_p50_ms"],
        "latency_p95_ms": quantiles["latency_p95_ms"],
        "latency_p99_ms": quantiles["latency_p99_ms"],
        "circuit_breaker_trips": _trips(trading.get("circuit_breakers", {}), breakers),
        "reconnect_count": sum(feed.get("reconnects", 0) for feed in feeds),
        "trades_per_min": round(sum(feed.get("trades_per_min", 0.0) for feed in feeds), 3),
        "ws_status": _status(feeds),
        "timestamp": int(now * 1000),
        "venue": venue,
        "pairs": per_pair,
    }


def _feeds(feeds: Mapping[str, Any], venue: str | None) -> list[Mapping[str, Any]]:
    if venue is None:
        return list(feeds.values())
    return [feeds[venue]] if venue in feeds else []


def _status(feeds: list[Mapping[str, Any]]) -> str:
    """connected (all known feeds are), disconnected (any is), unknown (none reported)."""
    known = [feed.get("ws_status") for feed in feeds if feed.get("ws_status") is not None]
    if not known:
        return "unknown"
    return "disconnected" if "disconnected" in known else "connected"


def _trips(breakers: Mapping[str, Any], names: Iterable[str] | None) -> int:
    wanted = None if names is None else set(names)
    return sum(
        int(state.get("trips", 0))
        for name, state in breakers.items()
        if wanted is None or name in wanted
    )
