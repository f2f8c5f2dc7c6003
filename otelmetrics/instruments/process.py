"""Process (and optionally system) gauges from psutil, named by the semantic conventions.

All gauges of one collection share one psutil sample, taken at collection time in the
collecting process, so the numbers are right after a fork. CPU utilization is the CPU time used
since the previous sample, divided by wall time and the CPUs available to the process.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from time import monotonic, time
from typing import Any

import psutil
from opentelemetry.metrics import CallbackOptions, Meter, Observation

from otelmetrics.instruments import gauges

_SAME_COLLECTION = 0.25  # seconds: callbacks this close together read one sample


@dataclass(frozen=True)
class Sample:
    cpu_user: float
    cpu_system: float
    cpu_utilization: float
    rss: int
    memory_utilization: float
    threads: int
    open_fds: int
    uptime: float


class ProcessSampler:
    """Takes at most one psutil sample per collection, for the current pid."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid = -1
        self._process: psutil.Process | None = None
        self._taken = -1.0
        self._sample: Sample | None = None
        self._cpu_seen = (0.0, 0.0)  # (cpu seconds, monotonic time) of the previous sample
        self._cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1

    def sample(self) -> Sample:
        if self._forked():  # the parent's collector thread may have held the lock at fork
            self._lock = threading.Lock()
        with self._lock:
            now = monotonic()
            if self._sample is None or now - self._taken > _SAME_COLLECTION or self._forked():
                self._sample = self._take(now)
                self._taken = now
            return self._sample

    def _forked(self) -> bool:
        return self._pid != os.getpid()

    def _take(self, now: float) -> Sample:
        if self._forked():
            self._pid, self._process = os.getpid(), psutil.Process()
            self._cpu_seen = (0.0, 0.0)
        process = self._process
        assert process is not None
        with process.oneshot():
            times = process.cpu_times()
            rss = process.memory_info().rss
            threads = process.num_threads()
            fds = process.num_fds() if hasattr(process, "num_fds") else 0
            started = process.create_time()
        used = times.user + times.system
        last_used, last_at = self._cpu_seen
        utilization = (used - last_used) / ((now - last_at) * self._cpus) if last_at else 0.0
        self._cpu_seen = (used, now)
        total = psutil.virtual_memory().total
        uptime = max(0.0, time() - started)
        return Sample(
            times.user, times.system, max(0.0, utilization), rss, rss / total, threads, fds, uptime
        )


def register(meter: Meter, *, system: bool = False, limit: int = 2000) -> None:
    """Register the process gauges (and system CPU/memory when ``system``) on ``meter``."""
    sampler = ProcessSampler()

    def sampled(read: object) -> gauges.Callback:
        def callback(options: CallbackOptions) -> Iterator[Observation]:
            yield from read(sampler.sample())  # type: ignore[operator]

        return callback

    for kind, name, unit, description, read in _PROCESS_GAUGES:
        gauges.register(meter, name, sampled(read), unit, description, limit=limit, kind=kind)
    if system:
        for kind, name, unit, description, read in _SYSTEM_GAUGES:
            gauges.register(meter, name, _system(read), unit, description, limit=limit, kind=kind)


def _system(read: object) -> gauges.Callback:
    def callback(options: CallbackOptions) -> Iterator[Observation]:
        yield from read()  # type: ignore[operator]

    return callback


def _cpu_time(s: Sample) -> Iterator[Observation]:
    yield Observation(s.cpu_user, {"cpu.mode": "user"})
    yield Observation(s.cpu_system, {"cpu.mode": "system"})


_PROCESS_GAUGES: tuple[tuple[str, str, str, str, Any], ...] = (
    ("counter", "process.cpu.time", "s", "CPU seconds used by this process, by mode.", _cpu_time),
    (
        "gauge",
        "process.cpu.utilization",
        "1",
        "CPU used since the previous collection / (wall time x CPUs available), 0..1.",
        lambda s: [Observation(s.cpu_utilization)],
    ),
    (
        "updowncounter",
        "process.memory.usage",
        "By",
        "Resident set size (RSS) of this process.",
        lambda s: [Observation(s.rss)],
    ),
    (
        "gauge",
        "process.memory.utilization",
        "1",
        "RSS as a share of the system's physical memory, 0..1.",
        lambda s: [Observation(s.memory_utilization)],
    ),
    (
        "updowncounter",
        "process.thread.count",
        "{thread}",
        "Threads of this process.",
        lambda s: [Observation(s.threads)],
    ),
    (
        "updowncounter",
        "process.unix.file_descriptor.count",
        "{file_descriptor}",
        "Open file descriptors of this process.",
        lambda s: [Observation(s.open_fds)],
    ),
    (
        "gauge",
        "process.uptime",
        "s",
        "Seconds since this process started.",
        lambda s: [Observation(s.uptime)],
    ),
)


def _system_cpu() -> Iterator[Observation]:
    yield Observation(psutil.cpu_percent(interval=None) / 100.0)


def _system_memory() -> Iterator[Observation]:
    memory = psutil.virtual_memory()
    yield Observation(memory.used, {"system.memory.state": "used"})
    yield Observation(memory.available, {"system.memory.state": "free"})


def _system_memory_utilization() -> Iterator[Observation]:
    yield Observation(psutil.virtual_memory().percent / 100.0)


_SYSTEM_GAUGES: tuple[tuple[str, str, str, str, Any], ...] = (
    ("gauge", "system.cpu.utilization", "1", "System-wide CPU utilization, 0..1.", _system_cpu),
    (
        "updowncounter",
        "system.memory.usage",
        "By",
        "System memory in use and available.",
        _system_memory,
    ),
    (
        "gauge",
        "system.memory.utilization",
        "1",
        "Share of system memory in use, 0..1.",
        _system_memory_utilization,
    ),
)
