"""A process's resources from psutil: one pass shared by every consumer while it is young.

The process gauges and statistics (:mod:`~otelmetrics.instruments.process`) and the
``/performance`` view (:mod:`~otelmetrics.instruments.performance`) read one :class:`Resources`,
by default :data:`RESOURCES` (this process's). Each accepts a reading up to its own age, so
consumers that ask close together share one psutil pass::

    reading = RESOURCES.sample(max_age=0.25)           # a collection's gauges
    full = RESOURCES.sample(max_age=5.0, extras=True)  # the view: plus disk and connections
    cpu = CpuUtilization()                             # one per consumer
    cpu(full).total, cpu(full).user, full.rss, full.errors  # CPU by cpu.mode or all modes

Disk usage and connections cost more, so only a consumer that asks gets them (once per pass).
A field psutil cannot read (``/proc`` denied, a gone process) never raises: it is None,
``errors`` gives the reason, and its first failure is logged as a warning, later ones at debug.
After a fork the next reading is the child's, under a new lock.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, NamedTuple

import psutil

from otelmetrics.core.forks import ForkGuard
from otelmetrics.core.once import LogOnce

__all__ = ["RESOURCES", "CpuShares", "CpuUtilization", "Reading", "Resources", "cpu_utilization"]

_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reading:
    """One psutil pass over a process: None where unreadable, ``errors`` saying why.

    ``errors`` is keyed by field name, or ``process`` when the process itself was unreadable;
    ``extras`` says whether disk usage and connections were read.
    """

    pid: int
    at: float  # monotonic seconds: the reading's age and the CPU time's wall time
    wall: float  # epoch seconds
    cpus: int  # CPUs available to this process
    cpu_times: tuple[float, float] | None = None  # (user, system) seconds
    rss: int | None = None
    memory_total: int | None = None  # physical memory of the system
    threads: int | None = None
    open_fds: int | None = None  # file descriptors (handles on Windows)
    started: float | None = None  # epoch seconds
    network_connections: int | None = None  # inet sockets; extras only
    disk_usage_percent: float | None = None  # extras only
    extras: bool = False
    errors: Mapping[str, str] = field(default_factory=dict)

    @property
    def memory_utilization(self) -> float | None:
        """The resident set size as a share of physical memory, 0..1."""
        if self.rss is None or self.memory_total is None:
            return None
        return self.rss / self.memory_total

    @property
    def uptime(self) -> float | None:
        """Seconds from the process's start to this reading."""
        return None if self.started is None else max(0.0, self.wall - self.started)


class CpuShares(NamedTuple):
    """CPU utilization by ``cpu.mode``: each mode's CPU time / (wall time x CPUs), 0..1."""

    user: float
    system: float

    @property
    def total(self) -> float:
        """Both modes together: the process's CPU utilization."""
        return self.user + self.system


_IDLE = CpuShares(0.0, 0.0)


def cpu_utilization(previous: Reading | None, current: Reading) -> CpuShares | None:
    """CPU time used between two readings / (wall time between them x CPUs available), by mode.

    Args:
        previous: The reading this consumer measured last, or None for its first.
        current: The new reading.

    Returns:
        Each mode 0..1; zeros without a usable ``previous`` (none, another pid's, CPU time
        unreadable); None when ``current``'s CPU time is unreadable.
    """
    if current.cpu_times is None:
        return None
    if previous is None or previous.cpu_times is None or previous.pid != current.pid:
        return _IDLE
    elapsed = (current.at - previous.at) * current.cpus
    if elapsed <= 0:
        return _IDLE
    (user, system), (user_before, system_before) = current.cpu_times, previous.cpu_times
    return CpuShares(
        max(0.0, (user - user_before) / elapsed), max(0.0, (system - system_before) / elapsed)
    )


class CpuUtilization:
    """One consumer's CPU utilization: each new reading against the one it measured before.

    A gauge thus reports the CPU used since the previous collection however often others read
    in between. Lock-free: the state is one tuple, replaced whole; a reading already measured
    (or an older one) gets the last value.
    """

    __slots__ = ("_state",)

    def __init__(self) -> None:
        self._state: tuple[Reading, CpuShares | None] | None = None

    def __call__(self, reading: Reading) -> CpuShares | None:
        """The utilization for ``reading`` by mode (see :func:`cpu_utilization`)."""
        state = self._state
        if state is not None and state[0].pid == reading.pid and reading.at <= state[0].at:
            return state[1]
        value = cpu_utilization(state[0] if state else None, reading)
        self._state = (reading, value)
        return value


