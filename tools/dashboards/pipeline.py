"""Pipeline health: the collectors' received, refused, exported and failed points, queues, memory.

Failure counters (send failed, enqueue failed, memory-limiter refused) exist only after the
first failure; each failure query falls back to its sibling counter times zero, so a healthy
pipeline shows a 0 per component instead of "No data".
"""

from __future__ import annotations

from typing import Any

from tools.dashboards.common import Panel, Spec, build, graph, query, single, variable

UID = "otelmetrics-pipeline"
SEL = 'job="otel-collector", instance=~"$instance"'
RATE = "[$__rate_interval]"
DESCRIPTION = (
    "The OpenTelemetry Collectors between the apps and Prometheus, from their own metrics: "
    "which are up, points received and refused per receiver, exported and failed per "
    "exporter, sending-queue fill, memory against the memory limiter, and its refusals."
)

COLLECTOR_VARIABLE = variable(
    "instance", "Collector", 'label_values(up{job="otel-collector"}, instance)'
)


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
        query(f"sum(up{{{SEL}}})"),
    )


def received() -> Panel:
    return graph(
        "Received / refused",
        "Points per second accepted and refused by each receiver (refused: the SDKs retry).",
        "short",
        query(
            f"sum by (instance, receiver) "
            f"(rate(otelcol_receiver_accepted_metric_points{{{SEL}}}{RATE}))",
            "accepted {{instance}} {{receiver}}",
        ),
        query(
            _rate_or_zero(
                "otelcol_receiver_refused_metric_points",
                "otelcol_receiver_accepted_metric_points",
                "instance, receiver",
            ),
            "refused {{instance}} {{receiver}}",
        ),
    )


def exported() -> Panel:
    return graph(
        "Exported / failed",
        "Points per second sent, failed (retried) and dropped (queue full) per exporter.",
        "short",
        query(
            f"sum by (instance, exporter) "
            f"(rate(otelcol_exporter_sent_metric_points{{{SEL}}}{RATE}))",
            "sent {{instance}} {{exporter}}",
        ),
        query(
            _rate_or_zero(
                "otelcol_exporter_send_failed_metric_points",
                "otelcol_exporter_sent_metric_points",
                "instance, exporter",
            ),
            "failed {{instance}} {{exporter}}",
        ),
        query(
            _rate_or_zero(
                "otelcol_exporter_enqueue_failed_metric_points",
                "otelcol_exporter_sent_metric_points",
                "instance, exporter",
            ),
            "dropped {{instance}} {{exporter}}",
        ),
    )


def queue() -> Panel:
    return graph(
        "Queue fill",
        "Sending queue size / capacity per exporter (the warning is at 80 %).",
        "percentunit",
        query(
            f"max by (instance, exporter) (otelcol_exporter_queue_size{{{SEL}}}\n"
            f"  / otelcol_exporter_queue_capacity{{{SEL}}})",
            "{{instance}} {{exporter}}",
        ),
    )


def memory() -> Panel:
    return graph(
        "Collector memory",
        "RSS and Go heap; the memory limiter refuses data above limit_mib - spike_limit_mib.",
        "bytes",
        query(f"otelcol_process_memory_rss{{{SEL}}}", "RSS {{instance}}"),
        query(f"otelcol_process_runtime_heap_alloc_bytes{{{SEL}}}", "heap {{instance}}"),
    )


def limiter() -> Panel:
    return graph(
        "Memory limiter",
        "Points per second the memory limiter let through and refused.",
        "short",
        query(
            f"sum by (instance) "
            f"(rate(otelcol_processor_memory_limiter_accepted_metric_points{{{SEL}}}{RATE}))",
            "accepted {{instance}}",
        ),
        query(
            _rate_or_zero(
                "otelcol_processor_memory_limiter_refused_metric_points",
                "otelcol_processor_memory_limiter_accepted_metric_points",
                "instance",
            ),
            "refused {{instance}}",
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
        alerts_selector=', alertname=~"OtelCollector.*"',
    )


SPEC = Spec(UID, "Pipeline health", DESCRIPTION, board)
