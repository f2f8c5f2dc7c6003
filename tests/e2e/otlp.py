"""Hand-built OTLP metric requests: exact values, timestamps and resources.

The app tests go through otelmetrics and the SDK; the topology, fault and load tests need to
know exactly which data points were sent, so they build ExportMetricsServiceRequest messages
themselves and POST them to a collector's OTLP/HTTP receiver.
"""

from __future__ import annotations

import time

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.metrics.v1 import metrics_pb2
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from tests.e2e.harness import http_post

CUMULATIVE = metrics_pb2.AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE
DELTA = metrics_pb2.AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA


def _attributes(attributes: dict[str, str]) -> list[KeyValue]:
    return [KeyValue(key=k, value=AnyValue(string_value=v)) for k, v in attributes.items()]


def sum_request(
    *,
    service_name: str,
    instance_id: str,
    metric: str,
    value: float,
    start_ns: int,
    time_ns: int,
    series: int = 1,
    temporality: metrics_pb2.AggregationTemporality.ValueType = CUMULATIVE,
) -> ExportMetricsServiceRequest:
    """One resource with one monotonic sum ``metric`` (unit "1"; cumulative unless
    ``temporality`` says DELTA), ``series`` data points (attribute ``series=0..n-1``), each
    with ``value`` at ``time_ns``."""
    points = [
        metrics_pb2.NumberDataPoint(
            attributes=_attributes({"series": str(i)}),
            start_time_unix_nano=start_ns,
            time_unix_nano=time_ns,
            as_double=value,
        )
        for i in range(series)
    ]
    metric_pb = metrics_pb2.Metric(
        name=metric,
        unit="1",
        sum=metrics_pb2.Sum(
            data_points=points, aggregation_temporality=temporality, is_monotonic=True
        ),
    )
    return ExportMetricsServiceRequest(
        resource_metrics=[
            metrics_pb2.ResourceMetrics(
                resource=Resource(
                    attributes=_attributes(
                        {"service.name": service_name, "service.instance.id": instance_id}
                    )
                ),
                scope_metrics=[
                    metrics_pb2.ScopeMetrics(
                        scope=InstrumentationScope(name="otelmetrics.tests.e2e"),
                        metrics=[metric_pb],
                    )
                ],
            )
        ]
    )


def post(endpoint: str, request: ExportMetricsServiceRequest, timeout: float = 10.0) -> int:
    """POST to ``endpoint``/v1/metrics; return the HTTP status (200 = accepted)."""
    status, _ = http_post(
        f"{endpoint}/v1/metrics",
        request.SerializeToString(),
        "application/x-protobuf",
        timeout=timeout,
    )
    return status


def now_ns() -> int:
    return time.time_ns()
