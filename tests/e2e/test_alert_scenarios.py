"""Each demo scenario fires exactly its alerts, Alertmanager delivers them, and they resolve.

One pipeline per path, with the *fast* rendering of the shipped rules (tools/rules,
profile ``fast``: the same expressions and thresholds, every window and ``for`` shortened,
groups evaluated every second), the shipped prometheus.yml scraping every second, and the
shipped alertmanager.yml with its waits shortened to seconds (routes, receivers and
inhibitions unchanged). One trading demo per case, each with
its own service name, all started together; the scenarios start at the same moment after a
warm-up, and a watcher records every alert Prometheus reports, per service, until every case
has fired and resolved. The timing of each alert (``for``, windows) is proven by the promtool
tests of the default rules, not here.

Both paths run every case: ``otlp`` (the demos push OTLP through the built collector into
Prometheus's OTLP receiver) and ``scrape`` (Prometheus scrapes each demo's /metrics directly,
job otelmetrics with the bearer token from its credentials file; the collector runs only for
its own metrics, which the pipeline rules watch).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from tests.e2e.harness import (
    APPS_JOB,
    PROMETHEUS_DIR,
    REPO,
    Alertmanager,
    Binaries,
    Collector,
    Prometheus,
    WebhookReceiver,
    poll_until,
    set_metrics_token,
    start_alertmanager,
    start_collector,
    start_prometheus,
)
from tests.e2e.trading_demo import Demo, start_demo
from tools.rules.catalog import GROUPS
from tools.rules.profiles import FAST
from tools.rules.prometheus import rule_files

Expected = frozenset[tuple[str, str]]  # (alertname, severity)
PATHS = ("otlp", "scrape")  # how the demos' metrics reach Prometheus


@dataclass(frozen=True)
class Case:
    """A service, what happens to it, and exactly the alerts that must fire for it."""

    name: str
    expected: Expected
    scenario: str | None = None  # a demo scenario, started for ``seconds``
    seconds: float = 0
    traffic: bool = False  # the demo's load generator (HTTP and websocket clients)


CASES = (
    Case(
        "error-burst",
        frozenset(
            {
                ("HttpErrorRateHigh", "warning"),
                ("HttpAvailabilityBudgetBurn", "critical"),
                ("HttpAvailabilityBudgetBurn", "warning"),
            }
        ),
        "error_burst",
        35,
        traffic=True,
    ),
    Case(
        "latency-spike",
        frozenset(
            {
                ("HttpLatencyP99High", "warning"),
                ("HttpLatencyBudgetBurn", "critical"),
                ("HttpLatencyBudgetBurn", "warning"),
            }
        ),
        "latency_spike",
        35,
        traffic=True,
    ),
    Case(
        "breaker-trip",
        frozenset({("CircuitBreakerTripped", "warning"), ("CircuitBreakerOpen", "critical")}),
        "breaker_trip",
        5,
    ),
    Case(
        "feed-disconnect",
        frozenset({("ExchangeFeedDisconnected", "critical")}),
        "feed_disconnect",
        15,
    ),
    Case(
        "order-rejections",
        frozenset({("TradingOrderFailuresHigh", "warning")}),
        "order_rejections",
        25,
    ),
    Case(
        "broker-disconnect",
        frozenset({("BrokerDisconnected", "critical")}),
        "broker_disconnect",
        15,
    ),
    Case(
        "reconnect-storm",
        frozenset({("ExchangeFeedReconnectStorm", "warning")}),
        "reconnect_storm",
        30,
    ),
    Case(
        "auth-failures",
        frozenset({("MetricsApiAuthFailures", "warning")}),
        "auth_failures",
        30,
        traffic=True,  # the load generator's intruder sends the wrong tokens
    ),
    # Not a demo scenario: the test stops the demo, then starts it again (see _act).
    Case("goes-silent", frozenset({("ServiceNoData", "warning")})),
    Case("baseline", frozenset(), traffic=True),
)
SETTLE_SECONDS = 180  # every case fires and resolves well within this


@dataclass
class Seen:
    """One alert (service, name, severity) as Prometheus reported it."""

    first_firing: float | None = None
    resolved: float | None = None
    active: bool = False


@dataclass
class Watcher:
    """Polls Prometheus's /api/v1/alerts and keeps each alert's history, per service."""

    prometheus: Prometheus
    seen: dict[tuple[str, str, str], Seen] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def poll(self) -> None:
        now = time.monotonic()
        active = {}
        for alert in self.prometheus.api("alerts")["alerts"]:
            labels = alert["labels"]
            key = (labels.get("service_name", ""), labels["alertname"], labels["severity"])
            active[key] = alert["state"]
        with self.lock:
            for key, state in active.items():
                seen = self.seen.setdefault(key, Seen())
                if state == "firing" and seen.first_firing is None:
                    seen.first_firing = now
                if state == "firing":
                    seen.active, seen.resolved = True, None
            for key, seen in self.seen.items():
                if seen.active and key not in active:
                    seen.active, seen.resolved = False, now

    def run(self) -> None:
        while not self.stop.wait(0.5):
            try:
                self.poll()
            except Exception:  # noqa: BLE001 - a failed poll is retried; the asserts report
                continue

    def fired(self, service: str) -> dict[tuple[str, str], Seen]:
        with self.lock:
            return {
                (name, severity): seen
                for (svc, name, severity), seen in self.seen.items()
                if svc == service and seen.first_firing is not None
            }


@dataclass
class Stack:
    prometheus: Prometheus
    alertmanager: Alertmanager
    webhook: WebhookReceiver
    watcher: Watcher
    demos: dict[str, Demo]
    started: float  # epoch seconds, for range queries


def service(case: Case) -> str:
    return f"scenario-{case.name}"


def fast_alertmanager_config(path: Path) -> None:
    """alertmanager.yml with waits of seconds: notifications and resolutions arrive at once."""
    config = yaml.safe_load((PROMETHEUS_DIR / "alertmanager.yml").read_text())
    for route in [config["route"], *config["route"]["routes"]]:
        route.update(group_wait="1s", group_interval="2s", repeat_interval="1h")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def fast_prometheus_config(path: Path) -> None:
    """prometheus.yml scraping and evaluating every second (the fast rules' own interval)."""
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    config["global"].update(scrape_interval="1s", scrape_timeout="1s", evaluation_interval="1s")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def fast_rules(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in rule_files(GROUPS, FAST).items():
        (directory / name).write_text(text)


def _done(case: Case, watcher: Watcher) -> bool:
    fired = watcher.fired(service(case))
    return set(fired) >= case.expected and all(not s.active for s in fired.values())


def _act(case: Case, demo: Demo) -> Callable[[Watcher], bool] | None:
    """Start what happens to the case's service; return its follow-up step, if it has one
    (called every second until it returns True)."""
    if case.scenario is not None:
        demo.trigger(case.scenario, case.seconds)
    elif case.name == "goes-silent":
        demo.stop()

        def come_back(watcher: Watcher) -> bool:
            if ("ServiceNoData", "warning") not in watcher.fired(service(case)):
                return False
            demo.restart()
            return True

        return come_back
    return None


def _run_cases(stack: Stack) -> None:
    steps = [step for c in CASES if (step := _act(c, stack.demos[c.name])) is not None]
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        steps = [step for step in steps if not step(stack.watcher)]
        if all(_done(c, stack.watcher) for c in CASES if c.expected):
            break
        time.sleep(1)
    time.sleep(5)  # a little longer: anything unexpected that follows a resolution shows up


def _warm(prometheus: Prometheus, demos: dict[str, Demo]) -> None:
    """Every demo's series in Prometheus, and the fast rules evaluated over them."""

    def ready() -> None:
        services = {labels.get("service_name") for labels, _ in prometheus.query("target_info")}
        assert set(d.service_name for d in demos.values()) <= services, services
        baseline = 'service:http_server_requests:rate5m{service_name="scenario-baseline"}'
        assert prometheus.query(baseline), "the fast rules have not run yet"

    poll_until(ready, "every demo's metrics in Prometheus", timeout=90, interval=1)
    time.sleep(8)  # the longest fast window that startup alerts could need (6 s)


def start_demos(
    path: str, workdir: Path, collector: Collector, prometheus: Prometheus
) -> dict[str, Demo]:
    """One demo per case: pushing to ``collector``, or scraped by ``prometheus`` (path)."""
    token = secrets.token_urlsafe(16)
    push = collector if path == "otlp" else None
    demos: dict[str, Demo] = {}
    try:
        for case in CASES:
            demos[case.name] = start_demo(
                workdir / "demos",
                push,
                service(case),
                traffic=case.traffic,
                wait=False,
                metrics_token=token,
            )
        for demo in demos.values():
            demo.wait_listening()
    except BaseException:
        for demo in demos.values():
            demo.stop()
        raise
    if path == "scrape":
        set_metrics_token(prometheus, token)
        prometheus.set_targets(APPS_JOB, [demo.target for demo in demos.values()])
    return demos


@pytest.fixture(scope="module", params=PATHS)
def stack(
    request: pytest.FixtureRequest, binaries: Binaries, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp(f"alert-scenarios-{request.param}")
    webhook = WebhookReceiver()
    fast_alertmanager_config(workdir / "alertmanager" / "alertmanager.yml")
    alertmanager = start_alertmanager(binaries, workdir / "alertmanager", webhook.url)
    fast_prometheus_config(workdir / "prometheus" / "prometheus.yml")
    fast_rules(workdir / "prometheus" / "rules")
    prometheus = start_prometheus(
        binaries,
        workdir / "prometheus",
        alertmanager_targets=[f"127.0.0.1:{alertmanager.port}"],
    )
    collector = start_collector(binaries, workdir / "collector", "scenarios", prometheus=prometheus)
    prometheus.set_targets("otel-collector", [collector.metrics_target])
    watcher = Watcher(prometheus)
    thread = threading.Thread(target=watcher.run, daemon=True)
    demos: dict[str, Demo] = {}
    try:
        demos = start_demos(request.param, workdir, collector, prometheus)
        thread.start()
        _warm(prometheus, demos)
        started = time.time()
        stack = Stack(prometheus, alertmanager, webhook, watcher, demos, started)
        _run_cases(stack)
        yield stack
    finally:
        watcher.stop.set()
        for demo in demos.values():
            demo.stop()
        collector.stop()
        prometheus.stop()
        alertmanager.stop()
        webhook.close()


def _notifications(webhook: WebhookReceiver, service_name: str) -> set[tuple[str, str, str]]:
    """(alertname, alert status, receiver) of every alert the webhook got for the service."""
    return {
        (alert["labels"]["alertname"], alert["status"], message["receiver"])
        for message in list(webhook.received)
        for alert in message["alerts"]
        if alert["labels"].get("service_name") == service_name
    }


@pytest.mark.parametrize("case", [c for c in CASES if c.expected], ids=lambda c: c.name)
def test_the_scenario_fires_exactly_its_alerts_which_are_delivered_and_resolve(
    stack: Stack, case: Case
) -> None:
    fired = stack.watcher.fired(service(case))
    assert set(fired) == case.expected, f"fired {sorted(fired)}, expected {sorted(case.expected)}"
    still = [key for key, seen in fired.items() if seen.active]
    assert not still, f"still firing after the scenario: {still}"
    received = _notifications(stack.webhook, service(case))
    for name, severity in case.expected:
        receiver = "critical" if severity == "critical" else "webhook"
        # Per alert name: a warning inhibited by its own critical may never be sent on its own.
        assert any(n == name and s == "firing" for n, s, _ in received), (name, received)
        assert any(n == name and s == "resolved" for n, s, _ in received), (name, received)
        if severity == "critical":
            assert (name, "firing", receiver) in received, received


def test_a_quiet_service_fires_nothing(stack: Stack) -> None:
    assert stack.watcher.fired("scenario-baseline") == {}
    assert not _notifications(stack.webhook, "scenario-baseline")


def test_the_pipeline_stayed_healthy(stack: Stack) -> None:
    pipeline = {key for key in stack.watcher.fired("")}
    assert not pipeline, f"pipeline alerts fired: {sorted(pipeline)}"


def test_the_dashboards_alert_annotations_show_the_alerts(stack: Stack) -> None:
    """The Service overview's annotation query returns the error burst's alerts."""
    board = json.loads((REPO / "grafana/dashboards/otelmetrics-service.json").read_text())
    [annotation] = [a for a in board["annotations"]["list"] if a.get("expr")]
    expr = annotation["expr"].replace("$service", "scenario-error-burst")
    data = stack.prometheus.api(
        "query_range",
        query=expr,
        start=str(stack.started),
        end=str(time.time()),
        step="1s",
    )
    names = {series["metric"]["alertname"] for series in data["result"]}
    assert names == {"HttpErrorRateHigh", "HttpAvailabilityBudgetBurn"}, names
