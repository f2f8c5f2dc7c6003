"""What :class:`otelmetrics.insights.stats.Stats` reads, as Protocols, and its options.

The pipeline hands ``Stats`` the components that satisfy them (``HttpServerMetrics``,
``ActiveUsers``, ``WebsocketMetrics``) and the options from the settings; ``Stats`` never sees
the handle::

    Stats(http=http, users=users, websockets=websockets, options=StatsOptions(history_minutes=60))
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from otelmetrics.core.routes import RouteWindows
from otelmetrics.core.window import RollingWindow

__all__ = ["ConnectionSource", "StatsOptions", "UserSource", "WindowSource"]

T = TypeVar("T")


class WindowSource(Protocol):
    """Reads the rolling window, and the one of each route, under the lock their writer holds
    (``HttpServerMetrics``)."""

    def read_window(self, read: Callable[[RollingWindow], T]) -> T: ...

    def read_routes(self, read: Callable[[RouteWindows], T]) -> T: ...


class UserSource(Protocol):
    """The active users (``ActiveUsers``)."""

    def count(self) -> int: ...

    def ids(self) -> list[str]: ...


class ConnectionSource(Protocol):
    """The open websocket connections (``WebsocketMetrics``)."""

    def active_total(self) -> int: ...


@dataclass(frozen=True)
class StatsOptions:
    """What the statistics need of the settings (the same names as there)."""

    window_seconds: float = 300.0
    history_minutes: int = 60
    user_timeout_seconds: float = 300.0
    thresholds: Mapping[str, float] = field(default_factory=dict)
    stats_dir: str | None = None
