"""app (otelmetrics) -> built collector (collector/otelcol-config.yaml) -> Prometheus 3 (OTLP).

What a user of the shipped pipeline relies on: every request counted exactly once under the
service's name and instance, histogram buckets that agree with the latencies, the collector's
own metrics next to the app's, and the optional second exporter getting the same data.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import (
    Binaries,
    Collector,
    Prometheus,
    poll_until,
    start_app,
    start_collector,
    start_prometheus,
    sum_samples,
)
from tests.e2e.otlp import now_ns, post, sum_request

DURATION = "http_server_request_duration_seconds"
ITEMS_ROUTE = "/items/<int:item_id>"
SLEEP_ROUTE = "/sleep/<int:milliseconds>"

# What Prometheus must show for a request of the e2e app: metric attributes as labels, the
# promoted resource attributes, and job/instance derived from service.name/service.instance.id.
# {instance} is replaced by the app's service.instance.id.
EXPECTED_LABELS = {
    "job": "e2e-flask",
    "instance": "{instance}",
    "service_name": "e2e-flask",
    "service_instance_id": "{instance}",
    "deployment_environment_name": "e2e",  # filled in by the collector's resource processor
    "http_request_method": "GET",
    "http_response_status_code": "200",
    "url_scheme": "http",
}


def new_instance_id() -> str:
    return f"e2e-{uuid.uuid4().hex[:12]}"


def selector(instance: str, route: str) -> str:
    return f'{{service_name="e2e-flask", service_instance_id="{instance}", http_route="{route}"}}'


def wait_for_value(prometheus: Prometheus, expr: str, expected: float, timeout: float = 30) -> None:
    def check() -> None:
        value = prometheus.value(expr)
        assert value == expected, f"{expr} = {value}, want {expected}"

    poll_until(check, f"{expr} == {expected}", timeout=timeout)


def test_every_request_is_counted_once_with_service_and_instance_labels(
    collector: Collector, prometheus: Prometheus, workdir: Path, spawn: Callable[[Any], Any]
) -> None:
    instance = new_instance_id()
    app = spawn(
        start_app(workdir / "apps", collector, service_name="e2e-flask", instance_id=instance)
    )
    sent = 37
    for item_id in range(sent):
        status, _ = app.get(f"/items/{item_id}")
        assert status == 200

    count = f"sum({DURATION}_count{selector(instance, ITEMS_ROUTE)})"
    wait_for_value(prometheus, count, sent)
    # Several more export intervals (1s) and collector flushes later: still exactly N, the
    # cumulative points re-sent every interval replace each other instead of adding up.
    time.sleep(4)
    assert prometheus.value(count) == sent

    [(labels, _)] = prometheus.query(f"{DURATION}_count{selector(instance, ITEMS_ROUTE)}")
    expected = {k: v.format(instance=instance) for k, v in EXPECTED_LABELS.items()}
    assert {k: labels.get(k) for k in expected} == expected
    assert labels["http_route"] == ITEMS_ROUTE
    # The raw path never becomes a label (the route template does).
    assert not any("/items/1" in value for value in labels.values())


def test_histogram_buckets_agree_with_the_recorded_latencies(
    collector: Collector, prometheus: Prometheus, workdir: Path, spawn: Callable[[Any], Any]
) -> None:
    instance = new_instance_id()
    app = spawn(
        start_app(workdir / "apps", collector, service_name="e2e-flask", instance_id=instance)
    )
    # milliseconds slept by the handler -> requests; chosen far from the semconv bucket bounds
    # (…, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, …) so scheduling noise cannot move a request
    # across one.
    plan = {0: 6, 40: 4, 300: 2}
    waited = 0.0
    for milliseconds, requests in plan.items():
        for _ in range(requests):
            status, seconds = app.get(f"/sleep/{milliseconds}")
            assert status == 200
            waited += seconds
    total = sum(plan.values())

    series = selector(instance, SLEEP_ROUTE)
    wait_for_value(prometheus, f"sum({DURATION}_count{series})", total)

    buckets = {
        labels["le"]: value for labels, value in prometheus.query(f"{DURATION}_bucket{series}")
    }
    # Cumulative buckets: fast ones below 25 ms, the 40 ms ones below 75 ms, all below 500 ms.
    assert buckets["0.025"] == plan[0], buckets
    assert buckets["0.075"] == plan[0] + plan[40], buckets
    assert buckets["0.25"] == plan[0] + plan[40], buckets
    assert buckets["0.5"] == total, buckets
    assert buckets["+Inf"] == total, buckets
    # The server-side sum lies between what the handlers slept and what the client waited.
    recorded = prometheus.value(f"sum({DURATION}_sum{series})")
    slept = sum(ms * n for ms, n in plan.items()) / 1000
    assert slept <= recorded <= waited, (slept, recorded, waited)
    # And PromQL's quantile estimate from those buckets lands in the 300 ms bucket for p99.
    p99 = prometheus.value(f"histogram_quantile(0.99, sum by (le) ({DURATION}_bucket{series}))")
    assert 0.25 < p99 <= 0.5, p99


def test_the_collectors_own_metrics_are_scraped_into_prometheus(
    collector: Collector, prometheus: Prometheus
) -> None:
    instance = f'job="otel-collector", instance="{collector.metrics_target}"'
    # Some data through the collector, so its counters are not empty even when this test runs
    # alone.
    request = sum_request(
        service_name="e2e-own-metrics",
        instance_id=new_instance_id(),
        metric="e2e_own_metrics_points",
        value=1.0,
        start_ns=now_ns() - 10**9,
        time_ns=now_ns(),
    )
    assert post(collector.http_endpoint, request) == 200

    def scraped() -> None:
        assert prometheus.value(f"up{{{instance}}}") == 1
        accepted = prometheus.value(
            f'sum(otelcol_receiver_accepted_metric_points{{{instance}, receiver="otlp"}})'
        )
        assert accepted > 0, accepted

    # The scrape interval is 15s (prometheus.yml), so allow two of them.
    poll_until(scraped, "the collector's own metrics in Prometheus", timeout=45)
    capacity = prometheus.value(
        f'otelcol_exporter_queue_capacity{{{instance}, exporter="otlp_http/prometheus"}}'
    )
    assert capacity == 100000  # queue_size in otelcol-config.yaml, in data points
    assert prometheus.query(f"otelcol_process_memory_rss{{{instance}}}")


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
def test_both_otlp_receivers_accept_the_app(
    protocol: str,
    collector: Collector,
    prometheus: Prometheus,
    workdir: Path,
    spawn: Callable[[Any], Any],
) -> None:
    instance = new_instance_id()
    app = spawn(
        start_app(
            workdir / "apps",
            collector,
            service_name="e2e-flask",
            instance_id=instance,
            protocol=protocol,
        )
    )
    for item_id in range(5):
        assert app.get(f"/items/{item_id}")[0] == 200
    wait_for_value(prometheus, f"sum({DURATION}_count{selector(instance, ITEMS_ROUTE)})", 5)


@pytest.mark.parametrize("exporter", ["otlp_http/backend", "otlp_grpc/backend"])
def test_fan_out_sends_the_same_data_to_a_second_otlp_backend(
    exporter: str,
    binaries: Binaries,
    prometheus: Prometheus,
    workdir: Path,
    spawn: Callable[[Any], Any],
) -> None:
    """OTELCOL_METRICS_EXPORTERS switches on a backend exporter; here the "any OTLP backend" is a
    second collector (same shipped config) writing into a second Prometheus."""
    root = workdir / "fan-out" / exporter.replace("/", "-")
    prometheus_b = spawn(start_prometheus(binaries, root / "prometheus-b"))
    backend = spawn(start_collector(binaries, root, "backend", prometheus=prometheus_b))
    front = spawn(
        start_collector(
            binaries,
            root,
            "front",
            prometheus=prometheus,
            env={
                "OTELCOL_METRICS_EXPORTERS": f"[otlp_http/prometheus, {exporter}]",
                "OTELCOL_BACKEND_ENDPOINT": backend.http_endpoint,
                "OTELCOL_BACKEND_GRPC_ENDPOINT": backend.grpc_endpoint,
                "OTELCOL_BACKEND_GRPC_INSECURE": "true",
                # Exercises the headers path (a vendor token would go here, from a secret).
                "OTELCOL_BACKEND_HEADERS": "{X-Scope-OrgID: e2e}",
            },
        )
    )
    instance = new_instance_id()
    app = spawn(start_app(root, front, service_name="e2e-flask", instance_id=instance))
    sent = 23
    for item_id in range(sent):
        assert app.get(f"/items/{item_id}")[0] == 200

    count = f"sum({DURATION}_count{selector(instance, ITEMS_ROUTE)})"
    wait_for_value(prometheus, count, sent)
    wait_for_value(prometheus_b, count, sent)
    # The same series, with the same labels, on both sides.
    [(labels_a, _)] = prometheus.query(f"{DURATION}_count{selector(instance, ITEMS_ROUTE)}")
    [(labels_b, _)] = prometheus_b.query(f"{DURATION}_count{selector(instance, ITEMS_ROUTE)}")
    assert labels_a == labels_b
    own = front.own_metrics()
    failed = [k for k, v in own.items() if k.startswith("otelcol_exporter_send_failed") and v]
    assert not failed, failed
    assert sum_samples(own, "otelcol_exporter_sent_metric_points", f'exporter="{exporter}"') > 0