class Resources:
    """Readings of one process, each pass shared by those who ask while it is young; thread-safe.

    Args:
        pid: The process to read (default: the current one, followed across a fork).
        disk_path: The filesystem whose usage the extras report (default: the working directory).
        clock: Monotonic seconds, for ages and CPU utilization; tests inject one.
        wall_clock: Epoch seconds, for ``Reading.wall``; tests inject one.
    """

    def __init__(
        self,
        *,
        pid: int | None = None,
        disk_path: str | os.PathLike[str] = ".",
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.pid = pid
        self.disk_path = disk_path
        self._clock = clock
        self._wall_clock = wall_clock
        self._cpus = _available_cpus()
        self._lock = threading.Lock()
        self._fork = ForkGuard()
        self._process: psutil.Process | None = None
        self._latest: Reading | None = None
        self._log = LogOnce(_logger)

    def sample(self, max_age: float, *, extras: bool = False) -> Reading:
        """The latest reading if younger than ``max_age`` seconds, else a new one.

        Args:
            max_age: Seconds a reading may be reused, by this caller and any other.
            extras: Also read disk usage and connections (added to a young reading without).
        """
        if self._fork.forked():  # the parent's thread may have held the lock at the fork
            self._lock = threading.Lock()
            self._process = self._latest = None
        with self._lock:
            now = self._clock()
            latest = self._latest
            if latest is None or now - latest.at >= max_age:
                latest = self._take(now)
            if extras and not latest.extras:
                latest = self._add_extras(latest)
            self._latest = latest
            return latest

    def _target(self) -> int:
        return self.pid if self.pid is not None else os.getpid()

    def _take(self, now: float) -> Reading:
        """One pass: every process field inside one psutil ``oneshot``."""
        errors: dict[str, str] = {}
        values: dict[str, Any] = {}
        process = self._attach(errors)
        if process is not None:
            with process.oneshot():
                for name, read in _PROCESS_READS.items():
                    values[name] = self._read(name, partial(read, process), errors)
            values["memory_total"] = self._read("memory_total", _memory_total, errors)
        wall = self._wall_clock()
        return Reading(self._target(), now, wall, self._cpus, errors=errors, **values)

    def _add_extras(self, reading: Reading) -> Reading:
        errors = dict(reading.errors)
        connections = None
        if self._process is not None and "process" not in errors:
            read = partial(_connections, self._process)
            connections = self._read("network_connections", read, errors)
        disk = self._read("disk_usage_percent", self._disk_usage, errors)
        extras = {"network_connections": connections, "disk_usage_percent": disk}
        return replace(reading, **extras, extras=True, errors=errors)

    def _attach(self, errors: dict[str, str]) -> psutil.Process | None:
        """The psutil handle of the process (new after a fork), or None if it is gone."""
        target = self._target()
        if self._process is None:
            self._process = self._read("process", partial(psutil.Process, target), errors)
        elif self.pid is not None and not self._read("process", self._process.is_running, errors):
            errors.setdefault("process", f"process {target} is not running")
            return None
        return self._process

    def _read(self, name: str, read: Callable[[], Any], errors: dict[str, str]) -> Any:
        try:
            return read()
        except Exception as exc:  # psutil.Error, OSError, anything: reported, never raised
            errors[name] = f"{type(exc).__name__}: {exc}"[:200]
            self._log(name, "otelmetrics: psutil cannot read %s: %s", name, exc)
            return None

    def _disk_usage(self) -> float:
        return float(psutil.disk_usage(os.fspath(self.disk_path)).percent)


def _available_cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return psutil.cpu_count() or 1


def _cpu_times(process: psutil.Process) -> tuple[float, float]:
    times = process.cpu_times()
    return float(times.user), float(times.system)


def _open_fds(process: psutil.Process) -> int:
    count = getattr(process, "num_fds", None) or process.num_handles
    return int(count())


def _connections(process: psutil.Process) -> int:
    read = getattr(process, "net_connections", None) or process.connections  # psutil < 6
    return len(read(kind="inet"))


def _memory_total() -> int:
    total = int(psutil.virtual_memory().total)
    if total <= 0:
        raise ValueError(f"the system reports {total} bytes of physical memory")
    return total


_PROCESS_READS: dict[str, Callable[[psutil.Process], Any]] = {
    "cpu_times": _cpu_times,
    "rss": lambda process: int(process.memory_info().rss),
    "threads": lambda process: int(process.num_threads()),
    "open_fds": _open_fds,
    "started": lambda process: float(process.create_time()),
}

RESOURCES = Resources()
"""This process's resources, shared by every consumer that is not handed another."""
