"""Every dashboard query and every recording rule returns series, on live data from the demo.

One pipeline per path: the built collector (collector/otelcol-config.yaml), Prometheus with
the shipped prometheus.yml and rules (prometheus/rules/*.yml, default windows), and the trading
demo, either exporting OTLP every second through the collector (``otlp``) or scraped directly
at its /metrics by prometheus.yml's job otelmetrics every 15 s (``scrape``; the collector then
only feeds the Pipeline health dashboard with its own metrics). Scenarios run at the start so
the counters that exist only after an event (breaker trips, reconnects, broker failures,
rejected orders, 5xx) exist too, and the API gets requests without a valid token (security
events).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.harness import (
    APPS_JOB,
    REPO,
    Binaries,
    Collector,
    Prometheus,
    poll_until,
    set_metrics_token,
    start_collector,
    start_prometheus,
)
from tests.e2e.trading_demo import Demo, start_demo
from tools import names
from tools.rules.catalog import GROUPS

SERVICE = "live-dashboards"
# Counters that exist only after a failure; a healthy pipeline has none of them.
FAILURE_ONLY = {
    names.OTELCOL_SEND_FAILED: "an exporter failed to send",
    names.OTELCOL_ENQUEUE_FAILED: "a sending queue was full",
    names.OTELCOL_LIMITER_REFUSED: "the memory limiter refused data",
    names.APP_ERRORS: "the app recorded an error through the API's error log",
}
# Outgoing HTTP calls: the demo makes none (its clients are other processes' load), so their
# series, the panels and the recording rules over them are proven by test_http_clients.py and
# the rules' promtool tests, not here.
NOT_IN_THE_DEMO = "http_client_"
# At the start of the module: every event-only counter gets its first events.
SCENARIOS = {
    "breaker_trip": 5,
    "broker_disconnect": 8,
    "reconnect_storm": 8,
    "order_rejections": 6,
    "error_burst": 6,
    "latency_spike": 6,
}
# The collector's throughput counters: on the scrape path no data flows through a collector
# (it runs for its own health metrics only), so they never appear there.
COLLECTOR_FLOW = {
    names.OTELCOL_ACCEPTED: "points the collector received",
    names.OTELCOL_REFUSED: "points the collector refused",
    names.OTELCOL_SENT: "points the collector exported",
    names.OTELCOL_LIMITER_ACCEPTED: "points the memory limiter let through",
}
DASHBOARDS = sorted((REPO / "grafana" / "dashboards").glob("*.json"))


def panel_queries() -> list[tuple[str, str]]:
    """(id, expr) of every target of every panel of every dashboard."""
    queries = []
    for path in DASHBOARDS:
        board: dict[str, Any] = json.loads(path.read_text())
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                if NOT_IN_THE_DEMO in target["expr"]:
                    continue
                queries.append((f"{path.stem}/{panel['title']}/{target['refId']}", target["expr"]))
    return queries


def substitute(expr: str) -> str:
    """The dashboard variables as Grafana fills them: this service, everything else All."""
    values = {"$__rate_interval": "1m", "$service": SERVICE}
    for variable, value in values.items():
        expr = expr.replace(variable, value)
    for variable in ("$instance", "$route", "$pair"):
        expr = expr.replace(variable, ".*")  # the variables' "All" value
    assert "$" not in expr.replace('"$1"', ""), f"unsubstituted variable in {expr}"
    return expr


@pytest.fixture(scope="module", params=("otlp", "scrape"))
def pipeline(
    request: pytest.FixtureRequest, binaries: Binaries, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Prometheus, Collector, Demo]]:
    workdir = tmp_path_factory.mktemp(f"dashboards-live-{request.param}")
    prometheus = start_prometheus(binaries, workdir / "prometheus")
    collector = start_collector(binaries, workdir / "collector", "live", prometheus=prometheus)
    prometheus.set_targets("otel-collector", [collector.metrics_target])
    token = secrets.token_urlsafe(16)
    push = collector if request.param == "otlp" else None
    demo = start_demo(workdir / "demo", push, SERVICE, metrics_token=token)
    if request.param == "scrape":
        set_metrics_token(prometheus, token)
        prometheus.set_targets(APPS_JOB, [demo.target])
    try:
        for scenario, seconds in SCENARIOS.items():
            demo.trigger(scenario, seconds)
        for path in ("/api/metrics/current", "/api/demo/scenarios"):  # 401s: security events
            assert demo.request("GET", path, None)[0] == 401
            assert demo.request("GET", path, "not-the-token")[0] == 401
        yield prometheus, collector, demo
    finally:
        demo.stop()
        collector.stop()
        prometheus.stop()


@pytest.fixture
def path(request: pytest.FixtureRequest) -> str:
    """How the demo's metrics reach Prometheus in this test: ``otlp`` or ``scrape``."""
    return str(request.node.callspec.params["pipeline"])


