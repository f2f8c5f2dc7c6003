"""The trading demo: the seeded simulation, each scenario's signal on the instruments, the
scenario endpoint's auth, the CLI flags, and a headless run of the real demo process after
which every metric in the metric tables of the docs has a data point on its ``/metrics``."""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from flask import Flask
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

import otelmetrics
from otelmetrics.cli import demo_options
from otelmetrics.demo.control import Control
from otelmetrics.demo.dashboard import create_dashboard
from otelmetrics.demo.faults import HttpFaults
from otelmetrics.demo.options import DemoOptions, ScheduledScenario
from otelmetrics.demo.scenarios import SCENARIOS, Scenarios, UnknownScenario
from otelmetrics.demo.simulation import BREAKER_NAME, Driver, Simulation
from otelmetrics.demo.trading_api import create_api
from otelmetrics.pipeline.naming import metric_name
from otelmetrics.settings import Settings
from otelmetrics.socketio import uninstrument_socketio
from tests.integration.processes import PYTHON, ROOT, kill_with_tracebacks, start

ORDERS = "trading.orders"
STATUS = "trading.order.status"
KRAKEN = {"exchange.venue": "kraken"}


def total(metrics, name: str, attributes: dict[str, Any] | None = None) -> float:
    """Sum of the values (counters, gauges) or counts (histograms) of the matching points."""
    points = metrics.points(name, **(attributes or {}))
    return sum(p.count if hasattr(p, "bucket_counts") else p.value for p in points)


def failed_orders(metrics) -> float:
    return sum(total(metrics, ORDERS, {STATUS: s}) for s in ("rejected", "failed"))


def above(point, seconds: float) -> int:
    """Observations of a histogram point above ``seconds`` (a bucket bound)."""
    index = list(point.explicit_bounds).index(seconds)
    return sum(point.bucket_counts[index + 1 :])


# -- the seeded simulation -------------------------------------------------------------------


def test_the_same_seed_gives_the_same_orders_and_pnl_and_another_seed_does_not(metrics):
    reader = InMemoryMetricReader()
    other = otelmetrics.configure(exporters=("none",), metric_readers=[reader], set_global=False)
    try:
        first = Simulation(metrics.handle.trading, seed=42)
        second = Simulation(other.trading, seed=42)
        for sim in (first, second):
            sim.run(3000)  # five simulated minutes
        data = reader.get_metrics_data()
        third = Simulation(other.trading, seed=43)
        third.run(3000)
    finally:
        other.shutdown()
    assert len(first.engine.ledger) > 50
    assert first.engine.ledger == second.engine.ledger
    assert first.engine.realized == second.engine.realized != 0
    assert third.engine.ledger != first.engine.ledger
    # The instruments saw the same: the orders counter point by point, the P&L sum.
    theirs = {
        metric.name: metric.data.data_points
        for group in data.resource_metrics
        for scope in group.scope_metrics
        for metric in scope.metrics
    }
    mine = {(frozenset(p.attributes.items()), p.value) for p in metrics.points(ORDERS)}
    assert mine == {(frozenset(p.attributes.items()), p.value) for p in theirs[ORDERS]}
    realized = sum(p.sum for p in metrics.points("trading.trade.pnl"))
    assert realized == pytest.approx(first.engine.realized)
    assert realized == pytest.approx(sum(p.sum for p in theirs["trading.trade.pnl"]))


def test_orders_from_the_api_leave_the_seeded_market_and_strategy_unchanged(metrics):
    quiet, busy = (Simulation(metrics.handle.trading, seed=42) for _ in range(2))
    for step in range(1200):
        if step % 37 == 0:  # the load generator's POST /v1/orders, whenever they arrive
            busy.engine.submit_manual("ETH-USD", "buy", 0.01)
        for sim in (quiet, busy):
            sim.step()
    assert len(busy.engine.ledger) > len(quiet.engine.ledger)
    assert busy.market.quotes == quiet.market.quotes
    assert busy.engine.realized == quiet.engine.realized != 0
    strategy = [o for o in busy.engine.ledger if o.quantity != 0.01]
    assert strategy == list(quiet.engine.ledger)


