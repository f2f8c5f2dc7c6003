"""The ``/performance`` view: this process's resources, sampled at most every 5 s.

Usage::

    performance = handle.performance
    performance.view()
    # {"cpu_percent": 3.1, "memory_percent": 1.2, "memory_used_mb": 95.4,
    #  "disk_usage_percent": 41.0, "active_threads": 7, "open_files": 23,
    #  "network_connections": 4, "timestamp": 1769303790.1, "errors": {}}

The field names are the JSON API's contract. CPU is the process's CPU time (all modes) since
the previous view's sample over the wall time and the CPUs available (0..100); memory is the
resident set size (MB and % of physical memory); disk is the usage of the filesystem that
holds the working directory (or ``Resources.disk_path``); ``open_files`` counts open file
descriptors (handles on Windows) and ``network_connections`` the process's inet sockets.

The view reads the same :class:`~otelmetrics.instruments.resources.Resources` as the process
gauges, accepting a reading up to ``interval`` seconds old (one psutil pass per 5 s however
many requests ask, and none of its own when a collection has just taken one). A psutil failure
(a sandbox that denies ``/proc``, a gone process) never raises: the field is None, ``errors``
maps it to the reason, and it is logged once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypedDict

from otelmetrics.instruments.resources import (
    RESOURCES,
    CpuShares,
    CpuUtilization,
    Reading,
    Resources,
)

__all__ = ["FIELDS", "SAMPLE_SECONDS", "Performance", "PerformanceView"]

SAMPLE_SECONDS = 5.0
FIELDS = (
    "cpu_percent",
    "memory_percent",
    "memory_used_mb",
    "disk_usage_percent",
    "active_threads",
    "open_files",
    "network_connections",
)
# The view's fields that a reading's unreadable field leaves None (``process``: all of them).
_FIELDS_OF_READING: dict[str, tuple[str, ...]] = {
    "process": ("process",),
    "cpu_times": ("cpu_percent",),
    "rss": ("memory_percent", "memory_used_mb"),
    "memory_total": ("memory_percent",),
    "threads": ("active_threads",),
    "open_fds": ("open_files",),
    "network_connections": ("network_connections",),
    "disk_usage_percent": ("disk_usage_percent",),
}


class PerformanceView(TypedDict):
    """The ``/performance`` body: this process's resources now (None where unreadable)."""

    cpu_percent: float | None
    memory_percent: float | None
    memory_used_mb: float | None
    disk_usage_percent: float | None
    active_threads: int | None
    open_files: int | None
    network_connections: int | None
    timestamp: float  # epoch seconds of the reading
    errors: dict[str, str]  # field -> why it is None


class Performance:
    """The ``/performance`` body from readings at most ``interval`` seconds old; thread-safe.

    Args:
        interval: Seconds a reading is served before the next one is taken.
        resources: Whose readings to show (default: this process's, shared with the gauges);
            pass ``Resources(pid=..., disk_path=...)`` for another process or filesystem.
    """

    def __init__(
        self, *, interval: float = SAMPLE_SECONDS, resources: Resources = RESOURCES
    ) -> None:
        self.interval = interval
        self.resources = resources
        self._cpu = CpuUtilization()

    def view(self) -> PerformanceView:
        """The latest reading as the view's JSON body (a new dict each call); never raises."""
        reading = self.resources.sample(self.interval, extras=True)
        return _body(reading, self._cpu(reading))


def _body(reading: Reading, cpu: CpuShares | None) -> PerformanceView:
    rss, memory = reading.rss, reading.memory_utilization
    return {
        "cpu_percent": None if cpu is None else round(min(100.0, cpu.total * 100), 2),
        "memory_percent": None if memory is None else round(memory * 100, 2),
        "memory_used_mb": None if rss is None else round(rss / 1048576, 1),
        "disk_usage_percent": reading.disk_usage_percent,
        "active_threads": reading.threads,
        "open_files": reading.open_fds,
        "network_connections": reading.network_connections,
        "timestamp": reading.wall,
        "errors": _errors(reading.errors),
    }


def _errors(errors: Mapping[str, str]) -> dict[str, str]:
    """The reading's errors under the view's field names."""
    return {
        name: reason
        for field, reason in errors.items()
        for name in _FIELDS_OF_READING.get(field, ())
    }
