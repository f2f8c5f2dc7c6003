"""/metrics names and renders series as Prometheus's OTLP receiver stores them.

The naming cases are the ones of github.com/prometheus/otlptranslator v1.0.0's own tests
(``metric_namer_test.go``, ``label_namer_test.go``: suffixes on, underscore escaping, and the
label settings Prometheus defaults to), which Prometheus v3.15.0 builds with. The rendering is
checked by parsing it back with prometheus_client's parsers (the OpenMetrics one is strict).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    ExponentialHistogram,
    ExponentialHistogramDataPoint,
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
from opentelemetry.sdk.metrics.export import Buckets as ExpBuckets
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as parse_openmetrics,
)
from prometheus_client.parser import text_string_to_metric_families as parse_text

from otelmetrics.pipeline.exposition import OPENMETRICS, TEXT, content_type, render
from otelmetrics.pipeline.naming import PROMOTED_RESOURCE_ATTRIBUTES, label_name, metric_name

REPO = Path(__file__).resolve().parents[2]
CUMULATIVE = AggregationTemporality.CUMULATIVE
RESOURCE = Resource(
    {
        "service.name": "orders",
        "service.instance.id": "i-1",
        "deployment.environment.name": "test",
        "host.name": "box",
        "process.pid": 42,
    }
)
SERVICE = {"service_name": "orders", "service_instance_id": "i-1"}
IDENTITY = {**SERVICE, "deployment_environment_name": "test"}


@pytest.mark.parametrize(
    ("name", "unit", "kind", "expected"),
    [
        # otlptranslator's TestMetricNamer_Build, UTF8Allowed false, WithMetricSuffixes true.
        ("requests", "", "counter", "requests_total"),
        ("cpu_usage", "1", "gauge", "cpu_usage_ratio"),
        ("items", "1", "counter", "items_total"),
        ("response_time", "ms", "gauge", "response_time_milliseconds"),
        ("memory_usage", "By", "gauge", "memory_usage_bytes"),
        ("requests", "1/s", "gauge", "requests_per_second"),
        ("throughput", "By/s", "gauge", "throughput_bytes_per_second"),
        ("custom_metric", "custom_unit", "gauge", "custom_metric_custom_unit"),
        ("custom_metric", "{custom}", "gauge", "custom_metric"),
        ("custom_metric", "By/{custom}", "gauge", "custom_metric_bytes"),
        ("requests_total", "", "counter", "requests_total"),
        ("cpu_usage_ratio", "1", "gauge", "cpu_usage_ratio"),
        ("response_time_seconds", "s", "gauge", "response_time_seconds"),
        ("cpu_seconds_total", "s", "counter", "cpu_seconds_total"),
        ("otelcol_process_cpu_seconds", "s", "counter", "otelcol_process_cpu_seconds_total"),
        (
            "metric__with__multiple__underscores",
            "unit__multiple__underscores",
            "gauge",
            "metric_with_multiple_underscores_unit_multiple_underscores",
        ),
        ("metric", "unit@with#special/chars", "gauge", "metric_unit_with_special_per_chars"),
        ("@#$%", "", "gauge", ""),
        ("123metric", "", "gauge", "_123metric"),
        # Ours: the kind decides _total and _ratio, never the unit alone.
        ("http.server.request.duration", "s", "histogram", "http_server_request_duration_seconds"),
        ("process.cpu.utilization", "1", "gauge", "process_cpu_utilization_ratio"),
        ("system.cpu.utilization", "1", "updowncounter", "system_cpu_utilization"),
        ("process.cpu.time", "s", "counter", "process_cpu_time_seconds_total"),
        ("trading.pnl.realized", "{USD}", "gauge", "trading_pnl_realized"),
    ],
)
def test_metric_names_follow_otlptranslator(name, unit, kind, expected) -> None:
    assert metric_name(name, unit, kind) == expected


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        # otlptranslator's labelTestCases, sanitizedMultipleUnderscores where it differs, and
        # underscore sanitization: Prometheus's defaults for both (config.DefaultOTLPConfig).
        ("label:with:colons", "label_with_colons"),
        ("LabelWithCapitalLetters", "LabelWithCapitalLetters"),
        ("label!with&special$chars)", "label_with_special_chars_"),
        ("label_with_foreign_characters_字符", "label_with_foreign_characters___"),
        ("label.with.dots", "label_with_dots"),
        ("123label", "key_123label"),
        ("_label_starting_with_underscore", "key_label_starting_with_underscore"),
        ("__label_starting_with_2underscores", "__label_starting_with_2underscores"),
        ("ようこそ", ""),
        ("label__with__double__underscores", "label__with__double__underscores"),
        ("label.name__with&&special##chars", "label_name__with__special__chars"),
        ("trailing_underscores___", "trailing_underscores___"),
        ("", ""),
        ("http.response.status_code", "http_response_status_code"),
    ],
)
def test_label_names_follow_otlptranslator(key, expected) -> None:
    assert label_name(key) == expected


def test_the_promoted_attributes_are_the_ones_prometheus_yml_promotes() -> None:
    config = yaml.safe_load((REPO / "prometheus" / "prometheus.yml").read_text())
    assert list(PROMOTED_RESOURCE_ATTRIBUTES) == config["otlp"]["promote_resource_attributes"]


def point(value: float, **attributes: object) -> NumberDataPoint:
    return NumberDataPoint(attributes, 0, 1, value)


def data(*metrics: Metric, resource: Resource = RESOURCE) -> MetricsData:
    scope = ScopeMetrics(InstrumentationScope("otelmetrics", "1.0"), list(metrics), "")
    return MetricsData([ResourceMetrics(resource, [scope], "")])


def counter(*points: NumberDataPoint, name: str = "app.orders") -> Metric:
    return Metric(name, "Orders.", "{order}", Sum(list(points), CUMULATIVE, True))


def latency() -> Metric:
    histogram = HistogramDataPoint(
        {"http.route": "/x"}, 0, 1, 4, 1.5, [1, 2, 0, 1], [0.1, 1.0, 2.5], 0.05, 1.2
    )
    return Metric("app.latency", "Latency.", "s", Histogram([histogram], CUMULATIVE))


def samples(text: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """{sample name: {sorted labels: value}} from Prometheus text."""
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in parse_text(text):
        for sample in family.samples:
            out.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return out


def labels(**extra: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted({**IDENTITY, **extra}.items()))


def test_a_counter_gets_total_and_every_promoted_attribute() -> None:
    text = render(data(counter(point(3, **{"trading.venue": "kraken"})))).decode()
    assert "# TYPE app_orders_total counter\n" in text
    assert samples(text)["app_orders_total"] == {labels(trading_venue="kraken"): 3.0}


def test_a_histogram_is_classic_buckets_count_and_sum() -> None:
    got = samples(render(data(latency())).decode())
    route = {"http_route": "/x"}
    assert got["app_latency_seconds_bucket"] == {
        labels(**route, le="0.1"): 1.0,
        labels(**route, le="1.0"): 3.0,
        labels(**route, le="2.5"): 3.0,
        labels(**route, le="+Inf"): 4.0,
    }
    assert got["app_latency_seconds_count"] == {labels(**route): 4.0}
    assert got["app_latency_seconds_sum"] == {labels(**route): 1.5}


def test_target_info_carries_every_resource_attribute() -> None:
    text = render(data(counter(point(1)))).decode()
    [(info_labels, value)] = samples(text)["target_info"].items()
    assert value == 1.0
    assert dict(info_labels) == {**IDENTITY, "host_name": "box", "process_pid": "42"}


def test_no_target_info_without_samples_or_with_identity_only() -> None:
    assert b"target_info" not in render(data())
    identity_only = Resource({"service.name": "orders", "service.instance.id": "i-1"})
    text = render(data(counter(point(1)), resource=identity_only)).decode()
    assert "target_info" not in text and 'service_name="orders"' in text


def test_a_point_attribute_wins_over_a_promoted_one_and_collisions_join() -> None:
    metric = counter(point(1, **{"service.name": "mine", "a.b": "x", "a_b": "y", "empty": ""}))
    [series] = samples(render(data(metric)).decode())["app_orders_total"]
    assert dict(series) == {**IDENTITY, "service_name": "mine", "a_b": "x;y"}


def test_two_resources_share_one_family_and_keep_their_series_apart() -> None:
    other = Resource({"service.name": "orders", "service.instance.id": "i-2", "host.name": "b"})
    both = MetricsData(
        [
            *data(counter(point(1))).resource_metrics,
            *data(counter(point(2)), resource=other).resource_metrics,
        ]
    )
    text = render(both).decode()
    assert text.count("# TYPE app_orders_total counter") == 1
    assert text.count("# TYPE target_info gauge") == 1
    got = samples(text)["app_orders_total"]
    assert sorted(got.values()) == [1.0, 2.0]
    assert {dict(k)["service_instance_id"] for k in got} == {"i-1", "i-2"}


def test_openmetrics_parses_strictly_and_ends_with_eof() -> None:
    gauge = Metric("process.cpu.utilization", 'CPU "busy"\nshare', "1", Gauge([point(0.25)]))
    text = render(data(counter(point(2, note='a "q" \\ \n')), latency(), gauge), openmetrics=True)
    families = {f.name: f for f in parse_openmetrics(text.decode())}
    assert text.endswith(b"# EOF\n")
    assert families["app_orders"].type == "counter"
    assert families["app_orders"].samples[0].labels["note"] == 'a "q" \\ \n'
    assert families["app_latency_seconds"].type == "histogram"
    assert families["process_cpu_utilization_ratio"].documentation == 'CPU "busy"\nshare'
    assert families["target_info"].type == "gauge"


def test_an_up_down_counter_is_a_gauge_and_exponential_histograms_are_left_out() -> None:
    updown = Metric("app.queue", "", "{item}", Sum([point(-2)], CUMULATIVE, False))
    buckets = ExpBuckets(0, [1])
    exponential = ExponentialHistogramDataPoint(
        {}, 0, 1, 1, 1.0, 0, 0, 0, buckets, buckets, 0, 0, 0
    )
    skipped = Metric("app.sizes", "", "By", ExponentialHistogram([exponential], CUMULATIVE))
    text = render(data(updown, skipped)).decode()
    assert "# TYPE app_queue gauge" in text and "app_sizes" not in text
    assert samples(text)["app_queue"] == {labels(): -2.0}


def test_a_name_of_two_kinds_keeps_the_first() -> None:
    gauge = Metric("app.orders.total", "", "", Gauge([point(5)]))
    text = render(data(counter(point(1)), gauge)).decode()
    assert text.count("# TYPE app_orders_total") == 1
    assert samples(text)["app_orders_total"] == {labels(): 1.0}


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, TEXT),
        ("text/plain", TEXT),
        ("application/openmetrics-text", OPENMETRICS),
        ("application/openmetrics-text; version=1.0.0", OPENMETRICS),
        ("application/openmetrics-text;version=0.0.1,text/plain;version=0.0.4", TEXT),
        (
            "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,"
            "application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=0.0.4;q=0.3",
            OPENMETRICS,
        ),
    ],
)
def test_content_negotiation(accept, expected) -> None:
    assert content_type(accept) == expected
