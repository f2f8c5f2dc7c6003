"""The scale-out profile under faults: two apps -> agent -> 2 gateways -> 3 receivers (RF 2).

One pipeline for the module (tests/e2e/store.py: the shipped collector files, Thanos with the
flags of docker-compose.scale.yml, the shipped rules in their fast rendering on Thanos Ruler,
the shipped alertmanager.yml with short waits), and the trading demo exporting into it from
the start, with the scenarios that create every event-only series and one that fires an alert.

The fault test runs two Flask apps under steady load and, in this order: kills (SIGKILL) a
gateway that carries the apps' data, 30 s later kills the ingesting receiver that holds most of
their series (the gateway stays down), 30 s later starts both again. Then, read through
Thanos Query only: every request is counted exactly once, no series misses an export, and each
series is stored on two receivers.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.e2e.harness import (
    App,
    Binaries,
    Collector,
    Prometheus,
    WebhookReceiver,
    poll_until,
    start_app,
    sum_samples,
)
from tests.e2e.store import Pipeline, Thanos, start_pipeline, thanos_binary
from tests.e2e.test_dashboards_live import (
    FAILURE_ONLY,
    NOT_IN_THE_DEMO,
    RECORDS,
    SCENARIOS,
    panel_queries,
)
from tests.e2e.trading_demo import Demo, start_demo
from tools import names

SERVICE = "scale-out-demo"
OUTAGE_SECONDS = 30  # each fault, as the issue asks
EXPORT_SECONDS = 2.0  # the fault apps' OTEL_METRIC_EXPORT_INTERVAL
DURATION_COUNT = "http_server_request_duration_seconds_count"
ALERT = "ExchangeFeedDisconnected"  # fired by the demo's feed_disconnect scenario


@dataclass
class Stack:
    pipeline: Pipeline
    demo: Demo
    webhook: WebhookReceiver
    apps: list[App]
    app_gateway: Collector  # a gateway the fault apps' data goes through

    @property
    def api(self) -> Prometheus:
        return self.pipeline.store.api


def start_fault_apps(pipeline: Pipeline, workdir: Path) -> list[App]:
    run = uuid.uuid4().hex[:6]
    apps = [
        start_app(
            workdir,
            pipeline.agent,
            service_name=f"e2e-scale-{n}",
            instance_id=f"scale-{run}-{n}",
            export_interval_ms=int(EXPORT_SECONDS * 1000),
        )
        for n in (1, 2)
    ]
    pipeline.extra.extend(apps)
    for app in apps:  # otelmetrics configures itself, and starts exporting, on first use
        assert app.get("/items/0")[0] == 200
    return apps


def gateway_carrying_the_apps(gateways: list[Collector]) -> Collector:
    """While only the fault apps export: a gateway that got their data (routing by resource
    decides which; both apps may share one)."""

    def accepted(gateway: Collector) -> float:
        return sum_samples(gateway.own_metrics(), "otelcol_receiver_accepted_metric_points")

    counts = {accepted(g): g for g in gateways}
    assert max(counts) > 0, f"no gateway got the apps' data yet: {sorted(counts)}"
    return counts[max(counts)]


@pytest.fixture(scope="module")
def stack(binaries: Binaries, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("scale-out")
    webhook = WebhookReceiver()
    pipeline = start_pipeline(binaries, thanos_binary(), workdir, webhook.url)
    try:
        apps = start_fault_apps(pipeline, workdir / "apps")
        # Before the demo starts, so the counts are the apps' alone.
        gateway = poll_until(
            lambda: gateway_carrying_the_apps(pipeline.gateways), "the apps' gateway", timeout=30
        )
        demo = start_demo(workdir / "demo", pipeline.agent, SERVICE)
        pipeline.extra.append(demo)
        for scenario, seconds in {**SCENARIOS, "feed_disconnect": 10}.items():
            demo.trigger(scenario, seconds)
        for path in ("/api/metrics/current", "/api/demo/scenarios"):  # security events
            assert demo.request("GET", path, "not-the-token")[0] == 401
        yield Stack(pipeline, demo, webhook, apps, gateway)
    finally:
        pipeline.stop()
        webhook.close()


# --- load --------------------------------------------------------------------------------------


@dataclass
class SteadyLoad:
    """GET requests to each app from its own thread at a steady pace; statuses recorded."""

    apps: list[App]
    per_second: float = 10.0
    statuses: dict[str, list[int]] = field(default_factory=dict)
    stopping: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    def run(self, app: App) -> None:
        statuses = self.statuses.setdefault(app.instance_id, [])
        item = 0
        while not self.stopping.wait(1 / self.per_second):
            statuses.append(app.get(f"/items/{item}")[0])
            item += 1

    def __enter__(self) -> SteadyLoad:
        for app in self.apps:
            self.statuses[app.instance_id] = []
            self.threads.append(threading.Thread(target=self.run, args=(app,), daemon=True))
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=30)


def receiver_holding_most(stack: Stack, selector: str) -> Thanos:
    """The ingestor with the most replicas of the series of ``selector``."""
    by_replica = f"count by (receive_replica) ({selector})"
    counts = stack.api.api("query", query=by_replica, dedup="false")["result"]
    replica = max(counts, key=lambda item: float(item["value"][1]))["metric"]["receive_replica"]
    return stack.pipeline.store.ingestors[int(replica) - 1]


def run_faults(stack: Stack, selector: str) -> tuple[float, float]:
    """The apps' gateway down for 30 s, then also a receiver for 30 s, then both back.
    Returns the epoch window of the faults."""
    time.sleep(2 * EXPORT_SECONDS + 2)
    started = time.time()
    gateway, receiver = stack.app_gateway, receiver_holding_most(stack, selector)
    gateway.kill()
    time.sleep(OUTAGE_SECONDS)
    receiver.kill()
    time.sleep(OUTAGE_SECONDS)
    gateway.start()
    receiver.start()
    time.sleep(3 * EXPORT_SECONDS)
    return started, time.time()


# --- reading back through Thanos Query ---------------------------------------------------------


def raw_samples(api: Prometheus, selector: str, start: float, end: float) -> dict[str, list[float]]:
    """Deduplicated raw sample timestamps per series of ``selector`` between start and end."""
    seconds = int(end - start) + 1
    data = api.api("query", query=f"{selector}[{seconds}s]", time=f"{end:.3f}")
    assert data["resultType"] == "matrix", data
    return {
        json.dumps(item["metric"], sort_keys=True): [float(t) for t, _ in item["values"]]
        for item in data["result"]
    }


def largest_gap(series: dict[str, list[float]]) -> tuple[float, str]:
    gaps = [(b - a, name) for name, times in series.items() for a, b in itertools.pairwise(times)]
    return max(gaps) if gaps else (0.0, "")


def test_faults_lose_nothing_and_count_nothing_twice(stack: Stack) -> None:
    instances = "|".join(app.instance_id for app in stack.apps)
    selector = f'{{service_instance_id=~"{instances}"}}'
    with SteadyLoad(stack.apps) as load:
        started, ended = run_faults(stack, selector)
    # Every request each app answered: the load's and the one that woke it up.
    sent = {instance: len(statuses) + 1 for instance, statuses in load.statuses.items()}
    assert all(s == 200 for statuses in load.statuses.values() for s in statuses)
    assert all(count > OUTAGE_SECONDS * 2 * 5 for count in sent.values()), sent
    api = stack.api

    def totals_match() -> None:
        for instance, count in sent.items():
            value = api.value(f'sum({DURATION_COUNT}{{service_instance_id="{instance}"}})')
            assert value == count, f"{instance}: {value} counted, {count} sent"

    # The agent retries the dead gateway's share with backoff (up to 30 s between tries).
    poll_until(totals_match, "Thanos Query to count every request once", timeout=120)

    def no_missing_export() -> tuple[float, str]:
        gap, name = largest_gap(raw_samples(api, selector, started, ended))
        # Samples are one export interval apart plus the export's own time; one missing
        # export makes two intervals.
        assert gap < 1.5 * EXPORT_SECONDS, f"{gap:.1f}s without a sample in {name}"
        return gap, name

    poll_until(no_missing_export, "every export of every series in the store", timeout=90)
    # The restarted receiver rejoins once gRPC reconnects to it (with backoff).
    poll_until(lambda: replicated_exactly_twice(api, sent), "two copies again", timeout=90)
    nothing_failed_on_the_way(stack.pipeline)


def replicated_exactly_twice(api: Prometheus, sent: dict[str, int]) -> None:
    """Without deduplication every series is there twice (replication factor 2), and only
    the replica label tells the copies apart: deduplication is what makes the totals exact."""
    for instance, count in sent.items():
        expr = f'sum({DURATION_COUNT}{{service_instance_id="{instance}"}})'
        raw = api.api("query", query=expr, dedup="false")["result"]
        assert float(raw[0]["value"][1]) == 2 * count, (instance, raw, count)
        series = f'{DURATION_COUNT}{{service_instance_id="{instance}"}}'
        by_replica = f"count by (receive_replica) ({series})"
        replicas = api.api("query", query=by_replica, dedup="false")["result"]
        assert len(replicas) >= 2, replicas


def nothing_failed_on_the_way(pipeline: Pipeline) -> None:
    """No collector gave up on a point, and no receiver refused one as a conflict (409)."""
    for collector in (pipeline.agent, *pipeline.gateways):
        own = collector.own_metrics()
        failed = sum_samples(own, "otelcol_exporter_send_failed_metric_points")
        assert failed == 0, f"{collector.process.name} gave up on {failed} points"
    conflicts = pipeline.store.api.query(
        'sum(http_requests_total{job="thanos", handler="otlp", code="409"})'
    )
    assert not conflicts or conflicts[0][1] == 0, conflicts


# --- rules, dashboards and alerts through the query layer --------------------------------------


def wait_for_series(api: Prometheus, expr: str, what: str) -> list[tuple[dict[str, str], float]]:
    def some_series() -> list[tuple[dict[str, str], float]]:
        result = api.query(expr)
        assert result, f"{expr} returned no series"
        return result

    return poll_until(some_series, what, timeout=90, interval=1)


def substitute(expr: str) -> str:
    """Grafana's variables: this demo's service, everything else All."""
    values = {"$__rate_interval": "1m", "$service": SERVICE}
    for variable, value in values.items():
        expr = expr.replace(variable, value)
    for variable in ("$instance", "$route", "$pair"):
        expr = expr.replace(variable, ".*")
    return expr


def test_every_series_name_the_rules_and_dashboards_read_is_in_the_store(stack: Stack) -> None:
    wanted = {name for name in names.EXPORTED - set(FAILURE_ONLY) if NOT_IN_THE_DEMO not in name}

    def all_present() -> None:
        present = set(stack.api.api("label/__name__/values"))
        assert not wanted - present, f"missing: {sorted(wanted - present)}"

    poll_until(all_present, "every name of tools/names.py in Thanos Query", timeout=90)


@pytest.mark.parametrize(("where", "expr"), panel_queries(), ids=[q[0] for q in panel_queries()])
def test_every_dashboard_query_returns_series_through_query(
    stack: Stack, where: str, expr: str
) -> None:
    wait_for_series(stack.api, substitute(expr), f"{where} to return series")


@pytest.mark.parametrize("record", RECORDS)
def test_every_recording_rule_returns_series_through_query(stack: Stack, record: str) -> None:
    wait_for_series(stack.api, record, f"recording rule {record} from Thanos Ruler")


def test_a_scenario_alert_fires_through_the_ruler_and_alertmanager_and_resolves(
    stack: Stack,
) -> None:
    def notified(status: str) -> None:
        for message in stack.webhook.received:
            for alert in message["alerts"]:
                labels = alert["labels"]
                if (labels["alertname"], labels.get("service_name"), alert["status"]) == (
                    ALERT,
                    SERVICE,
                    status,
                ):
                    assert "rule_replica" not in labels, labels  # dropped for HA pairs
                    return
        raise AssertionError(f"no {status} {ALERT} for {SERVICE} at the webhook yet")

    poll_until(lambda: notified("firing"), f"{ALERT} to fire", timeout=90, interval=1)
    poll_until(lambda: notified("resolved"), f"{ALERT} to resolve", timeout=90, interval=1)