def test_the_driver_catches_up_with_elapsed_time_in_whole_steps(metrics):
    sim = Simulation(metrics.handle.trading, seed=1)
    driver = Driver(sim, threading.Event())
    driver.catch_up(2.0)
    assert (sim.steps, sim.now) == (20, 2.0)
    driver.catch_up(2.05)  # not a whole step yet
    assert sim.steps == 20


def test_a_quiet_simulated_hour_trades_without_alert_signals(metrics):
    sim = Simulation(metrics.handle.trading, seed=9)
    sim.run_until(3600)
    assert total(metrics, "trading.trades") > 500
    assert total(metrics, "circuit_breaker.trips") == 0
    assert total(metrics, "exchange.feed.reconnects") == 0
    assert total(metrics, "trading.broker.connection.failures") == 0
    assert total(metrics, "trading.positions.open") <= 3
    assert total(metrics, "exchange.feed.events", {"exchange.event.type": "ohlc"}) > 0
    unfilled = [o.time for o in sim.engine.ledger if o.status != "filled"]
    assert 0 < len(unfilled) == failed_orders(metrics)
    worst = max(sum(t <= u < t + 300 for u in unfilled) for t in unfilled)
    assert worst < 5  # "more than 10 failed orders" never fires without a scenario


# -- scenarios on the instruments ------------------------------------------------------------


def test_breaker_trip_opens_half_opens_and_closes_the_breaker_with_one_trip(metrics):
    sim = Simulation(metrics.handle.trading, seed=3)
    sim.run_until(5.0)
    state = {"circuit_breaker.name": BREAKER_NAME}
    assert total(metrics, "circuit_breaker.state", state) == 0
    sim.scenarios.trigger("breaker_trip", sim.now)
    sim.run_until(8.0)
    assert total(metrics, "circuit_breaker.state", state) == 1  # open after 5 failed calls
    assert total(metrics, "circuit_breaker.trips", state) == 1
    sim.run_until(18.0)
    assert total(metrics, "circuit_breaker.state", state) == 2  # half-open 10 s later
    sim.run_until(28.0)
    assert total(metrics, "circuit_breaker.state", state) == 0  # closed after 10 s of probes
    assert total(metrics, "circuit_breaker.trips", state) == 1
    assert sim.breaker.history == [(7.5, "open"), (17.5, "half_open"), (27.5, "closed")]
    assert not [o for o in sim.engine.ledger if 7.5 < o.time < 17.5]  # no trading while open


def test_feed_disconnect_drops_the_feed_then_reconnects_once(metrics):
    events = metrics.handle.events
    sim = Simulation(metrics.handle.trading, seed=5, errors=events.record_error)
    sim.run_until(5.0)
    received = total(metrics, "exchange.feed.latency", KRAKEN)
    sim.scenarios.trigger("feed_disconnect", sim.now, 10.0)
    sim.run_until(14.0)
    assert total(metrics, "exchange.feed.connection.status", KRAKEN) == 0
    assert total(metrics, "exchange.feed.connection.status", {"exchange.venue": "coinbase"}) == 1
    assert total(metrics, "exchange.feed.latency", KRAKEN) == received  # nothing arrives
    assert total(metrics, "exchange.feed.reconnects") == 0
    sim.run_until(16.0)
    assert total(metrics, "exchange.feed.connection.status", KRAKEN) == 1
    assert total(metrics, "exchange.feed.reconnects", KRAKEN) == 1
    assert total(metrics, "exchange.feed.latency", KRAKEN) > received
    assert total(metrics, "app.errors", {"otelmetrics.error.scope": "feed"}) == 1
    assert events.errors()["last_errors"][-1]["message"] == "kraken feed disconnected"


def test_reconnect_storm_reconnects_the_feed_every_three_seconds(metrics):
    sim = Simulation(metrics.handle.trading, seed=5)
    sim.scenarios.trigger("reconnect_storm", sim.now, 30.0)
    sim.run_until(31.0)
    assert total(metrics, "exchange.feed.reconnects", KRAKEN) == 10
    assert total(metrics, "exchange.feed.connection.status", KRAKEN) == 1


