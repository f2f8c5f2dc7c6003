"""Aggregators: what one series of a lean instrument accumulates.

Each aggregator has ``add(value)`` (the hot path: a few integer updates, no allocation) and
``snapshot()`` (a plain tuple copied at collection time). The exponential histogram follows the
OpenTelemetry base-2 exponential layout exactly (start at scale 20, at most 160 buckets per sign,
downscale when the range grows), so its data points equal what the SDK would produce.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from math import floor, frexp, inf, ldexp, log
from time import time_ns
from typing import NamedTuple

# (value, time_unix_nano, trace_id, span_id) of a measurement recorded inside a sampled span
ExemplarTuple = tuple[float, int, int, int]

MAX_SCALE = 20
MAX_SIZE = 160
_INV_LN2 = 1.0 / log(2.0)


class ExplicitSnapshot(NamedTuple):
    bounds: Sequence[float]
    counts: tuple[int, ...]
    total: float
    n: int
    min: float | None  # None in a delta point: the interval's extremes are unknown
    max: float | None
    exemplars: tuple[ExemplarTuple, ...] = ()


class ExplicitBuckets:
    """Histogram with fixed upper-inclusive bucket bounds, as OTLP explicit histograms."""

    __slots__ = ("bounds", "counts", "total", "count", "min", "max", "exemplars")

    def __init__(self, bounds: Sequence[float]) -> None:
        self.bounds = bounds
        self.exemplars: dict[int, ExemplarTuple] | None = None
        self.counts = [0] * (len(bounds) + 1)
        self.total = 0.0
        self.count = 0
        self.min = inf
        self.max = -inf

    def add(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.total += value
        self.count += 1
        if value < self.min:
            self.min = value
        if value > self.max:
            self.max = value

    def add_exemplar(self, value: float, trace_id: int, span_id: int) -> None:
        """Keep the newest traced measurement of the value's bucket (aligned reservoir)."""
        if self.exemplars is None:
            self.exemplars = {}
        self.exemplars[bisect_left(self.bounds, value)] = (value, time_ns(), trace_id, span_id)

    def snapshot(self) -> ExplicitSnapshot:
        exemplars = tuple(self.exemplars.values()) if self.exemplars else ()
        return ExplicitSnapshot(
            self.bounds, tuple(self.counts), self.total, self.count, self.min, self.max, exemplars
        )


class ExpSnapshot(NamedTuple):
    scale: int
    zero_count: int
    positive: tuple[int, tuple[int, ...]]  # (offset, counts)
    negative: tuple[int, tuple[int, ...]]
    total: float
    n: int
    min: float | None
    max: float | None


def bucket_index(value: float, scale: int) -> int:
    """Index of the base-2 exponential bucket holding ``value`` (> 0) at ``scale``."""
    fraction, exponent = frexp(value)
    if fraction == 0.5:  # an exact power of two is the upper bound of the bucket below
        return ((exponent - 1) << scale) - 1 if scale > 0 else (exponent - 2) >> -scale
    if scale > 0:
        return floor(log(value) * ldexp(_INV_LN2, scale))
    return (exponent - 1) >> -scale


class _Range:
    """Contiguous bucket counts starting at ``offset``."""

    __slots__ = ("offset", "counts")

    def __init__(self) -> None:
        self.offset = 0
        self.counts: list[int] = []

    def span_with(self, index: int) -> tuple[int, int]:
        if not self.counts:
            return index, index
        return min(self.offset, index), max(self.offset + len(self.counts) - 1, index)

    def increment(self, index: int) -> None:
        counts = self.counts
        if not counts:
            self.offset, self.counts = index, [1]
            return
        if index < self.offset:
            self.counts = [0] * (self.offset - index) + counts
            self.offset = index
        elif index >= self.offset + len(counts):
            counts.extend([0] * (index - self.offset - len(counts) + 1))
        self.counts[index - self.offset] += 1

    def downscale(self, shift: int) -> None:
        if not self.counts or not shift:
            return
        merged: dict[int, int] = {}
        for i, n in enumerate(self.counts, self.offset):
            merged[i >> shift] = merged.get(i >> shift, 0) + n
        self.offset = min(merged)
        self.counts = [merged.get(i, 0) for i in range(self.offset, max(merged) + 1)]


