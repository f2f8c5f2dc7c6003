"""Rolling-window request statistics in bounded memory, with ≤ 1 % accurate percentiles.

The window is a ring of time slots (ten by default: 30 s each for a 300 s window). Each slot
counts requests, errors (status ≥ 400) and server errors (5xx), and keeps latencies in a
:class:`~otelmetrics.core.sketch.Sketch`: logarithmic buckets whose width makes every reported
quantile within 1 % of the exact value at the same rank. Memory depends on the spread of the
latencies, never on the request rate: a slot holding 1 ms..1 s uses 0.7 KB, and the whole 300 s
window about 10 KB.

The HTTP hot path leaves each request's duration in a list its series holds, and the waiting
durations are added in batches (:mod:`otelmetrics.core.pending`), under the HTTP table's lock;
readers take that lock too.
"""

from __future__ import annotations

from collections import Counter
from math import floor, inf
from typing import NamedTuple

from otelmetrics.core.sketch import MIN_VALUE, RELATIVE_ACCURACY, Sketch

__all__ = [
    "MIN_VALUE",
    "RELATIVE_ACCURACY",
    "SLOTS",
    "RollingWindow",
    "Sketch",
    "Slot",
    "WindowView",
    "covered",
]

SLOTS = 10


class Slot:
    """Counts and latencies of requests finished within one slot of the window."""

    __slots__ = ("start", "requests", "errors", "server_errors", "sketch")

    def __init__(self, start: float) -> None:
        self.start = start
        self.requests = 0
        self.errors = 0
        self.server_errors = 0
        self.sketch = Sketch()


class WindowView(NamedTuple):
    """What the window holds now: counts, covered seconds and latency percentiles (seconds)."""

    requests: int
    errors: int
    server_errors: int
    seconds: float
    p50: float
    p95: float
    p99: float


class RollingWindow:
    """Requests, errors and latency percentiles over the last ``seconds`` seconds.

    ``now`` is any monotonic clock in seconds (``time.perf_counter`` on the request path); the
    window starts at the first ``now`` it sees. It holds the slots that started within the last
    ``seconds``, so it spans between ``seconds - slot_seconds`` and ``seconds``. Not locked
    itself: the caller holds one lock around :meth:`add` and :meth:`view` (the HTTP table's).
    """

    def __init__(self, seconds: float = 300.0, *, slots: int = SLOTS) -> None:
        self.seconds = seconds
        self.slot_seconds = seconds / slots
        self.reset()

    def reset(self) -> None:
        """Forget everything: the window and the totals start again from zero."""
        self._ring: list[Slot] = []
        self._closed = Sketch("I")  # the latencies of every slot but the newest, merged
        self._started: float | None = None
        self._slot_end = float("-inf")  # forces a rotation on the first add
        self.totals = [0, 0, 0]  # requests, errors, server errors since start or reset

    def add(self, seconds: float, status: int, now: float) -> None:
        """Record one finished request that took ``seconds`` and answered ``status``."""
        if now >= self._slot_end:
            self._rotate(now)
        slot = self._ring[-1]
        slot.requests += 1
        slot.sketch.add(seconds)
        totals = self.totals
        totals[0] += 1
        if status >= 400:
            slot.errors += 1
            totals[1] += 1
            if status >= 500:
                slot.server_errors += 1
                totals[2] += 1

    def add_many(self, keys: Counter[int], zeros: int, status: int, now: float) -> None:
        """Record requests that all answered ``status``, their latencies bucketed by
        :func:`bucket_keys` (computed once for every window they go to)."""
        if now >= self._slot_end:
            self._rotate(now)
        slot = self._ring[-1]
        n = keys.total() + zeros
        slot.requests += n
        slot.sketch.add_keys(keys, zeros)
        totals = self.totals
        totals[0] += n
        if status >= 400:
            slot.errors += n
            totals[1] += n
            if status >= 500:
                slot.server_errors += n
                totals[2] += n

    def slot_end(self, now: float) -> float:
        """When the slot holding ``now`` ends (inf before the first request, which starts one)."""
        started = self._started
        if started is None:
            return inf
        return started + ((now - started) // self.slot_seconds + 1) * self.slot_seconds

    def _rotate(self, now: float) -> None:
        if self._started is None:
            self._started = now
        if self._ring:
            self._closed.merge(self._ring[-1].sketch)
        width = self.slot_seconds
        start = self._started + (now - self._started) // width * width
        self._ring.append(Slot(start))
        self._slot_end = start + width
        self._expire(now)

    def _expire(self, now: float) -> None:
        ring = self._ring
        while ring and ring[0].start <= now - self.seconds:
            expired = ring.pop(0)
            if ring:  # the newest slot is not in _closed
                self._closed.merge(expired.sketch, -1)
            else:
                self._closed = Sketch("I")

    def view(self, now: float) -> WindowView:
        """The window's counts and p50/p95/p99 as of ``now``."""
        self._expire(now)
        ring = self._ring
        merged = self._closed.copy()
        if ring:
            merged.merge(ring[-1].sketch)
        p50, p95, p99 = merged.quantiles((0.5, 0.95, 0.99))
        return WindowView(
            sum(slot.requests for slot in ring),
            sum(slot.errors for slot in ring),
            sum(slot.server_errors for slot in ring),
            self._covered(now),
            p50,
            p95,
            p99,
        )

    def _covered(self, now: float) -> float:
        return covered(self._started, now, self.seconds, self.slot_seconds)

    @property
    def started(self) -> float | None:
        """When the window saw its first request (since start or reset), on its clock."""
        return self._started

    def slots(self) -> list[Slot]:
        """The live slots, oldest first (call with the lock held)."""
        return list(self._ring)

    def nbytes(self) -> int:
        """Bytes held by the latency counts of the slots and of their merged copy."""
        return self._closed.nbytes() + sum(slot.sketch.nbytes() for slot in self._ring)


def covered(started: float | None, now: float, seconds: float, slot_seconds: float) -> float:
    """Seconds a window's counts span: from the first slot boundary inside the window."""
    if started is None:
        return 0.0
    since = now - seconds - started
    if since < 0:
        return now - started
    return now - (started + (floor(since / slot_seconds) + 1) * slot_seconds)