def test_order_rejections_reject_more_than_ten_orders_then_trading_recovers(metrics):
    sim = Simulation(metrics.handle.trading, seed=7)
    sim.run_until(5.0)
    failed, filled = failed_orders(metrics), total(metrics, ORDERS, {STATUS: "filled"})
    sim.scenarios.trigger("order_rejections", sim.now, 30.0)
    sim.run_until(34.9)
    assert failed_orders(metrics) - failed > 10
    assert total(metrics, ORDERS, {STATUS: "failed"}) > 0  # timeouts as well as rejections
    assert total(metrics, ORDERS, {STATUS: "filled"}) == filled
    sim.run_until(35.0)  # the window is over: the venue fills again
    failed, filled = failed_orders(metrics), total(metrics, ORDERS, {STATUS: "filled"})
    sim.run_until(95.0)
    assert failed_orders(metrics) - failed <= 2
    assert total(metrics, ORDERS, {STATUS: "filled"}) - filled > 10


def test_broker_disconnect_fails_each_reconnect_attempt_then_reconnects(metrics):
    sim = Simulation(metrics.handle.trading, seed=2)
    sim.run_until(5.0)
    broker = {"trading.venue": "kraken"}
    assert total(metrics, "trading.broker.connection.status", broker) == 1
    orders = len(sim.engine.ledger)
    sim.scenarios.trigger("broker_disconnect", sim.now, 10.0)
    sim.run_until(14.0)
    assert total(metrics, "trading.broker.connection.status", broker) == 0
    assert len(sim.engine.ledger) == orders  # nothing is sent to a broker that is down
    sim.run_until(15.5)
    assert total(metrics, "trading.broker.connection.status", broker) == 1
    assert total(metrics, "trading.broker.connection.failures", broker) == 2  # drop + 1 retry


# -- scenarios on the two apps ---------------------------------------------------------------


@dataclass
class Demo:
    sim: Simulation
    dashboard: Flask
    socketio: Any
    api: FastAPI
    read: str
    admin: str


@pytest.fixture
def demo(metrics):
    read, admin = secrets.token_urlsafe(), secrets.token_urlsafe()
    settings = Settings.from_env(environ={}, api_token=read, api_admin_token=admin)
    sim = Simulation(metrics.handle.trading, seed=11)
    faults = HttpFaults(sim.scenarios, lambda: sim.now, spike_seconds=1.1)
    events = metrics.handle.events

    def denied(status, client, path, presented):
        events.record_denial(status, client=client, path=path, token_presented=presented)

    control = Control(settings, sim.scenarios, lambda: sim.now, on_denied=denied)
    dashboard, socketio = create_dashboard(sim, faults, control, metrics.handle)
    api = create_api(sim, faults, control, metrics.handle, tick_seconds=0.02)
    yield Demo(sim, dashboard, socketio, api, read, admin)
    uninstrument_socketio(socketio)


def test_error_burst_fails_every_second_request_of_both_apps_until_it_ends(metrics, demo):
    demo.sim.scenarios.trigger("error_burst", demo.sim.now, 10.0)
    flask = demo.dashboard.test_client()
    with TestClient(demo.api) as client:
        during = [flask.get("/api/prices").status_code for _ in range(10)]
        during += [client.get("/v1/prices/ETH-USD").status_code for _ in range(10)]
        demo.sim.run_until(demo.sim.now + 10.0)
        after = [flask.get("/api/portfolio").status_code, client.get("/v1/portfolio").status_code]
    assert during.count(500) == 10 and during.count(200) == 10
    assert metrics.count(http_response_status_code=500) == 10  # a 50 % error ratio
    assert metrics.count(http_route="/api/prices", http_response_status_code=500) == 5
    assert after == [200, 200]


def test_latency_spike_makes_every_fourth_request_slower_than_a_second(metrics, demo):
    demo.sim.scenarios.trigger("latency_spike", demo.sim.now, 10.0)
    flask = demo.dashboard.test_client()
    with TestClient(demo.api) as client:
        for _ in range(4):
            assert flask.get("/api/prices").status_code == 200
        for _ in range(4):
            assert client.get("/v1/prices/BTC-USD").status_code == 200
    duration = "http.server.request.duration"
    for route in ("/api/prices", "/v1/prices/{pair}"):
        [point] = metrics.points(duration, http_route=route)
        assert (point.count, above(point, 1.0)) == (4, 1)  # 25 % above 1 s: p95 and p99 too


