"""/metrics names every series exactly as Prometheus's OTLP receiver does: one app, both paths.

One trading demo (every instrument of ours, with scenarios for the event-only counters) pushes
OTLP every second straight into the built Prometheus's OTLP receiver, with the shipped
prometheus.yml (its ``otlp`` block: translation strategy, promoted resource attributes), and the
same Prometheus scrapes the same process's /metrics every second in job otelmetrics, with the
bearer token from its credentials file. Prometheus then holds every series twice, told apart
only by ``job`` and ``instance``, which Prometheus sets itself on both paths (service name and
instance id from OTLP, the job name and host:port on a scrape: the same label names, other
values). For every series of the service, the set of (metric name, label names) must be the
same on both paths, and so must the identifying labels' values.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator

import pytest

from tests.e2e.harness import (
    APPS_JOB,
    Binaries,
    Prometheus,
    poll_until,
    set_metrics_token,
    start_prometheus,
)
from tests.e2e.test_alert_scenarios import fast_prometheus_config
from tests.e2e.trading_demo import Demo, start_demo
from tools import names

SERVICE = "naming-parity"
# Series Prometheus makes up for every scrape target and never for OTLP: the target's health
# and the scrape's own statistics (https://prometheus.io/docs/concepts/jobs_instances/).
SCRAPE_ONLY = {
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
}
SCENARIOS = {"breaker_trip": 3, "broker_disconnect": 3, "reconnect_storm": 3, "error_burst": 3}
Shape = frozenset[tuple[str, frozenset[str]]]  # (metric name, label names) of every series


@pytest.fixture(scope="module")
def both_paths(
    binaries: Binaries, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Prometheus, Demo, float]]:
    workdir = tmp_path_factory.mktemp("naming-parity")
    fast_prometheus_config(workdir / "prometheus" / "prometheus.yml")
    (workdir / "prometheus" / "rules").mkdir()  # no rules: only what the two paths store
    prometheus = start_prometheus(binaries, workdir / "prometheus")
    token = secrets.token_urlsafe(16)
    set_metrics_token(prometheus, token)
    push = {  # OTLP straight to the receiver, besides /metrics
        "OTEL_METRICS_EXPORTER": "otlp,prometheus",
        "OTEL_EXPORTER_OTLP_ENDPOINT": prometheus.otlp_endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_METRIC_EXPORT_INTERVAL": "1000",
    }
    demo = start_demo(workdir / "demo", None, SERVICE, metrics_token=token, env=push)
    try:
        prometheus.set_targets(APPS_JOB, [demo.target])
        started = time.time()
        for scenario, seconds in SCENARIOS.items():
            demo.trigger(scenario, seconds)
        yield prometheus, demo, started
    finally:
        demo.stop()
        prometheus.stop()


def shape(prometheus: Prometheus, job: str, start: float) -> tuple[Shape, dict[str, set[str]]]:
    """(name, label names) of every series of the service in ``job`` since ``start``, and the
    values of its identifying labels."""
    selector = f'{{{names.SERVICE_NAME}="{SERVICE}", {names.JOB}="{job}"}}'
    series = prometheus.api("series", **{"match[]": selector, "start": str(start)})
    found = frozenset(
        (labels["__name__"], frozenset(labels) - {"__name__"})
        for labels in series
        if labels["__name__"] not in SCRAPE_ONLY
    )
    identity = {
        label: {labels.get(label, "") for labels in series}
        for label in (names.SERVICE_NAME, names.INSTANCE_ID, names.ENV)
    }
    return found, identity


def test_both_paths_give_every_series_the_same_name_and_labels(
    both_paths: tuple[Prometheus, Demo, float],
) -> None:
    prometheus, _, started = both_paths

    def same() -> tuple[Shape, Shape]:
        pushed, pushed_identity = shape(prometheus, SERVICE, started)
        scraped, scraped_identity = shape(prometheus, APPS_JOB, started)
        assert len(pushed) > 60, f"only {len(pushed)} series shapes arrived by OTLP"
        assert pushed == scraped, (
            f"only pushed: {sorted(pushed - scraped)}\nonly scraped: {sorted(scraped - pushed)}"
        )
        assert pushed_identity == scraped_identity
        return pushed, scraped

    pushed, _ = poll_until(same, "the same series shapes on both paths", timeout=60, interval=2)
    pushed_names = {name for name, _ in pushed}
    # The names the issue was about, and the histograms as classic series.
    assert {names.PROCESS_CPU_UTILIZATION, names.PROCESS_MEMORY, names.TARGET_INFO} <= (
        pushed_names
    )
    assert {f"{names.HTTP_DURATION}{s}" for s in ("_bucket", "_count", "_sum")} <= pushed_names
    for name, labels in pushed:
        if name != names.TARGET_INFO:
            assert {names.SERVICE_NAME, names.INSTANCE_ID, names.JOB, names.INSTANCE} <= labels
            # Per-process resource attributes stay on target_info: no label on every series.
            assert not {"process_creation_time", "process_pid", "host_arch"} & labels, name
    [info] = [labels for name, labels in pushed if name == names.TARGET_INFO]
    assert {"process_creation_time", "process_pid", "host_arch"} <= info


def test_the_scrape_needs_the_token(both_paths: tuple[Prometheus, Demo, float]) -> None:
    """The job authenticates with the credentials file; without it /metrics refuses."""
    prometheus, demo, _ = both_paths
    [target] = prometheus.active_targets(APPS_JOB)
    assert target["health"] == "up", target
    assert demo.request("GET", "/metrics", None)[0] == 401  # with a token set, loopback too
    assert demo.request("GET", "/metrics", "not-the-token")[0] == 401
    status, body = demo.request("GET", "/metrics", demo.metrics_token)
    assert status == 200 and f'service_name="{SERVICE}"'.encode() in body
