"""Reader factories: one small function per exporter choice.

Each takes :class:`~otelmetrics.settings.Settings` and returns an SDK ``MetricReader``. Every
argument is passed explicitly, so the SDK's own environment lookups never override a kwarg.
The Prometheus reader is our own pull reader (:class:`ScrapeReader`): a scrape collects now,
and :mod:`otelmetrics.pipeline.exposition` renders what it collected.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from opentelemetry.sdk.metrics import (
    Counter,
    Histogram,
    ObservableCounter,
    ObservableGauge,
    ObservableUpDownCounter,
    UpDownCounter,
)
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    ConsoleMetricExporter,
    MetricExporter,
    MetricReader,
    MetricsData,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.metrics.view import (
    Aggregation,
    ExplicitBucketHistogramAggregation,
    ExponentialBucketHistogramAggregation,
)
from opentelemetry.sdk.resources import Resource

from otelmetrics.pipeline.lean_exposition import KeyedTable, LeanGroup, LeanText
from otelmetrics.settings import Settings

_DELTA = AggregationTemporality.DELTA
_CUMULATIVE = AggregationTemporality.CUMULATIVE


def temporality(settings: Settings) -> dict[type, AggregationTemporality]:
    """OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE as the SDK's per-instrument map."""
    delta_for: tuple[type, ...] = ()
    if settings.temporality == "delta":
        delta_for = (Counter, Histogram, ObservableCounter)
    elif settings.temporality == "lowmemory":
        delta_for = (Counter, Histogram)
    kinds = (Counter, UpDownCounter, Histogram, ObservableCounter, ObservableUpDownCounter)
    mapping: dict[type, AggregationTemporality] = {
        kind: _DELTA if kind in delta_for else _CUMULATIVE for kind in kinds
    }
    mapping[ObservableGauge] = _CUMULATIVE
    return mapping


def histogram_aggregation(settings: Settings) -> dict[type, Aggregation]:
    if settings.histogram_aggregation == "base2_exponential_bucket_histogram":
        return {Histogram: ExponentialBucketHistogramAggregation()}
    return {Histogram: ExplicitBucketHistogramAggregation()}


def otlp_exporter(settings: Settings) -> MetricExporter:
    """The OTLP exporter for the configured protocol (gRPC or HTTP/protobuf)."""
    headers = dict(settings.otlp_headers) or None
    timeout = settings.otlp_timeout
    preferred_temporality = temporality(settings)
    preferred_aggregation = histogram_aggregation(settings)
    if settings.otlp_protocol == "grpc":
        from grpc import Compression
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
            OTLPMetricExporter as GrpcExporter,
        )

        compression = {"gzip": Compression.Gzip, "deflate": Compression.Deflate}
        return GrpcExporter(
            endpoint=settings.otlp_metrics_endpoint
            or settings.otlp_endpoint
            or "http://localhost:4317",
            compression=compression.get(settings.otlp_compression, Compression.NoCompression),
            headers=headers,
            timeout=timeout,
            preferred_temporality=preferred_temporality,
            preferred_aggregation=preferred_aggregation,
        )
    from opentelemetry.exporter.otlp.proto.http import Compression as HttpCompression
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
        OTLPMetricExporter as HttpExporter,
    )

    return HttpExporter(
        endpoint=otlp_http_url(settings),
        compression=HttpCompression(settings.otlp_compression),
        headers=headers,
        timeout=timeout,
        preferred_temporality=preferred_temporality,
        preferred_aggregation=preferred_aggregation,
    )


def otlp_http_url(settings: Settings) -> str:
    """The generic endpoint gets ``/v1/metrics`` appended; a metrics-specific one is as given."""
    if settings.otlp_metrics_endpoint:
        return settings.otlp_metrics_endpoint
    return (settings.otlp_endpoint or "http://localhost:4318").rstrip("/") + "/v1/metrics"


def periodic(exporter: MetricExporter, settings: Settings) -> MetricReader:
    return PeriodicExportingMetricReader(
        exporter,
        export_interval_millis=settings.export_interval * 1000,
        export_timeout_millis=settings.export_timeout * 1000,
    )


def console_reader(settings: Settings) -> MetricReader:
    return periodic(ConsoleMetricExporter(out=sys.stdout), settings)  # today's stdout


class Scrape(NamedTuple):
    """What a scrape renders: the SDK's data, and the lean series read from their tables."""

    data: MetricsData | None
    lean: tuple[LeanGroup, ...] = ()


# A pre-fork server's scrape process: (this worker's data, openmetrics, gzip, seconds to wait)
# to the server's rendered body, or None when it cannot (the worker renders it then).
RenderElsewhere = Callable[[MetricsData | None, bool, bool, float], bytes | None]


class ScrapeReader(MetricReader):
    """A pull reader: :meth:`scrape` collects cumulative data now and returns it.

    Each handle has its own, so a scrape shows only that handle's data. Scrapes from several
    threads take turns (one collection at a time). The lean tables are not in what it
    collects: ``lean`` gives them with their resource, rendered straight from the tables
    (:mod:`otelmetrics.pipeline.lean_exposition`); their series' label texts are all that is
    kept between scrapes.
    """

    def __init__(self, lean: Callable[[], tuple[Sequence[KeyedTable], Resource]] | None) -> None:
        """``lean``: this process's lean tables and their resource, when a scrape asks."""
        super().__init__(
            preferred_temporality=dict.fromkeys(
                (
                    Counter,
                    UpDownCounter,
                    Histogram,
                    ObservableCounter,
                    ObservableUpDownCounter,
                    ObservableGauge,
                ),
                _CUMULATIVE,
            ),
            preferred_aggregation={Histogram: ExplicitBucketHistogramAggregation()},
        )
        self._lock = threading.Lock()
        self._collected: MetricsData | None = None
        self.lean = lean
        self._text = LeanText()  # their label texts, kept between scrapes
        # Under a pre-fork server: this worker's data in, the server's out (multiprocess.py),
        # and the server's body rendered by another process (None: render it here).
        self.combine: Callable[[MetricsData | None], Scrape] | None = None
        self.elsewhere: RenderElsewhere | None = None

    def scrape(self) -> Scrape:
        """What ``/metrics`` shows now (nothing before any series exists)."""
        return self.combined(self.collect_own())

    def combined(self, collected: MetricsData | None) -> Scrape:
        """What ``/metrics`` shows of ``collected`` (:meth:`collect_own`) with the lean series."""
        combine = self.combine
        return Scrape(collected, self.own_lean()) if combine is None else combine(collected)

    def own_lean(self) -> tuple[LeanGroup, ...]:
        """This process's lean tables, as a scrape renders them."""
        return () if self.lean is None else (self._text.group(*self.lean()),)

    def collect_own(self) -> MetricsData | None:
        """Everything this process's provider holds now."""
        with self._lock:
            self._collected = None
            self.collect()
            collected, self._collected = self._collected, None
        return collected

    def _receive_metrics(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> None:
        self._collected = metrics_data

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        pass


def prometheus_reader(
    lean: Callable[[], tuple[Sequence[KeyedTable], Resource]] | None = None,
) -> ScrapeReader:
    """The reader behind ``/metrics`` and the own-port server; ``lean`` gives the lean tables
    and their resource (they are rendered from the tables, not collected)."""
    return ScrapeReader(lean)