@pytest.mark.parametrize("app", ["flask", "fastapi"])
def test_the_scenario_endpoint_is_admin_only_like_the_json_api(metrics, demo, app):
    def call(method: str, path: str, token: str | None = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if app == "flask":
            response = demo.dashboard.test_client().open(path, method=method, headers=headers)
            return response.status_code, response.get_json()
        with TestClient(demo.api) as client:
            answer = client.request(method, path, headers=headers)
            return answer.status_code, answer.json()

    path = "/api/demo/scenarios"
    assert call("POST", f"{path}/error_burst") == (401, {"error": "Authentication required"})
    assert call("POST", f"{path}/error_burst", secrets.token_urlsafe())[0] == 401
    assert call("POST", f"{path}/error_burst", demo.read) == (403, {"error": "Admin role required"})
    assert call("POST", f"{path}/nope", demo.read)[0] == 403  # no name guessing without admin
    assert call("POST", f"{path}/nope", demo.admin)[0] == 404
    assert call("POST", f"{path}/error_burst?duration=-1", demo.admin)[0] == 400
    assert call("POST", f"{path}/error_burst?duration=x", demo.admin)[0] == 400
    assert not demo.sim.scenarios.active("error_burst", demo.sim.now)
    status, body = call("POST", f"{path}/order_rejections?duration=20", demo.admin)
    assert (status, body["scenario"], body["end"] - body["start"]) == (202, "order_rejections", 20)
    assert demo.sim.scenarios.active("order_rejections", demo.sim.now)
    assert call("GET", path)[0] == 401
    status, body = call("GET", path, demo.read)
    assert status == 200
    assert [s["name"] for s in body["scenarios"] if s["active"]] == ["order_rejections"]
    security = "otelmetrics.api.security_events"
    kinds = {p.attributes["otelmetrics.security.event"]: p.value for p in metrics.points(security)}
    assert kinds == {"auth_failure": 2, "invalid_token": 1, "forbidden": 2}


def test_the_websocket_price_feed_streams_quotes_and_answers_pings(metrics, demo):
    with TestClient(demo.api) as client:
        with client.websocket_connect("/ws/prices/SOL-USD") as websocket:
            assert websocket.receive_json()["pair"] == "SOL-USD"
            websocket.send_text("ping")
            replies = [websocket.receive_text()]
            while replies[-1] != "pong" and len(replies) < 50:  # quotes until the answer
                replies.append(websocket.receive_text())
            assert replies[-1] == "pong"
        with pytest.raises(WebSocketDisconnect):
            with client.websocket_connect("/ws/prices/DOGE-USD") as websocket:
                websocket.receive_json()
    route = {"websocket.route": "/ws/prices/{pair}"}
    assert total(metrics, "websocket.server.active_connections", route) == 0
    assert total(metrics, "websocket.server.connection.duration", route) == 1
    assert total(metrics, "websocket.server.messages.received", route) == 1
    assert total(metrics, "websocket.server.messages.sent", route) >= 1 + len(replies)


def test_socketio_clients_subscribe_to_a_pair(metrics, demo):
    client = demo.socketio.test_client(demo.dashboard)
    client.emit("subscribe", {"pair": "BTC-USD"})
    client.emit("subscribe", {"pair": "XRP-USD"})
    received = client.get_received()
    assert [m["args"][0]["pair"] for m in received if m["name"] == "price_update"] == ["BTC-USD"]
    assert [m["name"] for m in received if m["name"] == "error"] == ["error"]
    namespace = {"websocket.route": "/"}
    assert total(metrics, "websocket.server.active_connections", namespace) == 1
    client.disconnect()
    assert total(metrics, "websocket.server.active_connections", namespace) == 0
    events = {"websocket.route": "/", "websocket.event": "subscribe"}
    assert total(metrics, "websocket.server.messages.received", events) == 2


def test_api_orders_are_queued_for_the_next_engine_cycle(demo):
    with TestClient(demo.api) as client:
        order = {"pair": "ETH-USD", "side": "sell", "quantity": 0.25}
        assert client.post("/v1/orders", json=order).status_code == 202
        assert client.post("/v1/orders", json={**order, "side": "hold"}).status_code == 422
        assert client.post("/v1/orders", json={**order, "pair": "X-Y"}).status_code == 404
    demo.sim.run(5)  # one engine cycle
    manual = [o for o in demo.sim.engine.ledger if o.order_type == "limit" and o.quantity == 0.25]
    assert [(o.symbol, o.side) for o in manual] == [("ETH-USD", "sell")]


def test_users_from_the_x_user_id_header_are_counted(metrics, demo):
    flask = demo.dashboard.test_client()
    for user in ("trader-1", "trader-2", "trader-1"):
        flask.get("/api/prices", headers={"X-User-Id": user})
    with TestClient(demo.api) as client:
        client.get("/v1/portfolio", headers={"X-User-Id": "trader-3"})
    assert total(metrics, "app.users.active") == 3


def test_closing_the_service_stops_the_socketio_background_tasks(metrics):
    import socketio

    from otelmetrics.demo.app import DemoService

    def service_tasks() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name.endswith("(_service_task)")}

    before = service_tasks()
    service = DemoService(metrics.handle, Scenarios(), seed=1, host="127.0.0.1")
    try:
        service.start(0, 0, traffic=False)
        client = socketio.Client(reconnection=False)
        client.connect(service.dashboard_url, transports=["polling"], wait_timeout=5)
        client.disconnect()
        assert service_tasks() - before  # Engine.IO's client monitor runs
    finally:
        service.close()
    assert not service_tasks() - before


