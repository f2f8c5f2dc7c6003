"""Process: CPU, memory, threads, file descriptors and uptime per instance."""

from __future__ import annotations

from typing import Any

from tools import names
from tools.dashboards.common import (
    APP,
    INSTANCE_VARIABLE,
    RATE,
    SERVICE_VARIABLE,
    Panel,
    Spec,
    build,
    graph,
    legend,
    query,
    single,
)

UID = "otelmetrics-process"
BY = legend(names.SERVICE_NAME, names.INSTANCE_ID)
DESCRIPTION = (
    "The process behind each instance (otelmetrics' process gauges): CPU utilization and CPU "
    "time by mode, resident memory and its share of the host, threads, open file "
    "descriptors and uptime, one line per instance."
)


def cpu() -> Panel:
    return graph(
        "CPU utilization",
        "CPU used in every mode / (wall time x CPUs available to the process); ProcessCpuHigh "
        "fires at 80 % (warning) and 90 % (critical), 5 m average.",
        "percentunit",
        query(f"sum without ({names.CPU_MODE}) ({names.PROCESS_CPU_UTILIZATION}{{{APP}}})", BY),
    )


def cpu_time() -> Panel:
    return graph(
        "CPU time by mode",
        "CPU seconds per second, user and system.",
        "s",
        query(
            f"sum by ({names.INSTANCE_ID}, {names.CPU_MODE}) "
            f"(rate({names.PROCESS_CPU_TIME}{{{APP}}}{RATE}))",
            legend(names.INSTANCE_ID, names.CPU_MODE),
        ),
    )


def memory() -> Panel:
    return graph(
        "Memory (RSS)",
        "Resident set size per instance: a steady climb is a leak, a curve that follows the "
        "traffic is load.",
        "bytes",
        query(f"{names.PROCESS_MEMORY}{{{APP}}}", BY),
    )


def memory_share() -> Panel:
    return graph(
        "Memory share of the host",
        "RSS / physical memory; ProcessMemoryHigh fires above 80 % for 5 m.",
        "percentunit",
        query(f"{names.PROCESS_MEMORY_UTILIZATION}{{{APP}}}", BY),
    )


def threads() -> Panel:
    return graph(
        "Threads",
        "Threads per process.",
        "short",
        query(f"{names.PROCESS_THREADS}{{{APP}}}", BY),
    )


def fds() -> Panel:
    return graph(
        "Open file descriptors",
        "Sockets, files and pipes per process; compare with its ulimit.",
        "short",
        query(f"{names.PROCESS_FDS}{{{APP}}}", BY),
    )


def instances() -> Panel:
    return single(
        "Instances",
        "Instances exporting right now.",
        "short",
        query(f"count({names.PROCESS_MEMORY}{{{APP}}})"),
    )


def uptime() -> Panel:
    return single(
        "Lowest uptime",
        "Uptime of the most recently (re)started instance: a restart loop stays low.",
        "s",
        query(f"min({names.PROCESS_UPTIME}{{{APP}}})"),
    )


def rows() -> list[tuple[str, list[tuple[Panel, int, int]]]]:
    return [
        ("Instances", [(instances(), 12, 4), (uptime(), 12, 4)]),
        ("CPU", [(cpu(), 12, 8), (cpu_time(), 12, 8)]),
        ("Memory", [(memory(), 12, 8), (memory_share(), 12, 8)]),
        ("Threads and files", [(threads(), 12, 8), (fds(), 12, 8)]),
    ]


def board() -> Any:
    return build(UID, "Process", DESCRIPTION, [SERVICE_VARIABLE, INSTANCE_VARIABLE], rows())


SPEC = Spec(UID, "Process", DESCRIPTION, board)
