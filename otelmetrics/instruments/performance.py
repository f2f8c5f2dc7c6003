"""The ``/performance`` view (seed 002): this process's resources, sampled at most every 5 s.

Usage::

    performance = handle.performance
    performance.view()
    # {"cpu_percent": 3.1, "memory_percent": 1.2, "memory_used_mb": 95.4,
    #  "disk_usage_percent": 41.0, "active_threads": 7, "open_files": 23,
    #  "network_connections": 4, "timestamp": 1769303790.1, "errors": {}}

The field names are seed 002's. CPU is the process's CPU time since the previous sample over
the wall time and the CPUs available (0..100); memory is the resident set size (MB and % of
physical memory); disk is the usage of the filesystem that holds the working directory (or
``path``); ``open_files`` counts open file descriptors (handles on Windows) and
``network_connections`` the process's inet sockets.

Callers within ``interval`` seconds of the last sample get that sample (one psutil pass per 5 s
however many requests ask). A psutil failure (a sandbox that denies ``/proc``, a gone process)
never raises: the field is None, ``errors`` maps it to the reason, and it is logged once.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import psutil

__all__ = ["Performance"]

_logger = logging.getLogger(__name__)

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


class Performance:
    """Samples the process's resources at most once per ``interval``; thread-safe.

    Args:
        interval: Seconds a sample is served before the next one is taken.
        path: The filesystem whose usage is reported (default: the working directory).
        pid: The process to sample (default: the current one, followed across a fork).
        clock: Monotonic seconds deciding when a sample is stale; tests inject one.
        wall_clock: Epoch seconds for the ``timestamp`` field; tests inject one.
    """

    def __init__(
        self,
        *,
        interval: float = SAMPLE_SECONDS,
        path: str | os.PathLike[str] = ".",
        pid: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.interval = interval
        self.path = path
        self.pid = pid
        self._clock = clock
        self._wall_clock = wall_clock
        self._lock = threading.Lock()
        self._process: psutil.Process | None = None
        self._sampled_pid = -1
        self._taken = 0.0
        self._view: dict[str, Any] | None = None
        self._warned: set[str] = set()
        self._cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None

    def view(self) -> dict[str, Any]:
        """The latest sample, taken now when none is younger than ``interval``; never raises."""
        with self._lock:
            now = self._clock()
            stale = self._view is None or now - self._taken >= self.interval
            view = self._view
            if view is None or stale or self._target() != self._sampled_pid:
                view = self._view = self._sample()
                self._taken = now
            return {**view, "errors": dict(view["errors"])}

    def _target(self) -> int:
        return self.pid if self.pid is not None else os.getpid()

    def _sample(self) -> dict[str, Any]:
        errors: dict[str, str] = {}
        values: dict[str, Any] = dict.fromkeys(FIELDS)
        process = self._attach(errors)
        if process is not None:
            with process.oneshot():
                for name, read in _PROCESS_READS.items():
                    values[name] = self._read(name, partial(read, self, process), errors)
        values["disk_usage_percent"] = self._read(
            "disk_usage_percent", lambda: psutil.disk_usage(os.fspath(self.path)).percent, errors
        )
        return {**values, "timestamp": self._wall_clock(), "errors": errors}

    def _attach(self, errors: dict[str, str]) -> psutil.Process | None:
        """The psutil handle of the target process (new after a fork), or None if gone."""
        target = self._target()
        if self._process is None or self._sampled_pid != target:
            self._sampled_pid = target
            self._process = self._read("process", lambda: psutil.Process(target), errors)
            if self._process is not None:
                self._read("cpu_percent", lambda: self._process_cpu(self._process), {})
        elif not self._read("process", self._process.is_running, errors):
            errors.setdefault("process", f"process {target} is not running")
            return None
        return self._process

    def _read(self, name: str, read: Callable[[], Any], errors: dict[str, str]) -> Any:
        try:
            return read()
        except Exception as exc:  # psutil.Error, OSError, anything: reported, never raised
            errors[name] = f"{type(exc).__name__}: {exc}"[:200]
            if name not in self._warned:
                self._warned.add(name)
                _logger.warning("otelmetrics: /performance cannot read %s: %s", name, exc)
            return None

    def _process_cpu(self, process: Any) -> float:
        """CPU % since the previous call (the first call primes it and returns 0)."""
        busy = float(process.cpu_percent(interval=None))
        cpus = self._cpus or psutil.cpu_count() or 1
        return round(min(100.0, busy / cpus), 2)


def _memory_percent(_: Performance, process: Any) -> float:
    return round(float(process.memory_percent()), 2)


def _memory_mb(_: Performance, process: Any) -> float:
    return round(float(process.memory_info().rss) / 1048576, 1)


def _open_files(_: Performance, process: Any) -> int:
    count = getattr(process, "num_fds", None) or process.num_handles
    return int(count())


def _connections(_: Performance, process: Any) -> int:
    read = getattr(process, "net_connections", None) or process.connections  # psutil < 6
    return len(read(kind="inet"))


_PROCESS_READS: dict[str, Callable[[Performance, Any], Any]] = {
    "cpu_percent": lambda self, process: self._process_cpu(process),
    "memory_percent": _memory_percent,
    "memory_used_mb": _memory_mb,
    "active_threads": lambda _, process: int(process.num_threads()),
    "open_files": _open_files,
    "network_connections": _connections,
}
