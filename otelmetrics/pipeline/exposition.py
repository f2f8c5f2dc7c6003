"""Prometheus text and OpenMetrics from collected OpenTelemetry ``MetricsData``.

What ``/metrics`` serves is what Prometheus's OTLP receiver stores for the same data with
prometheus/prometheus.yml, so one set of rules and dashboards reads both paths:

- names and label names from :mod:`otelmetrics.pipeline.naming` (``_total``, unit words,
  ``_ratio``);
- every series carries the promoted resource attributes (``service_name``,
  ``service_instance_id``, ...) unless a data point attribute of the same label name is set;
- one ``target_info`` per resource with all its attributes as labels;
- histograms as classic ``_bucket`` (cumulative, ``le``), ``_count`` and ``_sum`` series;
- no ``otel_scope_*`` labels (the receiver's ``promote_scope_metadata`` is off), and no
  ``job``/``instance``: the scraping Prometheus sets those from its target.

Exponential histograms have no text form (the receiver stores them as native histograms) and
are left out. Several ``ResourceMetrics`` (say, several workers' data) render as one family per
name, each resource its own series. Usage::

    body = render(reader_data, openmetrics=False)
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from itertools import accumulate
from typing import Any, Protocol

from opentelemetry.sdk.metrics.export import (
    Gauge,
    Histogram,
    HistogramDataPoint,
    Metric,
    MetricsData,
    Sum,
)
from opentelemetry.sdk.resources import Resource

from otelmetrics.pipeline.naming import PROMOTED_RESOURCE_ATTRIBUTES, Kind, label_name, metric_name

__all__ = [
    "OPENMETRICS",
    "TEXT",
    "Family",
    "Lines",
    "content_type",
    "label_text",
    "le_labels",
    "number",
    "point_labels",
    "promoted_labels",
    "render",
    "render_chunks",
    "target_info",
]

TEXT = "text/plain; version=0.0.4; charset=utf-8"
OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"
TARGET_INFO = "target_info"
_IDENTIFYING = frozenset({"service.name", "service.namespace", "service.instance.id"})

Labels = dict[str, str]


class Lines(Protocol):
    """Series rendered without ``MetricsData`` (the lean tables): added to the families by name."""

    def add_to(self, families: dict[str, Family]) -> list[str]:
        """Add the series' lines to ``families`` (a new family where none has the name); return
        their resource's ``target_info`` samples (none when no line was added)."""
        ...


class Family:
    """One metric family: its type, help, and the sample lines of every resource."""

    __slots__ = ("chunks", "help", "kind", "lines")

    def __init__(self, kind: Kind, help_text: str | None) -> None:
        self.kind = kind
        self.help = help_text or ""
        self.lines: list[str] = []
        self.chunks: list[bytes] = []  # lines already encoded (the lean series')


def content_type(accept: str | None) -> str:
    """OpenMetrics when the scraper accepts ``application/openmetrics-text`` 1.x (or without a
    version), as prometheus_client's ``choose_encoder`` decides; else the 0.0.4 text format."""
    for accepted in (accept or "").split(","):
        media, *params = (part.strip() for part in accepted.split(";"))
        if media != "application/openmetrics-text":
            continue
        version = next((p[8:] for p in params if p.startswith("version=")), "")
        if not version or version.split(".")[0] not in ("", "0"):
            return OPENMETRICS
    return TEXT


def render(
    data: MetricsData | None, *, openmetrics: bool = False, lean: Sequence[Lines] = ()
) -> bytes:
    """The exposition of ``data`` and of the ``lean`` series rendered straight from their tables
    (:mod:`otelmetrics.pipeline.lean_exposition`): Prometheus text 0.0.4, or OpenMetrics 1.0
    (``# EOF``). A family both hold is shown once, with the samples of each."""
    return b"".join(render_chunks(data, openmetrics=openmetrics, lean=lean))


def render_chunks(
    data: MetricsData | None, *, openmetrics: bool = False, lean: Sequence[Lines] = ()
) -> list[bytes]:
    """:func:`render`'s text in pieces, in order (a compressor takes them without a join)."""
    families: dict[str, Family] = {}
    info: dict[str, None] = {}  # target_info samples, each once
    for group in data.resource_metrics if data is not None else ():
        promoted = promoted_labels(group.resource)
        metrics = [m for scope in group.scope_metrics for m in scope.metrics]
        added = [_add_metric(families, metric, promoted) for metric in metrics]
        if any(added):
            info.update(dict.fromkeys(target_info(group.resource)))
    for extra in lean:
        info.update(dict.fromkeys(extra.add_to(families)))
    out: list[bytes] = []
    if info:
        families[TARGET_INFO] = Family("gauge", "Target metadata")
        families[TARGET_INFO].lines = list(info)
    for name, family in families.items():
        out.extend(_family_text(name, family, openmetrics))
    if openmetrics:
        out.append(b"# EOF\n")
    return out


