"""Pipeline health: the collectors' received, refused, exported and failed points, queues, memory.

Failure counters (send failed, enqueue failed, memory-limiter refused) exist only after the
first failure; each failure query falls back to its sibling counter times zero, so a healthy
pipeline shows a 0 per component instead of "No data".
"""

from __future__ import annotations

from typing import Any

from tools import names
from tools.dashboards.common import RATE, Panel, Spec, build, graph, legend, query, single, variable

UID = "otelmetrics-pipeline"
SEL = f'{names.JOB}="{names.COLLECTOR_JOB}", {names.INSTANCE}=~"$instance"'
DESCRIPTION = (
    "The OpenTelemetry Collectors between the apps and Prometheus, from their own metrics: "
    "which are up, points received and refused per receiver, exported and failed per "
    "exporter, sending-queue fill, memory against the memory limiter, and its refusals."
)

COLLECTOR_VARIABLE = variable(
    "instance",
    "Collector",
    f'label_values({names.UP}{{{names.JOB}="{names.COLLECTOR_JOB}"}}, {names.INSTANCE})',
)
BY_RECEIVER = f"{names.INSTANCE}, {names.RECEIVER}"
BY_EXPORTER = f"{names.INSTANCE}, {names.EXPORTER}"


def _rate_or_zero(metric: str, sibling: str, by: str) -> str:
    return (
        f"sum by ({by}) (rate({metric}{{{SEL}}}{RATE}))\n"
        f"  or sum by ({by}) (rate({sibling}{{{SEL}}}{RATE})) * 0"
    )


def up() -> Panel:
    return single(
        "Collectors up",
        "Collectors Prometheus scrapes successfully (OtelCollectorDown fires after 1 m down).",
        "short",
        query(f"sum({names.UP}{{{SEL}}})"),
    )


def received() -> Panel:
    return graph(
        "Received / refused",
        "Points per second accepted and refused by each receiver (refused: the SDKs retry).",
        "short",
        query(
            f"sum by ({BY_RECEIVER}) (rate({names.OTELCOL_ACCEPTED}{{{SEL}}}{RATE}))",
            f"accepted {legend(names.INSTANCE, names.RECEIVER)}",
        ),
        query(
            _rate_or_zero(names.OTELCOL_REFUSED, names.OTELCOL_ACCEPTED, BY_RECEIVER),
            f"refused {legend(names.INSTANCE, names.RECEIVER)}",
        ),
    )


def exported() -> Panel:
    return graph(
        "Exported / failed",
        "Points per second sent, failed (retried) and dropped (queue full) per exporter.",
        "short",
        query(
            f"sum by ({BY_EXPORTER}) (rate({names.OTELCOL_SENT}{{{SEL}}}{RATE}))",
            f"sent {legend(names.INSTANCE, names.EXPORTER)}",
        ),
        query(
            _rate_or_zero(names.OTELCOL_SEND_FAILED, names.OTELCOL_SENT, BY_EXPORTER),
            f"failed {legend(names.INSTANCE, names.EXPORTER)}",
        ),
        query(
            _rate_or_zero(names.OTELCOL_ENQUEUE_FAILED, names.OTELCOL_SENT, BY_EXPORTER),
            f"dropped {legend(names.INSTANCE, names.EXPORTER)}",
        ),
    )


def queue() -> Panel:
    return graph(
        "Queue fill",
        "Sending queue size / capacity per exporter (the warning is at 80 %).",
        "percentunit",
        query(
            f"max by ({BY_EXPORTER}) ({names.OTELCOL_QUEUE_SIZE}{{{SEL}}}\n"
            f"  / {names.OTELCOL_QUEUE_CAPACITY}{{{SEL}}})",
            legend(names.INSTANCE, names.EXPORTER),
        ),
    )


def memory() -> Panel:
    return graph(
        "Collector memory",
        "RSS and Go heap; the memory limiter refuses data above limit_mib - spike_limit_mib.",
        "bytes",
        query(f"{names.OTELCOL_RSS}{{{SEL}}}", f"RSS {legend(names.INSTANCE)}"),
        query(f"{names.OTELCOL_HEAP}{{{SEL}}}", f"heap {legend(names.INSTANCE)}"),
    )


def limiter() -> Panel:
    return graph(
        "Memory limiter",
        "Points per second the memory limiter let through and refused.",
        "short",
        query(
            f"sum by ({names.INSTANCE}) (rate({names.OTELCOL_LIMITER_ACCEPTED}{{{SEL}}}{RATE}))",
            f"accepted {legend(names.INSTANCE)}",
        ),
        query(
            _rate_or_zero(
                names.OTELCOL_LIMITER_REFUSED, names.OTELCOL_LIMITER_ACCEPTED, names.INSTANCE
            ),
            f"refused {legend(names.INSTANCE)}",
        ),
    )


def rows() -> list[tuple[str, list[tuple[Panel, int, int]]]]:
    return [
        ("Collectors", [(up(), 24, 4)]),
        ("Data flow", [(received(), 12, 8), (exported(), 12, 8)]),
        ("Back pressure", [(queue(), 8, 8), (memory(), 8, 8), (limiter(), 8, 8)]),
    ]


def board() -> Any:
    return build(
        UID,
        "Pipeline health",
        DESCRIPTION,
        [COLLECTOR_VARIABLE],
        rows(),
        alerts_selector=f', {names.ALERTNAME}=~"OtelCollector.*"',
    )


SPEC = Spec(UID, "Pipeline health", DESCRIPTION, board)
