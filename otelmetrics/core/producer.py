"""Hand the lean store to the SDK's readers as standard OpenTelemetry metric data.

Every reader of a handle's MeterProvider gets a :class:`LeanProducer`. At each collection the
SDK's own data is merged with the lean series (one extra scope, ``otelmetrics``) and stamped
with the handle's current resource, so an OTLP exporter, the Prometheus reader and an
in-memory reader all see one ordinary ``MetricsData``. The Python SDK has no public producer
hook, so this wraps the reader's collect callback; that is the one private SDK seam we use.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from time import time_ns
from typing import Any, Protocol

from opentelemetry.sdk.metrics import Exemplar
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    ExponentialHistogram,
    ExponentialHistogramDataPoint,
    Histogram,
    HistogramDataPoint,
    Metric,
    MetricReader,
    MetricsData,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
    Sum,
)
from opentelemetry.sdk.metrics.export import Buckets as PointBuckets
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from otelmetrics.core.aggregators import ExplicitSnapshot, ExpSnapshot
from otelmetrics.core.store import InstrumentSpec


class Table(Protocol):
    """What a producer reads: a :class:`SeriesTable`, or several workers' summed
    (:class:`otelmetrics.core.merge.MergedTable`)."""

    specs: tuple[InstrumentSpec, ...]

    def snapshot(self) -> list[tuple[dict[str, Any], tuple[Any, ...]]]: ...


CUMULATIVE = AggregationTemporality.CUMULATIVE
DELTA = AggregationTemporality.DELTA


class LeanProducer:
    """Builds OTel ``Metric``s from lean tables for one reader, cumulative or delta."""

    def __init__(
        self,
        tables: Callable[[], Sequence[Table]],
        *,
        scope: InstrumentationScope,
        start_ns: int,
        delta: bool = False,
        exponential: bool = False,
    ) -> None:
        self._tables = tables
        self._exponential = exponential
        self._scope = scope
        self._start_ns = start_ns
        self._delta = delta
        self._previous: dict[tuple[str, frozenset[Any]], tuple[int, Any]] = {}

    def scope_metrics(self) -> ScopeMetrics | None:
        now = time_ns()
        metrics = [
            metric
            for table in self._tables()
            for metric in self._table_metrics(table, now)
            if metric.data.data_points
        ]
        return ScopeMetrics(self._scope, metrics, "") if metrics else None

    def _table_metrics(self, table: Table, now: int) -> list[Metric]:
        rows = table.snapshot()
        return [
            Metric(spec.name, spec.description, spec.unit, self._data(spec, i, rows, now))
            for i, spec in enumerate(table.specs)
        ]

    def _data(self, spec: InstrumentSpec, i: int, rows: list[Any], now: int) -> Any:
        delta = self._delta and spec.kind != "updowncounter"
        points = []
        for attributes, snapshots in rows:
            value = snapshots[i]
            if isinstance(value, tuple) and not hasattr(value, "_fields"):  # DualBuckets
                value = value[1] if self._exponential else value[0]
            if _empty(value):
                continue
            start, value = (
                self._since(spec.name, attributes, value, now)
                if delta
                else (
                    self._start_ns,
                    value,
                )
            )
            if value is not None:
                points.append(_point(attributes, start, now, value, delta))
        temporality = DELTA if delta else CUMULATIVE
        if spec.kind != "histogram":
            return Sum(points, temporality, is_monotonic=spec.kind == "counter")
        if points and isinstance(points[0], ExponentialHistogramDataPoint):
            return ExponentialHistogram(points, temporality)
        return Histogram(points, temporality)

    def reset(self, start_ns: int) -> None:
        """Start over from ``start_ns`` (after a fork: the series start from zero)."""
        self._start_ns = start_ns
        self._previous.clear()

    def _since(
        self, name: str, attributes: dict[str, Any], value: Any, now: int
    ) -> tuple[int, Any]:
        key = (name, frozenset(attributes.items()))
        start, previous = self._previous.get(key, (self._start_ns, None))
        self._previous[key] = (now, value)
        if previous is None:
            return start, value
        diff = _subtract(value, previous)
        return start, diff


def _empty(value: Any) -> bool:
    return isinstance(value, ExplicitSnapshot | ExpSnapshot) and value.n == 0


def _subtract(value: Any, previous: Any) -> Any:
    """The part of a cumulative snapshot recorded since ``previous`` (min/max are unknown)."""
    if isinstance(value, ExplicitSnapshot):
        counts = tuple(a - b for a, b in zip(value.counts, previous.counts, strict=True))
        return value._replace(
            exemplars=(),
            counts=counts,
            total=value.total - previous.total,
            n=value.n - previous.n,
            min=None,
            max=None,
        )
    if isinstance(value, ExpSnapshot):
        return _subtract_exponential(value, previous)
    return value - previous


def _subtract_exponential(value: ExpSnapshot, previous: ExpSnapshot) -> ExpSnapshot:
    shift = previous.scale - value.scale  # scales only go down, so shift >= 0
    return value._replace(
        zero_count=value.zero_count - previous.zero_count,
        positive=_subtract_range(value.positive, previous.positive, shift),
        negative=_subtract_range(value.negative, previous.negative, shift),
        total=value.total - previous.total,
        n=value.n - previous.n,
        min=None,
        max=None,
    )


def _subtract_range(
    current: tuple[int, tuple[int, ...]], previous: tuple[int, tuple[int, ...]], shift: int
) -> tuple[int, tuple[int, ...]]:
    offset, counts = current
    diff = list(counts)
    for index, n in enumerate(previous[1], previous[0]):
        diff[(index >> shift) - offset] -= n
    return offset, tuple(diff)


def _point(attributes: dict[str, Any], start: int, now: int, value: Any, delta: bool) -> Any:
    common: dict[str, Any] = {
        "attributes": attributes,
        "start_time_unix_nano": start,
        "time_unix_nano": now,
    }
    if not isinstance(value, ExplicitSnapshot | ExpSnapshot):
        return NumberDataPoint(**common, value=value)
    # min/max are None in delta points (the interval's extremes are unknown); the OTLP encoder
    # then leaves those optional fields unset.
    common.update(count=value.n, sum=value.total, min=value.min, max=value.max)
    if isinstance(value, ExplicitSnapshot):
        exemplars = [
            Exemplar({}, v, at, span_id, trace_id) for v, at, trace_id, span_id in value.exemplars
        ]
        return HistogramDataPoint(
            **common, bucket_counts=value.counts, explicit_bounds=value.bounds, exemplars=exemplars
        )
    return ExponentialHistogramDataPoint(
        **common,
        scale=value.scale,
        zero_count=value.zero_count,
        positive=PointBuckets(*value.positive),
        negative=PointBuckets(*value.negative),
        flags=0,
    )


def attach(reader: MetricReader, producer: LeanProducer, resource: Callable[[], Resource]) -> None:
    """Make ``reader``'s collections include ``producer``'s metrics and the current resource.

    Call after the reader has been registered on its MeterProvider.
    """
    collect = reader._collect
    if collect is None:
        raise ValueError("attach() needs a reader registered on a MeterProvider")

    def collect_with_lean_metrics(reader: MetricReader, timeout_millis: float = 10_000) -> Any:
        # The SDK's annotation of this private callback is stale: it returns MetricsData.
        data: Any = collect(reader, timeout_millis=timeout_millis)  # type: ignore[call-arg]
        return merge(data, producer, resource())

    reader._collect = collect_with_lean_metrics


def merge(
    data: MetricsData | None, producer: LeanProducer, resource: Resource
) -> MetricsData | None:
    """``data`` plus the producer's scope, every resource replaced by ``resource``."""
    lean = producer.scope_metrics()
    groups = list(data.resource_metrics) if data is not None else []
    if lean is not None:
        if groups:
            groups[0] = dataclasses.replace(
                groups[0], scope_metrics=_join(groups[0].scope_metrics, lean)
            )
        else:
            groups.append(ResourceMetrics(resource, [lean], ""))
    if not groups:
        return None
    return MetricsData([dataclasses.replace(group, resource=resource) for group in groups])


def _join(scopes: Sequence[ScopeMetrics], lean: ScopeMetrics) -> list[ScopeMetrics]:
    """Add ``lean`` to the scope of the same name (encoders keep one entry per scope)."""
    joined = list(scopes)
    for i, scope in enumerate(joined):
        if scope.scope == lean.scope:
            joined[i] = dataclasses.replace(scope, metrics=[*scope.metrics, *lean.metrics])
            return joined
    return [*joined, lean]
