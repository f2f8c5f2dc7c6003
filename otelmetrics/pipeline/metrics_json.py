"""``MetricsData`` to JSON and back: how a worker leaves its gauges for the others' scrapes.

The SDK writes JSON (``MetricsData.to_json``) but cannot read it; :func:`loads` rebuilds what
the exposition renders: sums, gauges and explicit histograms (exponential ones, which the text
format cannot carry, are left out).
"""

from __future__ import annotations

import json
from typing import Any

from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Gauge,
    Histogram,
    HistogramDataPoint,
    Metric,
    MetricsData,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
    Sum,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

__all__ = ["dumps", "loads"]


def dumps(data: MetricsData) -> bytes:
    return data.to_json(indent=None).encode()


def loads(raw: bytes) -> MetricsData:
    """The data :func:`dumps` wrote. Raises ValueError (or KeyError) for anything else."""
    found = json.loads(raw)
    return MetricsData([_resource_metrics(group) for group in found["resource_metrics"]])


def _resource_metrics(group: dict[str, Any]) -> ResourceMetrics:
    resource = group["resource"]
    scopes = [_scope_metrics(scope) for scope in group["scope_metrics"]]
    return ResourceMetrics(
        Resource(resource["attributes"], resource["schema_url"]), scopes, group["schema_url"]
    )


def _scope_metrics(found: dict[str, Any]) -> ScopeMetrics:
    scope = found["scope"]
    metrics = [metric for metric in map(_metric, found["metrics"]) if metric is not None]
    return ScopeMetrics(
        InstrumentationScope(scope["name"], scope["version"], scope["schema_url"]),
        metrics,
        found["schema_url"],
    )


def _metric(found: dict[str, Any]) -> Metric | None:
    data = found["data"]
    points = data["data_points"]
    if any("scale" in point for point in points):
        return None  # exponential: not in the text format
    if "is_monotonic" in data:
        kind: Any = Sum(
            [_number(p) for p in points],
            AggregationTemporality(data["aggregation_temporality"]),
            data["is_monotonic"],
        )
    elif "aggregation_temporality" in data:
        temporality = AggregationTemporality(data["aggregation_temporality"])
        kind = Histogram([_histogram(p) for p in points], temporality)
    else:
        kind = Gauge([_number(p) for p in points])
    return Metric(found["name"], found["description"], found["unit"], kind)


def _number(point: dict[str, Any]) -> NumberDataPoint:
    return NumberDataPoint(
        point["attributes"], point["start_time_unix_nano"], point["time_unix_nano"], point["value"]
    )


def _histogram(point: dict[str, Any]) -> HistogramDataPoint:
    return HistogramDataPoint(
        point["attributes"],
        point["start_time_unix_nano"],
        point["time_unix_nano"],
        point["count"],
        point["sum"],
        point["bucket_counts"],
        point["explicit_bounds"],
        point["min"],
        point["max"],
    )