# -- the scenario board and the CLI ----------------------------------------------------------


def test_scenarios_are_bounded_scheduled_and_validated():
    board = Scenarios()
    board.schedule("feed_disconnect", at=30.0, duration=5.0)
    assert board.due(29.9) == [] and not board.active("feed_disconnect", 30.0)
    [window] = board.due(30.0)
    assert (window.start, window.end) == (30.0, 35.0)
    assert board.active("feed_disconnect", 34.9) and not board.active("feed_disconnect", 35.0)
    window = board.trigger("error_burst", now=3.0)
    assert window.end == 3.0 + SCENARIOS["error_burst"].duration
    with pytest.raises(UnknownScenario, match="use one of error_burst"):
        board.trigger("meteor", now=0.0)
    for bad in (0.0, -1.0, 3601.0, float("nan")):
        with pytest.raises(ValueError, match="duration"):
            board.trigger("error_burst", now=0.0, duration=bad)
    with pytest.raises(ValueError, match="--at"):
        board.schedule("error_burst", at=-1.0)


def test_cli_flags_become_demo_options():
    options = demo_options(
        [
            *("demo", "--seed", "3", "--port", "0", "--api-port", "0", "--duration", "12"),
            *("--scenario", "breaker_trip", "--at", "5", "--scenario", "error_burst"),
            *("--for", "20", "--at", "1.5", "--no-traffic", "--host", "0.0.0.0"),
        ]
    )
    assert options == DemoOptions(
        host="0.0.0.0",
        dashboard_port=0,
        api_port=0,
        seed=3,
        duration=12.0,
        scenarios=(
            ScheduledScenario("breaker_trip", at=5.0),
            ScheduledScenario("error_burst", at=1.5, duration=20.0),
        ),
        traffic=False,
    )
    assert demo_options(["demo"]) == DemoOptions()  # 8050 and 8051, 127.0.0.1


