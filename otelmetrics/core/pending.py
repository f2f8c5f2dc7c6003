"""Durations waiting for the rolling windows: the request path appends, a batch adds them.

Adding one request to a rolling window (a slot, a sketch bucket, the totals) and again to its
route's window costs more than the rest of the recording. So the HTTP hot path only appends the
request's duration to a list its series holds (one list per route window and status), and
:meth:`PendingWindows.flush` adds what waits to the service window and to the route's window
together: each bucket key computed once for both, then counted per key.

A flush runs on the request path at most once a second, and before the next slot boundary of
any window, so every duration lands in the slot it finished in; readers flush first, so what
they see is exact. Not locked itself: the HTTP table's lock guards it.
"""

from __future__ import annotations

from otelmetrics.core.routes import RouteWindows
from otelmetrics.core.sketch import bucket_keys
from otelmetrics.core.window import RollingWindow

__all__ = ["FLUSH_SECONDS", "PendingWindows"]

FLUSH_SECONDS = 1.0  # the most a duration waits, unless a slot boundary comes first


class PendingWindows:
    """The durations not yet in the windows, by route window and status.

    Example::

        pending = PendingWindows(window, routes)
        durations = pending.durations("/items/{id}", 200)  # once per series, kept in it
        due = pending.flush(now)  # flush again when a request finishes at or after ``due``
        durations.append(0.012)
    """

    def __init__(self, window: RollingWindow, routes: RouteWindows) -> None:
        self.window = window
        self.routes = routes
        self.waiting: dict[tuple[RollingWindow, int], list[float]] = {}
        self.since: float | None = None  # every waiting duration finished since, in its slot

    def durations(self, route: str | None, status: int) -> list[float]:
        """The list a request of ``route`` that answered ``status`` appends its duration to."""
        key = (self.routes.get(route), status)
        found = self.waiting.get(key)
        if found is None:
            found = self.waiting[key] = []
        return found

    def flush(self, now: float) -> float:
        """Add every waiting duration to the windows; return when the next flush is due."""
        since = now if self.since is None else self.since
        window = self.window
        for (route_window, status), durations in self.waiting.items():
            if durations:
                keys, zeros = bucket_keys(durations)
                window.add_many(keys, zeros, status, since)
                route_window.add_many(keys, zeros, status, since)
                durations.clear()
        self.since = now
        boundaries = (w.slot_end(now) for w in self.routes.windows.values())
        wait = min(FLUSH_SECONDS, window.slot_seconds)  # a new window's first slot holds it
        return min(now + wait, window.slot_end(now), *boundaries)
