"""The 1 % latency sketch behind the rolling windows: logarithmic buckets in bounded memory.

A :class:`Sketch` counts values in buckets whose width makes every reported quantile within 1 %
of the exact value at the same rank; 16-bit counts, widened when one overflows.
:func:`bucket_keys` buckets many values at once, so values that go to several sketches (a
request's service window and its route's) are bucketed once.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
from itertools import accumulate
from math import ceil, log
from operator import add, sub

__all__ = ["MIN_VALUE", "RELATIVE_ACCURACY", "Sketch", "bucket_keys"]

RELATIVE_ACCURACY = 0.01
_GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
_LOG_GAMMA = log(_GAMMA)
# Latencies below a microsecond count as zero; the representative of bucket k is the value
# whose relative distance to both bucket ends is RELATIVE_ACCURACY.
MIN_VALUE = 1e-6
_MAX_BINS = 4096  # 1 µs .. 1e11 s at 1 %: a corrupt clock cannot grow a slot further


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

    def add_keys(self, keys: Counter[int], zeros: int) -> None:
        """Add values already bucketed by :func:`bucket_keys` (its counts per key, its zeros)."""
        self.n += keys.total() + zeros
        self.zeros += zeros
        for key, count in keys.items():
            index = key - self.offset
            if not 0 <= index < len(self.counts):
                self._grow(key)
                index = key - self.offset
            try:
                self.counts[index] += count
            except OverflowError:
                self._widen()
                self.counts[index] += count

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


def bucket_keys(values: Sequence[float]) -> tuple[Counter[int], int]:
    """Each value's :class:`Sketch` bucket key, counted, and how many values count as zero."""
    keys = Counter([ceil(log(value) / _LOG_GAMMA) for value in values if value >= MIN_VALUE])
    return keys, len(values) - keys.total()


def _zeros(typecode: str, n: int) -> array[int]:
    return array(typecode, [0]) * n