@pytest.mark.parametrize(
    "argv",
    [
        ["--at", "3"],
        ["--scenario", "meteor"],
        ["--scenario", "error_burst", "--for", "0"],
        ["--scenario", "error_burst", "--at", "-2"],
        ["--duration", "-1"],
        ["--duration", "inf"],
        ["--duration", "1e300"],
        ["--flask-port", "70000"],
        ["--api-port", "-1"],
    ],
)
def test_bad_cli_flags_exit_with_a_message(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        demo_options(["demo", *argv])
    assert exited.value.code == 2
    assert "error:" in capsys.readouterr().err


# -- the real process ------------------------------------------------------------------------


# Every markdown file the project ships (docs/metrics.md holds the metric tables); a blank
# line between files, so a table never runs on into the next file's.
DOCS = "\n\n".join(
    path.read_text() for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
)


def documented_metrics() -> list[tuple[str, str, str]]:
    """(name, kind, unit) of each metric in every docs table with name, kind, unit columns.

    A row may list several names with ``/``-separated kinds and units, in the same order.
    """
    found, header = [], None
    for line in DOCS.splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        if header is None:
            header = [c.lower() for c in cells]
        elif {"name", "kind", "unit"} <= set(header) and not re.fullmatch(r"[-: ]+", cells[0]):
            row = dict(zip(header, cells, strict=False))
            names = re.findall(r"`([a-z_][a-z0-9_]*(?:\.[a-z0-9_]+)+)`", row["name"])
            kinds = [k.strip() for k in row["kind"].split(" / ")]
            units = re.findall(r"`([^`]*)`", row["unit"])
            for i, name in enumerate(names):
                kind = kinds[i] if len(kinds) == len(names) else kinds[0]
                unit = units[i] if len(units) == len(names) else units[0]
                found.append((name, kind, unit))
    return found


def prometheus_sample(name: str, kind: str, unit: str) -> str:
    """The sample name /metrics renders for a docs row (the OTLP receiver's naming)."""
    if "histogram" in kind:
        return metric_name(name, unit, "histogram") + "_count"
    if "up-down" in kind:
        return metric_name(name, unit, "updowncounter")
    return metric_name(name, unit, "counter" if "counter" in kind else "gauge")


def test_documented_metrics_are_parsed_from_the_docs():
    documented = documented_metrics()
    assert ("http.server.request.duration", "histogram (semconv buckets 0.005 … 10 s)", "s") in (
        documented
    )
    assert ("system.memory.usage", "up-down counter", "By") in documented
    assert prometheus_sample("process.cpu.time", "counter", "s") == (
        "process_cpu_time_seconds_total"
    )
    assert prometheus_sample("trading.trade.pnl", "histogram", "{USD}") == (
        "trading_trade_pnl_count"
    )
    assert prometheus_sample("process.cpu.utilization", "gauge", "1") == (
        "process_cpu_utilization_ratio"
    )
    assert prometheus_sample("system.memory.usage", "up-down counter", "By") == (
        "system_memory_usage_bytes"
    )


def test_the_docs_prometheus_column_is_what_metrics_renders():
    """Each table row's Prometheus name (``_*`` for a histogram's series) is the rendered one."""
    kinds = {name: (kind, unit) for name, kind, unit in documented_metrics()}
    shown = {}
    for table in re.findall(r"^\| name \|.*\| Prometheus \|.*\n(?:\|.*\n)+", DOCS, re.M):
        row = r"^\| `([a-z_.]+)`[^|]*\|(?:[^|]*\|){3} `([^`]+)`"
        for name, prometheus in re.findall(row, table, re.M):
            shown[name] = prometheus.replace("_*", "_count")
    assert len(shown) > 25, shown
    assert set(shown) == set(kinds), "every metric table needs its Prometheus column"
    rendered = {name: prometheus_sample(name, *kinds[name]) for name in shown}
    assert shown == rendered


class DemoProcess:
    """``otelmetrics demo`` in a subprocess, its output read line by line as it comes."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.process = start([PYTHON, "-m", "otelmetrics", "demo", *args], env)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            self.lines.append(raw.decode(errors="replace"))

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, pattern: str, timeout: float = 30.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if match := re.search(pattern, self.output):
                return match
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"{pattern!r} not printed in {timeout}s:\n{self.output}")

    def stop(self) -> int:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            code = self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            kill_with_tracebacks(self.process)
            self.reader.join(5)
            raise AssertionError(f"the demo ignored SIGTERM:\n{self.output}") from None
        self.reader.join(5)
        assert self.process.stdout is not None
        self.process.stdout.close()
        return code


def scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


def samples(text: str) -> set[str]:
    return {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line[:1].isalpha()}


def wait_for_samples(url: str, wanted: set[str], timeout: float) -> list[str]:
    """Scrape ``url`` until every wanted sample name is there; returns those still missing."""
    deadline, missing = time.monotonic() + timeout, sorted(wanted)
    while missing and time.monotonic() < deadline:
        time.sleep(0.5)
        found = samples(scrape(url))
        missing = sorted(name for name in wanted if name not in found)
    return missing


def post(url: str, token: str) -> int:
    request = urllib.request.Request(url, method="POST")
    request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_a_headless_demo_run_gives_every_documented_metric_a_data_point(http_receiver):
    # The demo makes no outgoing HTTP calls: test_http_clients.py gives those rows their points.
    expected = {
        prometheus_sample(*row): row[0]
        for row in documented_metrics()
        if not row[0].startswith("http.client.")
    }
    env = {
        "OTELMETRICS_SYSTEM_METRICS": "true",  # the docs' optional rows too
        "OTEL_EXPORTER_OTLP_ENDPOINT": http_receiver.endpoint,
        "OTEL_METRIC_EXPORT_INTERVAL": "1000",
    }
    demo = DemoProcess(
        [
            *("--flask-port", "0", "--api-port", "0", "--seed", "3", "--duration", "60"),
            # Incidents that leave trading alone start from the command line...
            *("--scenario", "feed_disconnect", "--at", "2", "--for", "1"),
            *("--scenario", "auth_failures", "--at", "2", "--for", "1"),
        ],
        env,
    )
    try:
        dashboard = demo.wait_for(r"dashboard \(Flask \+ Socket\.IO\)\s+(http://127\.0\.0\.1:\d+)/")
        api = demo.wait_for(r"trading API \(FastAPI\)\s+(http://127\.0\.0\.1:\d+)/docs")[1]
        admin = demo.wait_for(r"ADMIN=(\S+)")[1]
        metrics_url = dashboard[1] + "/metrics"
        assert post(f"{api}/api/demo/scenarios/error_burst?duration=60", admin) == 202
        missing = wait_for_samples(metrics_url, {"trading_trades_total"}, timeout=20)
        # ...the ones that stop trading through the endpoint, once the first trades closed.
        for scenario in ("breaker_trip", "broker_disconnect?duration=1"):
            assert post(f"{dashboard[1]}/api/demo/scenarios/{scenario}", admin) == 202
        missing = wait_for_samples(metrics_url, set(expected), timeout=10)
        text = scrape(metrics_url)
        assert scrape(api + "/metrics").count("trading_orders_total{") > 0  # one handle, both apps
    finally:
        code = demo.stop()
    assert not missing, f"no data point for {[expected[s] for s in missing]}:\n{demo.output}"
    assert code == 0, demo.output
    assert "Traceback" not in demo.output, demo.output
    assert re.search(r'http_server_request_duration_seconds_count\{[^}]*status_code="500"', text)
    assert re.search(r'circuit_breaker_trips_total\{circuit_breaker_name="kraken-api"', text)
    requests = [x for x in text.splitlines() if x.startswith("http_server_request_duration_sec")]
    assert all("http_route=" in x for x in requests)  # Socket.IO's long polls are not requests
    assert re.search(r'exchange_feed_reconnects_total\{exchange_venue="kraken"', text)
    assert "scenario breaker_trip started" in demo.output
    assert "READ=" in demo.output  # generated tokens are printed, never written
    assert f"OTLP export                     on: {http_receiver.endpoint}" in demo.output
    pushed = http_receiver.received.points("circuit_breaker.trips")  # and pushed over OTLP
    assert {resource["service.name"] for resource, _, _ in pushed} == {"otelmetrics-demo"}


def test_a_demo_that_hangs_while_stopping_exits_within_its_bound_and_says_where():
    hang = (
        "import threading, time\n"
        "from otelmetrics.demo.service import _exit_within\n"
        "_exit_within(0.5)\n"
        "threading.Event().wait(30)  # a close that never returns\n"
    )
    started = time.monotonic()
    process = start([PYTHON, "-c", hang], {})
    output, _ = process.communicate(timeout=20)
    assert process.returncode == 1
    assert time.monotonic() - started < 10
    text = output.decode()
    assert "did not stop within 0.5 s" in text
    assert "Thread 0x" in text or "Current thread" in text  # every thread's stack, for the report


def test_a_demo_that_stopped_in_time_leaves_its_caller_running():
    stopped = (
        "import time\n"
        "from otelmetrics.demo.service import _exit_within\n"
        "_exit_within(0.5).cancel()  # what run() does once everything stopped\n"
        "time.sleep(1.5)\n"
        "print('still running', flush=True)\n"
    )
    process = start([PYTHON, "-c", stopped], {})
    output, _ = process.communicate(timeout=20)
    assert process.returncode == 0 and b"still running" in output, output
