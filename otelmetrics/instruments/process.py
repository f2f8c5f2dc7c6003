"""Process (and optionally system) gauges from psutil, named by the semantic conventions.

The gauges read this process's :class:`~otelmetrics.instruments.resources.Resources` (shared
with the ``/performance`` view and the statistics) through a :class:`ProcessSampler`. All
gauges of one collection read one psutil pass, taken in the collecting process, so the numbers
are right after a fork. CPU utilization is the CPU time used since the previous collection,
divided by the wall time and the CPUs available to the process, one point per ``cpu.mode``
(``user``, ``system``) from the same reading, as the semantic conventions ask of
``process.cpu.utilization`` (a process reports either only points with a mode or only points
without); sum the modes for the total. ``system.cpu.utilization`` likewise has one point per
mode the platform reports, aggregated over the logical CPUs (no ``cpu.logical_number``: one
series per CPU would multiply the series by the core count). Usage::

    from otelmetrics.instruments import process
    process.register(meter, system=True)        # what the handle does
    ProcessSampler().sample().rss               # what the statistics read
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import psutil
from opentelemetry.metrics import CallbackOptions, Meter, Observation

from otelmetrics.instruments import gauges
from otelmetrics.instruments.resources import (
    RESOURCES,
    CpuShares,
    CpuUtilization,
    Reading,
    Resources,
)

__all__ = ["SAME_COLLECTION", "ProcessSampler", "Sample", "register"]

SAME_COLLECTION = 0.25  # seconds: callbacks this close together read one pass


@dataclass(frozen=True)
class Sample:
    """Every process gauge's value from one reading."""

    cpu_user: float
    cpu_system: float
    cpu_shares: CpuShares  # utilization by mode
    rss: int
    memory_utilization: float
    threads: int
    open_fds: int
    uptime: float

    @property
    def cpu_utilization(self) -> float:
        """CPU utilization over every mode, 0..1."""
        return self.cpu_shares.total


class ProcessSampler:
    """One consumer of a process's resources: a :class:`Sample` per shared psutil pass.

    Args:
        resources: Whose readings to take (default: this process's, shared).
        max_age: Seconds a reading may be reused (default: one collection's span).
    """

    def __init__(
        self, *, resources: Resources = RESOURCES, max_age: float = SAME_COLLECTION
    ) -> None:
        self.max_age = max_age
        self._resources = resources
        self._cpu = CpuUtilization()

    def sample(self) -> Sample:
        """This process's resources now (or at most ``max_age`` seconds ago).

        Raises:
            RuntimeError: psutil could not read a field (each failure is also logged once).
        """
        reading = self._resources.sample(self.max_age)
        return _complete(reading, self._cpu(reading))


def _complete(reading: Reading, cpu: CpuShares | None) -> Sample:
    times, rss, memory = reading.cpu_times, reading.rss, reading.memory_utilization
    threads, fds, uptime = reading.threads, reading.open_fds, reading.uptime
    if (
        times is None
        or cpu is None
        or rss is None
        or memory is None
        or threads is None
        or fds is None
        or uptime is None
    ):
        raise RuntimeError(f"psutil cannot read process {reading.pid}: {dict(reading.errors)}")
    return Sample(times[0], times[1], cpu, rss, memory, threads, fds, uptime)


def register(
    meter: Meter, *, system: bool = False, limit: int = 2000, resources: Resources = RESOURCES
) -> None:
    """Register the process gauges (and system CPU/memory when ``system``) on ``meter``.

    Args:
        meter: Where to register them.
        system: Also register ``system.cpu.utilization`` and the system memory gauges.
        limit: The cardinality limit of each gauge.
        resources: Whose readings the process gauges report (default: this process's).
    """
    sampler = ProcessSampler(resources=resources)

    def sampled(read: Callable[[Sample], Iterable[Observation]]) -> gauges.Callback:
        def callback(options: CallbackOptions) -> Iterator[Observation]:
            yield from read(sampler.sample())

        return callback

    for kind, name, unit, description, read in _PROCESS_GAUGES:
        gauges.register(meter, name, sampled(read), unit, description, limit=limit, kind=kind)
    if system:
        for kind, name, unit, description, read in _SYSTEM_GAUGES:
            gauges.register(meter, name, _system(read), unit, description, limit=limit, kind=kind)


def _system(read: Callable[[], Iterable[Observation]]) -> gauges.Callback:
    def callback(options: CallbackOptions) -> Iterator[Observation]:
        yield from read()

    return callback


def _cpu_time(s: Sample) -> Iterator[Observation]:
    yield Observation(s.cpu_user, {"cpu.mode": "user"})
    yield Observation(s.cpu_system, {"cpu.mode": "system"})


def _cpu_utilization(s: Sample) -> Iterator[Observation]:
    yield Observation(s.cpu_shares.user, {"cpu.mode": "user"})
    yield Observation(s.cpu_shares.system, {"cpu.mode": "system"})


_PROCESS_GAUGES: tuple[tuple[str, str, str, str, Any], ...] = (
    ("counter", "process.cpu.time", "s", "CPU seconds used by this process, by mode.", _cpu_time),
    (
        "gauge",
        "process.cpu.utilization",
        "1",
        "CPU used since the previous collection / (wall time x CPUs available), by mode, 0..1.",
        _cpu_utilization,
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


# psutil's name of a system CPU time -> its cpu.mode (irq and softirq are both ``interrupt``).
_SYSTEM_CPU_MODES = (
    ("user", "user"),
    ("system", "system"),
    ("nice", "nice"),
    ("idle", "idle"),
    ("iowait", "iowait"),
    ("irq", "interrupt"),
    ("softirq", "interrupt"),
    ("steal", "steal"),
)


def _system_cpu() -> Iterator[Observation]:
    """One point per cpu.mode the platform has: its share since the previous call, 0..1."""
    times = psutil.cpu_times_percent(interval=None)
    shares: dict[str, float] = {}
    for field, mode in _SYSTEM_CPU_MODES:
        if hasattr(times, field):
            shares[mode] = shares.get(mode, 0.0) + getattr(times, field) / 100.0
    for mode, share in shares.items():
        yield Observation(share, {"cpu.mode": mode})


def _system_memory() -> Iterator[Observation]:
    memory = psutil.virtual_memory()
    yield Observation(memory.used, {"system.memory.state": "used"})
    # The conventions' states are used and available (free and cached were removed): psutil's
    # available is what can be given to processes without swapping.
    yield Observation(memory.available, {"system.memory.state": "available"})


def _system_memory_utilization() -> Iterator[Observation]:
    yield Observation(psutil.virtual_memory().percent / 100.0)


_SYSTEM_GAUGES: tuple[tuple[str, str, str, str, Any], ...] = (
    (
        "gauge",
        "system.cpu.utilization",
        "1",
        "System-wide CPU utilization by mode (idle included), 0..1.",
        _system_cpu,
    ),
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
