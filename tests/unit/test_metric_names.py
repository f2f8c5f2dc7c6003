"""tools/names.py against the package: each name is what Prometheus calls our instrument's series.

The names are derived from the package's own instrument definitions, never typed here. A handle
with an in-memory reader records once through every instrument (HTTP through a tiny Flask app,
which also gives the user, error and security-event counters; websockets; the trading facade;
the process and system gauges observe themselves). Each collected metric's name, unit and point
type then go through the mapping Prometheus's OTLP receiver applies with
``translation_strategy: UnderscoreEscapingWithSuffixes`` (prometheus/prometheus.yml), and its
attribute keys become label names. A renamed instrument, a changed unit or a changed kind (a
gauge that becomes an up-down counter loses ``_ratio``) changes the derived name, and a name in
tools/names.py that no instrument derives any more fails here. The same collected data rendered
by /metrics (otelmetrics/pipeline/exposition.py) must show exactly these names and labels: the
derivation here is written from the receiver's rules independently of the package's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from flask import Flask
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    ExponentialHistogram,
    Gauge,
    Histogram,
    InMemoryMetricReader,
    Metric,
    MetricsData,
    Sum,
)
from prometheus_client.parser import text_string_to_metric_families

import otelmetrics
from otelmetrics.flask import OtelMetrics
from otelmetrics.pipeline.exposition import render
from tools import names

REPO = Path(__file__).resolve().parents[2]
# UCUM unit -> the word Prometheus appends (prometheus/otlptranslator's unit map, the part that
# can occur here). Any other unit is appended as it is; an annotation in braces adds nothing.
UNIT_WORDS = {
    "d": "days",
    "h": "hours",
    "min": "minutes",
    "s": "seconds",
    "ms": "milliseconds",
    "us": "microseconds",
    "ns": "nanoseconds",
    "By": "bytes",
    "KiBy": "kibibytes",
    "MiBy": "mebibytes",
    "GiBy": "gibibytes",
    "1": "",
    "%": "percent",
}
PER_UNIT_WORDS = {"s": "second", "m": "minute", "h": "hour", "d": "day"}
HISTOGRAM_SERIES = ("_bucket", "_count", "_sum")

# Names in tools/names.py that no otelmetrics instrument exports, each with the reason.
NOT_OURS = {
    **dict.fromkeys(
        ("JOB", "INSTANCE", "LE", "ALERTNAME", "ALERTSTATE"),
        "a label Prometheus sets itself (target, histogram bucket, ALERTS)",
    ),
    "SEVERITY": "our alert rules' label (tools/rules/), not an instrument attribute",
    **dict.fromkeys(
        ("RECEIVER", "TRANSPORT", "EXPORTER", "PROCESSOR"),
        "a label of the collector's own metrics",
    ),
    "TARGET_INFO": "Prometheus's series of each instance's resource attributes",
    "UP": "Prometheus's health series of each scraped target",
    "ALERTS": "Prometheus's series of pending and firing alerts",
    "COLLECTOR_JOB": "a job label value, set by prometheus/prometheus.yml's scrape config",
    **dict.fromkeys(
        (
            "OTELCOL_ACCEPTED",
            "OTELCOL_REFUSED",
            "OTELCOL_SENT",
            "OTELCOL_SEND_FAILED",
            "OTELCOL_ENQUEUE_FAILED",
            "OTELCOL_QUEUE_SIZE",
            "OTELCOL_QUEUE_CAPACITY",
            "OTELCOL_LIMITER_ACCEPTED",
            "OTELCOL_LIMITER_REFUSED",
            "OTELCOL_RSS",
            "OTELCOL_HEAP",
        ),
        "the collector's own metric, scraped (no OTLP suffixes)",
    ),
    **dict.fromkeys(
        ("SLO_ERRORS", "SLO_SLOW", "WIN_RATIO_1H"),
        "a recording rule of tools/rules/, not an instrument",
    ),
    **dict.fromkeys(
        (
            "KRAKEN_LATENCY_P50_MS",
            "KRAKEN_LATENCY_P95_MS",
            "KRAKEN_LATENCY_P99_MS",
            "KRAKEN_TRADES_PER_MINUTE",
            "KRAKEN_RECONNECTS",
            "KRAKEN_CONNECTION_STATUS",
            "KRAKEN_EVENTS",
            "KRAKEN_PAIR",
            "KRAKEN_EVENT_TYPE",
        ),
        "a crypto-ai-bot compatibility name, written by a recording rule",
    ),
}
DECLARED = {
    name: value
    for name, value in vars(names).items()
    if name.isupper() and not name.startswith("_") and isinstance(value, str)
}


@dataclass(frozen=True)
class Exported:
    """What Prometheus stores for our instruments: series names (histograms' family names
    included) and label names."""

    series: frozenset[str]
    labels: frozenset[str]
    data: MetricsData


def _sanitize(name: str) -> str:
    """Runs of characters outside [a-zA-Z0-9:] become one underscore (the legacy scheme)."""
    return "_".join(token for token in re.split(r"[^a-zA-Z0-9:]+", name) if token)


def _unit_tokens(unit: str) -> list[str]:
    main, _, per = (part.strip() for part in unit.partition("/"))
    tokens = []
    if main and "{" not in main and UNIT_WORDS.get(main, main):
        tokens.append(_sanitize(UNIT_WORDS.get(main, main)))
    if per and "{" not in per:
        tokens.append(f"per_{_sanitize(PER_UNIT_WORDS.get(per, per))}")
    return tokens


def prometheus_name(metric: Metric) -> str:
    """The series (family) name the OTLP receiver gives ``metric``, suffixes included."""
    tokens = [t for t in re.split(r"[^a-zA-Z0-9:]+", metric.name) if t]
    tokens += [t for t in _unit_tokens(metric.unit or "") if t not in tokens]
    data = metric.data
    if isinstance(data, Sum) and data.is_monotonic:
        tokens = [t for t in tokens if t != "total"] + ["total"]
    if isinstance(data, Gauge) and metric.unit == "1":
        tokens = [t for t in tokens if t != "ratio"] + ["ratio"]
    return "_".join(tokens)


def series_names(metric: Metric) -> set[str]:
    """Every series name of ``metric``: a classic histogram has three, plus its family name."""
    name = prometheus_name(metric)
    if isinstance(metric.data, Histogram):
        return {name, *(name + suffix for suffix in HISTOGRAM_SERIES)}
    assert isinstance(metric.data, Sum | Gauge | ExponentialHistogram), metric
    return {name}


def promoted_labels() -> set[str]:
    """The resource attributes prometheus/prometheus.yml promotes to labels."""
    config = yaml.safe_load((REPO / "prometheus" / "prometheus.yml").read_text())
    return {_sanitize(key) for key in config["otlp"]["promote_resource_attributes"]}


def record_http(handle: otelmetrics.MetricsHandle) -> None:
    """Requests through the Flask adapter: a 200 with bodies and a user, a 5xx, a denied 401."""
    app = Flask("names")

    @app.post("/orders/<int:order_id>")
    def order(order_id: int) -> str:
        return "accepted"

    @app.get("/fail")
    def fail() -> tuple[str, int]:
        return "broken", 500

    OtelMetrics(app, handle=handle)
    client = app.test_client()
    assert client.post("/orders/1", data=b"{}", headers={"X-User-Id": "u-1"}).status_code == 200
    assert client.get("/fail").status_code == 500
    assert client.get(f"{handle.settings.api_prefix}/current").status_code == 401


def record_websockets(handle: otelmetrics.MetricsHandle) -> None:
    handle.websockets.connected("/ws", sid="c-1")
    handle.websockets.received("/ws", "subscribe")
    handle.websockets.sent("/ws", "tick")
    handle.websockets.disconnected("/ws", sid="c-1")


def record_trading(handle: otelmetrics.MetricsHandle) -> None:
    """One call of each kind, so every trading instrument and gauge has a point."""
    trading = handle.trading
    trading.order_placed("BTC-USD", "buy", "limit", venue="kraken")
    trading.order_filled("BTC-USD", "buy", "limit", venue="kraken", latency=0.02)
    trading.position_opened("BTC-USD", venue="kraken")
    trading.set_unrealized("BTC-USD", 3.5, exposure=1000.0)
    trading.position_closed("BTC-USD", 12.5, venue="kraken", holding_seconds=60.0)
    trading.breaker_state("kraken-api", "open")
    trading.feed_message("kraken", "BTC-USD", 0.012, "trade")
    trading.feed_trade("kraken", "BTC-USD")
    trading.feed_status("kraken", True)
    trading.feed_reconnect("kraken")
    trading.engine_cycle(0.02)
    trading.scanner_scan(0.1)
    trading.market_data_delay(0.003)
    trading.broker_status("mt5", True)
    trading.broker_failure("mt5")


def record_clients(handle: otelmetrics.MetricsHandle) -> None:
    """An outgoing call answered 200, and one that got no answer."""
    clients = handle.http_clients
    call = clients.start("GET", "api.exchange.example", 443, "https")
    clients.finish(call, 200, None, 10, 512, "/api/v3/order")
    call = clients.start("GET", "api.exchange.example", 443, "https")
    clients.finish(call, None, "ConnectError", None, None)


def collected(reader: InMemoryMetricReader) -> MetricsData:
    data = reader.get_metrics_data()
    assert data is not None, "the reader collected nothing"
    return data


@pytest.fixture(scope="module")
def exported() -> Exported:
    reader = InMemoryMetricReader()
    handle = otelmetrics.configure(
        metric_readers=[reader],
        set_global=False,
        exporters=("none",),
        service_name="metric-names",
        system_metrics=True,
    )
    try:
        record_http(handle)
        record_clients(handle)
        record_websockets(handle)
        record_trading(handle)
        data = collected(reader)
    finally:
        handle.shutdown()
    metrics = _metrics(data)
    return Exported(
        series=frozenset(name for metric in metrics for name in series_names(metric)),
        labels=frozenset(
            {_sanitize(key) for m in metrics for p in m.data.data_points for key in p.attributes}
            | promoted_labels()
        ),
        data=data,
    )


def test_every_name_of_ours_in_tools_names_is_derived_from_an_instrument(
    exported: Exported,
) -> None:
    derived = exported.series | exported.labels
    stale = {
        name: value
        for name, value in DECLARED.items()
        if name not in NOT_OURS and value not in derived
    }
    assert not stale, (
        "tools/names.py declares names no otelmetrics instrument exports (an instrument or "
        "attribute was renamed, its unit or kind changed, or this test no longer records it):\n"
        + "\n".join(f"  {name} = {value!r}" for name, value in sorted(stale.items()))
        + f"\nderived series: {sorted(exported.series)}\nderived labels: {sorted(exported.labels)}"
    )


def test_every_series_the_rules_may_not_write_is_derived_too(exported: Exported) -> None:
    """EXPORTED (a recording rule never writes these) spells out each histogram's series."""
    not_ours = {DECLARED[name] for name in NOT_OURS if name in DECLARED}
    missing = sorted(names.EXPORTED - not_ours - exported.series)
    assert not missing, f"names.EXPORTED lists series no instrument exports: {missing}"


