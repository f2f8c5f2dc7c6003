"""Counts over time for the trading state: the last minute, a rolling window, the local day.

Nothing here locks or reads a clock: the caller holds the trading lock and passes ``now``
(epoch seconds).
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

STATUSES = ("placed", "filled", "rejected", "failed", "cancelled")
WINDOW_CAP = 10_000  # closed trades kept in the rolling window, whatever its length


class MinuteCounter:
    """Counts of the last 60 seconds, in one-second slots (O(1) add, 60 slots read)."""

    __slots__ = ("stamps", "counts")

    def __init__(self) -> None:
        self.stamps = [-1] * 60
        self.counts = [0.0] * 60

    def add(self, now: float, n: float) -> None:
        second = int(now)
        slot = second % 60
        if self.stamps[slot] != second:
            self.stamps[slot] = second
            self.counts[slot] = 0
        self.counts[slot] += n

    def total(self, now: float) -> float:
        """The sum over the 60 seconds ending at ``now``."""
        second = int(now)
        return sum(
            n
            for stamp, n in zip(self.stamps, self.counts, strict=True)
            if second - 60 < stamp <= second
        )


class TradeWindow:
    """Closed trades of the last ``seconds`` (at most WINDOW_CAP): their count and wins."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.wins = 0
        self._trades: deque[tuple[float, bool]] = deque()

    def add(self, now: float, win: bool) -> None:
        self.evict(now)
        if len(self._trades) >= WINDOW_CAP:
            self.wins -= self._trades.popleft()[1]
        self._trades.append((now, win))
        self.wins += win

    def evict(self, now: float) -> None:
        """Drop trades closed ``seconds`` or more before ``now``."""
        trades, oldest = self._trades, now - self.seconds
        while trades and trades[0][0] <= oldest:
            self.wins -= trades.popleft()[1]

    def count(self, now: float) -> int:
        self.evict(now)
        return len(self._trades)

    def win_rate(self, now: float) -> float | None:
        """Wins / trades in the window (breakeven trades count, as non-wins); None if empty."""
        n = self.count(now)
        return self.wins / n if n else None


class Today:
    """Counts and P&L of the current local day; ``roll`` starts a new one."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self.start = self.end = 0.0  # epoch seconds; empty until the first roll
        self.orders = dict.fromkeys(STATUSES, 0)
        self.opened = self.closed = 0
        self.pnl = 0.0

    def roll(self, now: float) -> None:
        """Make the day holding ``now`` current; its counts start from zero."""
        day = datetime.fromtimestamp(now, self.zone).date()
        self.start = datetime.combine(day, time(), self.zone).timestamp()
        self.end = datetime.combine(day + timedelta(days=1), time(), self.zone).timestamp()
        self.orders = dict.fromkeys(STATUSES, 0)
        self.opened = self.closed = 0
        self.pnl = 0.0

    def at(self, now: float) -> Today:
        """Self, rolled over first when ``now`` is past the current day.

        Never rolls back: a time read before the lock (another thread's, the collection's)
        that lands just before midnight counts in the current day instead of wiping it.
        """
        if now >= self.end:
            self.roll(now)
        return self