def _wait_for(prometheus: Prometheus, expr: str, what: str) -> list[tuple[dict[str, str], float]]:
    def some_series() -> list[tuple[dict[str, str], float]]:
        result = prometheus.query(expr)
        assert result, f"{expr} returned no series"
        return result

    # Rules are evaluated every 15 s (prometheus.yml); the demo needs a few seconds per event.
    return poll_until(some_series, what, timeout=90, interval=1)


def test_every_series_name_the_rules_and_dashboards_read_is_in_prometheus(
    pipeline: tuple[Prometheus, Collector, Demo], path: str
) -> None:
    prometheus, _, _ = pipeline
    wanted = {name for name in names.EXPORTED - set(FAILURE_ONLY) if NOT_IN_THE_DEMO not in name}
    if path == "scrape":
        wanted -= set(COLLECTOR_FLOW)

    def all_present() -> None:
        present = set(prometheus.api("label/__name__/values"))
        assert not wanted - present, f"missing: {sorted(wanted - present)}"

    poll_until(all_present, "every name of tools/names.py in Prometheus", timeout=90)


@pytest.mark.parametrize(("where", "expr"), panel_queries(), ids=[q[0] for q in panel_queries()])
def test_every_dashboard_query_returns_series(
    pipeline: tuple[Prometheus, Collector, Demo], path: str, where: str, expr: str
) -> None:
    prometheus, _, _ = pipeline
    if path == "scrape" and any(name in expr for name in COLLECTOR_FLOW):
        # Nothing flows through a collector on the scrape path: the query runs (valid PromQL on
        # this Prometheus) and shows no data passing through one.
        found = prometheus.query(substitute(expr))
        assert all(value == 0 for _, value in found), (where, found)
        return
    _wait_for(prometheus, substitute(expr), f"{where} to return series")


RECORDS = sorted(
    {
        rule.record
        for group in GROUPS
        for rule in group.recordings
        if NOT_IN_THE_DEMO not in rule.record
    }
)


@pytest.mark.parametrize("record", RECORDS)
def test_every_recording_rule_returns_series(
    pipeline: tuple[Prometheus, Collector, Demo], record: str
) -> None:
    prometheus, _, _ = pipeline
    series = _wait_for(prometheus, record, f"recording rule {record} to return series")
    if record.startswith(("service", "kraken", "circuit")):
        assert any(labels.get("service_name") == SERVICE for labels, _ in series), series


def test_seed_003_names_read_like_the_seed(pipeline: tuple[Prometheus, Collector, Demo]) -> None:
    prometheus, _, _ = pipeline
    latency = _wait_for(prometheus, 'kraken_ws_latency_p50_ms{pair="BTC-USD"}', "p50 in ms")
    # One series per venue the demo's feeds connect to, each a latency in milliseconds.
    assert {labels["exchange_pair"] for labels, _ in latency} == {"BTC-USD"}, latency
    assert all(0 < value < 5000 for _, value in latency), latency
    assert "kraken" in {labels["exchange_venue"] for labels, _ in latency}
    # Exported by the instruments themselves, not by a rule: one source per series name.
    [(state, _)] = _wait_for(prometheus, "circuit_breaker_state", "the breaker state")
    assert state["service_instance_id"] and state["circuit_breaker_name"] == "kraken-api"
    minute = _wait_for(prometheus, "kraken_trades_per_minute", "trades per minute")
    assert minute[0][1] > 0