def test_the_exclusions_name_real_constants() -> None:
    assert not set(NOT_OURS) - set(DECLARED), "NOT_OURS names constants tools/names.py lacks"


def test_metrics_renders_exactly_the_derived_names_and_labels(exported: Exported) -> None:
    """/metrics of the same data: every family and sample name is a derived one, every series
    has the derived labels, and each carries the promoted service labels as the receiver adds
    them."""
    families = list(text_string_to_metric_families(render(exported.data).decode()))
    samples = [s for f in families if f.name != names.TARGET_INFO for s in f.samples]
    derived = set()
    for metric in _metrics(exported.data):
        name = prometheus_name(metric)
        histogram = isinstance(metric.data, Histogram)
        derived |= {name + suffix for suffix in HISTOGRAM_SERIES} if histogram else {name}
    assert {s.name for s in samples} == derived
    label_names = {label for s in samples for label in s.labels} - {names.LE}
    assert label_names <= exported.labels, label_names - exported.labels
    for sample in samples:
        assert sample.labels[names.SERVICE_NAME] == "metric-names", sample
        assert sample.labels[names.INSTANCE_ID], sample


def _metrics(data: MetricsData) -> list[Metric]:
    return [m for group in data.resource_metrics for s in group.scope_metrics for m in s.metrics]