def _add_metric(families: dict[str, Family], metric: Metric, promoted: Labels) -> bool:
    """Add ``metric``'s samples to its family; False when it has none (or no text form)."""
    data = metric.data
    kind = _kind(data)
    if kind is None or not data.data_points:
        return False
    name = metric_name(metric.name, metric.unit or "", kind)
    if not name or name == TARGET_INFO:
        return False  # a name the receiver rejects, or one that is not a metric's
    family = families.get(name) or families.setdefault(name, Family(kind, metric.description))
    if family.kind != kind:
        return False  # the receiver would mix two types under one name; text cannot
    if isinstance(data, Histogram):
        for histogram in data.data_points:
            family.lines.extend(_histogram_lines(name, histogram, promoted))
    elif isinstance(data, Sum | Gauge):
        for point in data.data_points:
            labels = label_text(point_labels(point.attributes, promoted))
            family.lines.append(f"{name}{labels} {number(point.value)}\n")
    return True


def _kind(data: Any) -> Kind | None:
    if isinstance(data, Sum):
        return "counter" if data.is_monotonic else "updowncounter"
    if isinstance(data, Gauge):
        return "gauge"
    if isinstance(data, Histogram):
        return "histogram"
    return None  # ExponentialHistogram: a native histogram, which text cannot carry


def _histogram_lines(name: str, point: HistogramDataPoint, promoted: Labels) -> list[str]:
    """Cumulative ``_bucket`` lines up to ``le="+Inf"``, then ``_count`` and ``_sum``."""
    base = label_text(point_labels(point.attributes, promoted))
    prefix = f"{name}_bucket{base[:-1]}," if base else f"{name}_bucket{{"
    bounds = tuple(point.explicit_bounds)[: len(point.bucket_counts)]  # the receiver's bound
    counts = [*accumulate(point.bucket_counts[: len(bounds)]), point.count]
    labels = le_labels(bounds)
    lines = [f"{prefix}{le}{count}.0\n" for le, count in zip(labels, counts, strict=True)]
    lines.append(f"{name}_count{base} {point.count}.0\n")
    lines.append(f"{name}_sum{base} {number(point.sum)}\n")
    return lines


@lru_cache(maxsize=256)
def le_labels(bounds: tuple[float, ...]) -> tuple[str, ...]:
    """``le="0.005"} `` ... ``le="+Inf"} ``: the end of each bucket line up to its value."""
    return (*(f'le="{number(bound)}"}} ' for bound in bounds), 'le="+Inf"} ')


def promoted_labels(resource: Resource) -> Labels:
    """The promoted resource attributes of ``resource`` as labels."""
    attributes = resource.attributes
    return _labels(
        (key, attributes[key]) for key in PROMOTED_RESOURCE_ATTRIBUTES if key in attributes
    )


def target_info(resource: Resource) -> list[str]:
    """One ``target_info`` sample with every resource attribute, as the receiver writes it
    (none when the resource has only identifying attributes)."""
    attributes = resource.attributes
    if not set(attributes) - _IDENTIFYING:
        return []
    return [f"{TARGET_INFO}{label_text(_labels(sorted(attributes.items())))} 1\n"]


def point_labels(attributes: Mapping[str, Any] | None, promoted: Labels) -> Labels:
    labels = _labels(sorted(attributes.items())) if attributes else {}
    for name, value in promoted.items():
        labels.setdefault(name, value)
    return labels


def _labels(items: Iterable[tuple[str, Any]]) -> Labels:
    """Attributes (sorted by key) as labels: keys sanitized, values of keys that collide joined
    with ``;``, empty values left out (Prometheus drops them)."""
    labels: Labels = {}
    for key, value in items:
        name, text = label_name(key), _value_text(value)
        if not name or not text:
            continue
        labels[name] = f"{labels[name]};{text}" if labels.get(name) else text
    return labels


def _value_text(value: Any) -> str:
    """An attribute value as the receiver's ``pcommon.Value.AsString`` writes it."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    if isinstance(value, Sequence):
        return json.dumps(list(value), separators=(",", ":"))
    return str(value)


def label_text(labels: Labels) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{name}="{_escape(value)}"' for name, value in labels.items()) + "}"


def _escape(value: str) -> str:
    if "\\" in value or '"' in value or "\n" in value:
        return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
    return value


def number(value: float) -> str:
    """A sample value or bucket bound as Go parses it (``1.0``, ``0.005``, ``+Inf``, ``NaN``)."""
    if isinstance(value, int):
        return f"{value}.0"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return "NaN" if math.isnan(value) else repr(value)


def _family_text(name: str, family: Family, openmetrics: bool) -> list[bytes]:
    """The family's HELP and TYPE lines, then its samples. OpenMetrics names a counter's family
    without ``_total`` and escapes quotes in HELP; the 0.0.4 format keeps the sample name."""
    kind = "gauge" if family.kind == "updowncounter" else family.kind
    help_text = family.help.replace("\\", "\\\\").replace("\n", "\\n")
    if openmetrics:
        help_text = help_text.replace('"', '\\"')
        if kind == "counter":
            name = name.removesuffix("_total")
        header = f"# TYPE {name} {kind}\n# HELP {name} {help_text}\n"
    else:
        header = f"# HELP {name} {help_text}\n# TYPE {name} {kind}\n"
    return [(header + "".join(family.lines)).encode(), *family.chunks]
