"""The sample ring behind ``/metric/{name}`` and ``/summary``: flat float arrays, fixed size."""

from __future__ import annotations

from array import array
from collections.abc import Sequence


class Samples:
    """The last ``size`` samples of every statistic, in flat float arrays (a ring)."""

    def __init__(self, capacity: int, columns: Sequence[str]) -> None:
        self.capacity = capacity
        self.size = 0
        self._next = 0
        self._at = array("d", [0.0]) * capacity
        self._values = [array("d", [0.0]) * capacity for _ in columns]

    def append(self, at: float, values: list[float]) -> None:
        self._at[self._next] = at
        for column, value in zip(self._values, values, strict=True):
            column[self._next] = value
        self._next = (self._next + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def _order(self, n: int) -> list[int]:
        n = min(n, self.size)
        return [(self._next - n + i) % self.capacity for i in range(n)]

    def last(self, column: int, n: int) -> list[tuple[float, float]]:
        return [(self._at[i], self._values[column][i]) for i in self._order(n)]

    def since(self, at: float) -> list[tuple[float, list[float]]]:
        """Every sample taken at or after ``at``, oldest first: (when, its values)."""
        rows = ((self._at[i], i) for i in self._order(self.size))
        return [(when, [column[i] for column in self._values]) for when, i in rows if when >= at]

    def summary(self, column: int) -> dict[str, float | int]:
        values = [self._values[column][i] for i in self._order(self.size)]
        if not values:
            return {"count": 0, "mean": 0.0, "min": 0.0, "max": 0.0, "latest": 0.0}
        return {
            "count": len(values),
            "mean": round(sum(values) / len(values), 3),
            "min": min(values),
            "max": max(values),
            "latest": values[-1],
        }