CUMULATIVE = AggregationTemporality.CUMULATIVE
COUNTER = Sum(data_points=[], aggregation_temporality=CUMULATIVE, is_monotonic=True)
UP_DOWN = Sum(data_points=[], aggregation_temporality=CUMULATIVE, is_monotonic=False)
GAUGE = Gauge(data_points=[])
HISTOGRAM = Histogram(data_points=[], aggregation_temporality=CUMULATIVE)


@pytest.mark.parametrize(
    ("name", "unit", "data", "expected"),
    [
        ("http.server.request.duration", "s", HISTOGRAM, "http_server_request_duration_seconds"),
        ("process.memory.usage", "By", UP_DOWN, "process_memory_usage_bytes"),
        ("process.cpu.utilization", "1", GAUGE, "process_cpu_utilization_ratio"),
        ("system.cpu.utilization", "1", UP_DOWN, "system_cpu_utilization"),
        ("app.requests", "1", COUNTER, "app_requests_total"),
        ("app.requests.total", "", COUNTER, "app_requests_total"),
        ("trading.orders", "{order}", COUNTER, "trading_orders_total"),
        ("trading.pnl.realized", "{USD}", GAUGE, "trading_pnl_realized"),
        ("trading.pnl", "USD", GAUGE, "trading_pnl_USD"),
        ("queue.seconds", "s", GAUGE, "queue_seconds"),
        ("net.io", "By/s", GAUGE, "net_io_bytes_per_second"),
    ],
)
def test_the_derivation_follows_the_otlp_receiver(name, unit, data, expected) -> None:
    """Cases from the OTel-to-Prometheus compatibility spec and prometheus/otlptranslator."""
    metric = Metric(name=name, description="", unit=unit, data=data)
    assert prometheus_name(metric) == expected
