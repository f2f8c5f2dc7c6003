"""Rolling-window request statistics in bounded memory, with ≤ 1 % accurate percentiles.

The window is a ring of time slots (ten by default: 30 s each for a 300 s window). Each slot
counts requests, errors (status ≥ 400) and server errors (5xx), and keeps latencies in a
:class:`Sketch`: logarithmic buckets whose width makes every reported quantile within 1 % of
the exact value at the same rank. Memory depends on the spread of the latencies, never on the
request rate: 16-bit counts (widened when one overflows), so a slot holding 1 ms..1 s uses
0.7 KB, and the whole 300 s window about 10 KB.

The HTTP hot path feeds it from the same ``finish()`` call that feeds OTLP and Prometheus, under
the same lock (see :class:`otelmetrics.instruments.http.HttpServerMetrics`); readers take that
lock too.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Sequence
from itertools import accumulate
from math import ceil, floor, log
from operator import add, sub
from typing import NamedTuple

RELATIVE_ACCURACY = 0.01
_GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
_LOG_GAMMA = log(_GAMMA)
# Latencies below a microsecond count as zero; the representative of bucket k is the value
# whose relative distance to both bucket ends is RELATIVE_ACCURACY.
MIN_VALUE = 1e-6
_MAX_BINS = 4096  # 1 µs .. 1e11 s at 1 %: a corrupt clock cannot grow a slot further
SLOTS = 10


class Sketch:
    """Counts of values in buckets (γ^(k-1), γ^k], γ = 1.01/0.99, stored densely from ``offset``.

    Example::

        sketch = Sketch()
        for ms in range(100):
            sketch.add(ms / 1000)
        sketch.quantile(0.5)  # 0.049 within 1 %
    """

    __slots__ = ("counts", "offset", "zeros", "n")

    def __init__(self, typecode: str = "H") -> None:
        self.counts = array(typecode)  # 16-bit counts; widened to 32 bits when one overflows
        self.offset = 0
        self.zeros = 0
        self.n = 0

    def add(self, value: float) -> None:
        self.n += 1
        if value < MIN_VALUE:
            self.zeros += 1
            return
        key = ceil(log(value) / _LOG_GAMMA)
        index = key - self.offset
        counts = self.counts
        if not 0 <= index < len(counts):
            self._grow(key)
            counts, index = self.counts, key - self.offset
        try:
            counts[index] += 1
        except OverflowError:
            self._widen()
            self.counts[index] += 1

    def _widen(self) -> None:
        self.counts = array("L", self.counts)

    def _grow(self, key: int) -> None:
        counts = self.counts
        if not counts:
            self.offset = key
            counts.append(0)
        elif key < self.offset:
            counts[0:0] = _zeros(counts.typecode, self.offset - key)
            self.offset = key
        elif key >= self.offset + len(counts):
            counts.extend(_zeros(counts.typecode, key - self.offset - len(counts) + 1))
        if len(counts) > _MAX_BINS:
            self._collapse_lowest()

    def _collapse_lowest(self) -> None:
        """Fold the lowest buckets into one (only a clock gone wrong spans 100 decades)."""
        extra = len(self.counts) - _MAX_BINS
        folded = sum(self.counts[: extra + 1])
        del self.counts[:extra]
        self.counts[0] = folded
        self.offset += extra

    def merge(self, other: Sketch, sign: int = 1) -> None:
        """Add ``other``'s counts to this sketch (``sign=-1``: take back a merged one)."""
        self.n += sign * other.n
        self.zeros += sign * other.zeros
        if not other.counts:
            return
        self._grow(other.offset)
        self._grow(other.offset + len(other.counts) - 1)
        start = max(other.offset - self.offset, 0)  # collapsed buckets fold into bucket 0
        end = start + len(other.counts)
        combined = list(map(add if sign > 0 else sub, self.counts[start:end], other.counts))
        try:
            self.counts[start:end] = array(self.counts.typecode, combined)
        except OverflowError:
            self._widen()
            self.counts[start:end] = array("L", combined)

    def copy(self) -> Sketch:
        twin = Sketch()
        twin.counts = array(self.counts.typecode, self.counts)
        twin.offset, twin.zeros, twin.n = self.offset, self.zeros, self.n
        return twin

    def quantiles(self, qs: Sequence[float]) -> list[float]:
        """The values at ranks ⌊q·(n-1)⌋, each within 1 % of the exact one (0.0 when empty)."""
        if not self.n:
            return [0.0 for _ in qs]
        cumulative = list(accumulate(self.counts, initial=self.zeros))
        return [self._value(cumulative, int(q * (self.n - 1))) for q in qs]

    def quantile(self, q: float) -> float:
        return self.quantiles((q,))[0]

    def _value(self, cumulative: list[int], rank: int) -> float:
        i = bisect_left(cumulative, rank + 1)  # first prefix holding more than `rank` values
        if i == 0:
            return 0.0
        return 2 * _GAMMA ** (self.offset + i - 1) / (_GAMMA + 1)

    def nbytes(self) -> int:
        """Bytes held by the counts (the part that grows with the latency spread)."""
        return self.counts.buffer_info()[1] * self.counts.itemsize


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


def _zeros(typecode: str, n: int) -> array[int]:
    return array(typecode, [0]) * n