class ExponentialBuckets:
    """Base-2 exponential histogram, bucket-for-bucket the SDK's default (160 buckets)."""

    __slots__ = ("scale", "zero_count", "positive", "negative", "total", "count", "min", "max")

    def __init__(self) -> None:
        self.scale = MAX_SCALE
        self.zero_count = 0
        self.positive = _Range()
        self.negative = _Range()
        self.total = 0.0
        self.count = 0
        self.min = inf
        self.max = -inf

    def add(self, value: float) -> None:
        self.total += value
        self.count += 1
        if value < self.min:
            self.min = value
        if value > self.max:
            self.max = value
        if value == 0:
            self.zero_count += 1
            return
        side = self.positive if value > 0 else self.negative
        index = bucket_index(abs(value), self.scale)
        low, high = side.span_with(index)
        shift = 0
        while (high >> shift) - (low >> shift) + 1 > MAX_SIZE:
            shift += 1
        if shift:
            self.scale -= shift
            self.positive.downscale(shift)
            self.negative.downscale(shift)
            index >>= shift
        side.increment(index)

    def add_exemplar(self, value: float, trace_id: int, span_id: int) -> None:
        """Exponential points carry no exemplars (explicit ones, on Prometheus/OTLP, do)."""

    def snapshot(self) -> ExpSnapshot:
        return ExpSnapshot(
            self.scale,
            self.zero_count,
            (self.positive.offset, tuple(self.positive.counts)),
            (self.negative.offset, tuple(self.negative.counts)),
            self.total,
            self.count,
            self.min,
            self.max,
        )


class DualBuckets:
    """Both layouts at once: exponential for OTLP while Prometheus keeps explicit buckets."""

    __slots__ = ("explicit", "exponential")

    def __init__(self, bounds: Sequence[float]) -> None:
        self.explicit = ExplicitBuckets(bounds)
        self.exponential = ExponentialBuckets()

    def add(self, value: float) -> None:
        self.explicit.add(value)
        self.exponential.add(value)

    def add_exemplar(self, value: float, trace_id: int, span_id: int) -> None:
        self.explicit.add_exemplar(value, trace_id, span_id)

    def snapshot(self) -> tuple[ExplicitSnapshot, ExpSnapshot]:
        return self.explicit.snapshot(), self.exponential.snapshot()


class Total:
    """A running sum, for counters and up-down counters."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value: float = 0

    def add(self, value: float) -> None:
        self.value += value

    def snapshot(self) -> float:
        return self.value


class SharedExplicitBuckets(ExplicitBuckets):
    """Explicit buckets whose counts, sum and count live in shared memory (a worker's arena:
    ``len(bounds) + 3`` float64 values); min, max and exemplars stay in the process."""

    __slots__ = ("values", "_sum_at")

    def __init__(self, bounds: Sequence[float], values: memoryview[float]) -> None:
        super().__init__(bounds)
        self.values = values
        self._sum_at = len(bounds) + 1

    def add(self, value: float) -> None:
        values = self.values
        values[bisect_left(self.bounds, value)] += 1
        at = self._sum_at
        values[at] += value
        values[at + 1] += 1
        if value < self.min:
            self.min = value
        if value > self.max:
            self.max = value

    def snapshot(self) -> ExplicitSnapshot:
        values = self.values.tolist()
        at = self._sum_at
        exemplars = tuple(self.exemplars.values()) if self.exemplars else ()
        counts = tuple(int(n) for n in values[:at])
        return ExplicitSnapshot(
            self.bounds, counts, values[at], int(values[at + 1]), self.min, self.max, exemplars
        )


class SharedTotal(Total):
    """A running sum in shared memory (one float64 of a worker's arena)."""

    __slots__ = ("values",)

    def __init__(self, values: memoryview[float]) -> None:
        super().__init__()
        self.values = values

    def add(self, value: float) -> None:
        self.values[0] += value

    def snapshot(self) -> float:
        return float(self.values[0])
