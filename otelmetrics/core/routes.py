"""Rolling windows per route: which route is failing, in bounded memory.

The HTTP hot path adds each finished request to its route's :class:`RollingWindow` as well as to
the service-wide one (the window object rides in the request series the path has already looked
up, so no extra lookup). At most ``limit`` routes get a window of their own; the rest share one,
``_OTHER``, as the series overflow does. Not locked itself: the HTTP table's lock guards it.
"""

from __future__ import annotations

from otelmetrics.core.window import RollingWindow, WindowView

__all__ = ["OTHER_ROUTE", "ROUTE_LIMIT", "RouteWindows"]

ROUTE_LIMIT = 100  # about 10 KB per route for a 300 s window of 1 ms..1 s latencies
OTHER_ROUTE = "_OTHER"


class RouteWindows:
    """One :class:`RollingWindow` per ``http.route`` (None: requests that matched no route)."""

    def __init__(self, seconds: float, limit: int = ROUTE_LIMIT) -> None:
        self.seconds = seconds
        self.limit = max(2, limit)
        self.windows: dict[str | None, RollingWindow] = {}

    def get(self, route: str | None) -> RollingWindow:
        """The window of ``route``, created on first use (``_OTHER`` beyond the limit)."""
        found = self.windows.get(route)
        if found is None:
            if len(self.windows) >= self.limit - 1:
                route = OTHER_ROUTE
                found = self.windows.get(route)
            if found is None:
                found = self.windows[route] = RollingWindow(self.seconds)
        return found

    def views(self, now: float) -> list[tuple[str | None, WindowView]]:
        """Each route's view as of ``now``, for the routes with requests in the window."""
        found = ((route, window.view(now)) for route, window in self.windows.items())
        return [(route, view) for route, view in found if view.requests]

    def reset(self) -> None:
        """Empty every window in place (the request series hold them)."""
        for window in self.windows.values():
            window.reset()

    def nbytes(self) -> int:
        return sum(window.nbytes() for window in self.windows.values())
