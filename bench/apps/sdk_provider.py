"""The OTel SDK pipeline of the ``otel`` variants: what the official instrumentors' docs set up.

A MeterProvider with a PeriodicExportingMetricReader around the OTLP/HTTP exporter, pointed at
``$BENCH_OTLP_ENDPOINT`` (the bench's local sink) every ``$BENCH_EXPORT_MS`` ms (default 5000).
"""

from __future__ import annotations

import os

from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource


def make_meter_provider(service: str) -> MeterProvider:
    exporter = OTLPMetricExporter(endpoint=os.environ["BENCH_OTLP_ENDPOINT"], timeout=5)
    reader = PeriodicExportingMetricReader(
        exporter, export_interval_millis=int(os.environ.get("BENCH_EXPORT_MS", "5000"))
    )
    return MeterProvider(
        metric_readers=[reader], resource=Resource.create({"service.name": service})
    )
