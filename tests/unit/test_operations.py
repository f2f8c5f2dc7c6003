"""The operations views on a real handle: real trading calls, real events, real HTTP totals.

The builders in otelmetrics.insights take plain values; otelmetrics.api.views reads them from a
source (here the handle, which satisfies the API's MetricsSource Protocol).
"""

import csv
import json
import time
from datetime import datetime, timezone

import pytest
from flask import Flask
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

import otelmetrics
from otelmetrics.api import views
from otelmetrics.core.encoding import to_json
from otelmetrics.insights.alerts import RULES, AlertSince, OpsFacts, evaluate
from otelmetrics.insights.snapshot_row import current_row, snapshot_row
from otelmetrics.insights.snapshots import COLUMNS, SnapshotLog
from otelmetrics.insights.status import status_view
from otelmetrics.insights.trading_view import trading_view
from otelmetrics.settings import DEFAULT_THRESHOLDS
from tests.clock import Clock

START = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc).timestamp()
QUIET = {**DEFAULT_THRESHOLDS, "cpu_usage_pct": 1000.0, "memory_usage_pct": 1000.0}


@pytest.fixture
def clock():
    return Clock(START)


@pytest.fixture
def make(clock):
    """A handle with the given settings; its trading and events read ``clock``."""
    handles = []

    def make(**settings):
        options = {"thresholds": QUIET, **settings}
        reader = InMemoryMetricReader()
        handle = otelmetrics.configure(
            exporters=("none",), metric_readers=[reader], set_global=False, **options
        )
        handle.trading.clock = clock
        handle.events.clock = clock
        handles.append(handle)
        return handle

    yield make
    for handle in handles:
        handle.shutdown()


def trade(handle):
    t = handle.trading
    for _ in range(3):
        t.order_placed("BTC-USD", "buy", "limit", venue="kraken")
    t.order_filled("BTC-USD", "buy", "limit", venue="kraken", latency=0.040)
    t.order_filled("BTC-USD", "buy", "limit", venue="kraken", latency=0.060)
    t.order_rejected("BTC-USD", "buy", "limit", venue="kraken")
    t.position_opened("BTC-USD")
    t.position_opened("BTC-USD")
    t.position_closed("BTC-USD", 12.5, venue="kraken")
    t.position_closed("BTC-USD", -5.0, venue="kraken")
    t.position_opened("BTC-USD")
    t.breaker_trip("kraken-orders")
    t.feed_status("kraken", True)
    t.feed_trade("kraken", "BTC-USD", 30)
    t.broker_status("kraken", True)


def test_trading_view_from_real_trading_calls(make):
    handle = make(breaker_names=("kraken-orders", "kraken-feed"))
    trade(handle)
    view = trading_view(handle.trading.snapshot(), handle.settings.breaker_names)
    assert views.trading(handle) == view
    assert view["orders_today"] == {"total": 3, "successful": 2, "failed": 1, "rejected": 1}
    assert view["order_success_rate"] == pytest.approx(66.67)
    assert view["positions"] == {"opened": 3, "closed": 2, "open": 1}
    assert (view["pnl_today"], view["pnl_realized"], view["currency"]) == (7.5, 7.5, "USD")
    assert view["deals_today"] == 2
    assert (view["win_rate"], view["wins"], view["losses"]) == (50.0, 1, 1)
    assert (view["avg_win"], view["avg_loss"]) == (12.5, -5.0)
    assert view["trade_frequency_per_hour"] == 24.0  # 2 trades in the 300 s window
    assert view["trades_per_min"] == 30
    assert view["feeds"] == {
        "kraken": {"ws_status": "connected", "reconnects": 0, "trades_per_min": 30}
    }
    assert view["circuit_breakers"]["kraken-orders"] == {
        "state": "open",
        "value": 1,
        "trips": 1,
        "last_trip": datetime.fromtimestamp(START, timezone.utc).isoformat(),
    }
    assert view["circuit_breakers"]["kraken-feed"]["state"] == "closed"  # configured, quiet
    assert view["brokers"] == {"kraken": {"connected": True, "failures": 0}}


def test_status_is_degraded_while_the_broker_is_down(make):
    handle = make()
    assert views.status(handle) == {
        "status": "healthy",
        "issues": [],
        "broker_connected": None,
        "brokers": {},
        "error_rate": 0.0,
        "uptime_hours": 0.0,
    }
    handle.trading.broker_failure("kraken")
    status = views.status(handle)
    assert status["status"] == "degraded"
    assert status["issues"] == ["Broker disconnected: kraken"]
    assert status["broker_connected"] is False
    handle.trading.broker_status("kraken", True)
    assert views.status(handle)["status"] == "healthy"


def test_status_reads_the_http_totals(make):
    handle = make()
    app = Flask("ops")
    app.add_url_rule("/ok", "ok", lambda: "ok")
    app.add_url_rule("/fail", "fail", lambda: ("no", 500))
    otelmetrics.instrument(app, handle=handle)
    client = app.test_client()
    for path in ["/ok"] * 8 + ["/fail"] * 2:
        client.get(path)
    status = views.status(handle)
    assert status["error_rate"] == 20.0
    assert status["issues"][-1] == "Error rate 20.0 % since start is above 10 %"


def ops_alerts(handle, since=None, now=START):
    """The operations alerts firing now (since when: ``since``, a fresh one by default)."""
    fired = evaluate(views.facts(handle), handle.settings.thresholds)
    return (since or AlertSince()).stamp(fired, now)


@pytest.mark.parametrize(
    ("rule", "act"),
    [
        ("HIGH_ERROR_COUNT", lambda h, n: [h.events.record_error("feed", "x") for _ in range(n)]),
        (
            "SECURITY_THREATS",
            lambda h, n: [
                h.events.record_denial(401, client="c", path="/p", token_presented=True)
                for _ in range(n)
            ],
        ),
        (
            "TRADING_FAILURES",
            lambda h, n: [h.trading.order_failed("BTC-USD", "sell") for _ in range(n)],
        ),
    ],
)
def test_each_operations_alert_fires_above_its_threshold_only(make, rule, act):
    handle = make(thresholds={"errors_24h": 5, "invalid_tokens_24h": 5, "failed_orders_today": 5})
    act(handle, 5)
    assert ops_alerts(handle) == []
    act(handle, 1)
    (alert,) = ops_alerts(handle)
    assert alert["name"] == rule
    assert (alert["severity"], alert["value"], alert["threshold"]) == ("warning", 6, 5.0)
    assert set(alert) == {"name", "severity", "category", "message", "value", "threshold", "since"}


def test_since_is_kept_while_firing_and_restarts_after_clearing(make):
    handle = make()
    handle.trading.broker_failure("kraken")
    since = AlertSince()
    first = ops_alerts(handle, since, START)
    later = ops_alerts(handle, since, START + 60)
    assert (
        first[0]["since"]
        == later[0]["since"]
        == datetime.fromtimestamp(START, timezone.utc).isoformat()
    )
    assert first[0]["severity"] == "critical"
    handle.trading.broker_status("kraken", True)
    assert ops_alerts(handle, since, START + 120) == []
    handle.trading.broker_failure("kraken")
    again = ops_alerts(handle, since, START + 180)
    assert again[0]["since"] == datetime.fromtimestamp(START + 180, timezone.utc).isoformat()


def test_each_handle_keeps_its_own_since_and_a_forked_child_starts_afresh(make):
    first, second = make(), make()
    assert first.alert_since is not second.alert_since
    first.trading.broker_failure("kraken")
    stamped = ops_alerts(first, first.alert_since, START)
    first.alert_since._lock.acquire()  # as if a parent's thread held it at the fork
    first.alert_since._fork.pid = -1  # the pid it was made in is not this process's
    first.alert_since.reset()
    later = ops_alerts(first, first.alert_since, START + 60)
    assert later[0]["since"] != stamped[0]["since"]  # forgotten: since restarts now
    assert later[0]["since"] == datetime.fromtimestamp(START + 60, timezone.utc).isoformat()


@pytest.mark.parametrize(
    ("requests", "errors", "fires"),
    [(9, 9, False), (10, 1, False), (10, 2, True), (1000, 101, True)],
)
def test_the_error_rate_alert_needs_traffic_and_a_rate_above_the_threshold(requests, errors, fires):
    facts = OpsFacts(requests, errors, 0, 0, 0, {})
    names = [alert["name"] for alert in evaluate(facts, DEFAULT_THRESHOLDS)]
    assert ("HIGH_TOTAL_ERROR_RATE" in names) is fires


def test_rules_cover_the_mt5_monitoring_alert_table():
    assert [(r.name, r.severity, r.threshold_key) for r in RULES] == [
        ("BROKER_DISCONNECTED", "critical", None),
        ("HIGH_TOTAL_ERROR_RATE", "warning", "total_error_rate_pct"),
        ("HIGH_ERROR_COUNT", "warning", "errors_24h"),
        ("SECURITY_THREATS", "warning", "invalid_tokens_24h"),
        ("TRADING_FAILURES", "warning", "failed_orders_today"),
    ]
    assert DEFAULT_THRESHOLDS["total_error_rate_pct"] == 10.0
    assert DEFAULT_THRESHOLDS["errors_24h"] == 100.0
    assert DEFAULT_THRESHOLDS["invalid_tokens_24h"] == 10.0
    assert DEFAULT_THRESHOLDS["failed_orders_today"] == 10.0


def test_alerts_join_the_statistics_alerts(make):
    handle = make(thresholds={**QUIET, "memory_usage_pct": 0.0})
    handle.trading.broker_failure("kraken")
    names = [alert["name"] for alert in views.alerts(handle)]
    assert names == ["HIGH_MEMORY", "BROKER_DISCONNECTED"]
    first = views.alerts(handle)[1]["since"]
    assert views.alerts(handle)[1]["since"] == first  # kept per source while it fires


def test_snapshot_rows_come_from_the_handle(make, tmp_path):
    handle = make()
    trade(handle)
    handle.trading.order_failed("BTC-USD", "sell")
    handle.trading.broker_failure("kraken")
    row = current_row(handle.stats, handle.trading, handle.start_ns, now=START)
    assert row == {
        "ts_utc": "2026-11-21T12:00:00Z",
        "uptime_hours": row["uptime_hours"],
        "total_requests": 0,
        "total_errors": 0,
        "error_rate": 0.0,
        "orders_placed": 3,
        "orders_failed": 2,
        "order_success_rate": 50.0,
        "broker_connected": False,
        "broker_failures": 1,
    }
    assert 0 <= row["uptime_hours"] < 1
    log = SnapshotLog(
        tmp_path / "m.csv",
        provider=lambda: current_row(handle.stats, handle.trading, handle.start_ns),
    )
    log.snapshot()
    with open(tmp_path / "m.csv", newline="") as file:
        header, written = list(csv.reader(file))
    assert header == list(COLUMNS)
    assert written[5:] == ["3", "2", "50.0", "0", "1"]


def test_summary_has_engine_scanner_and_trading_timings(make):
    handle = make()
    handle.trading.engine_cycle(0.010)
    handle.trading.engine_cycle(0.030)
    handle.trading.scanner_scan(0.5)
    trade(handle)
    view = views.summary(handle)
    assert view["engine"]["cycle"] == {"count": 2, "mean_ms": 20.0, "min_ms": 10.0, "max_ms": 30.0}
    assert view["scanner"]["scan"]["count"] == 1
    assert view["trading"]["order_latency"]["mean_ms"] == 50.0
    assert view["trading"]["market_data_delay"]["count"] == 0
    assert "request_rate_rpm" in view["summary"]


def test_feed_event_view_for_the_configured_venue_and_pairs(make, clock):
    handle = make(sse_feed_venue="kraken", feed_pairs=("BTC-USD",), breaker_names=("kraken-ws",))
    trade(handle)
    handle.trading.breaker_trip("kraken-ws")
    handle.trading.feed_reconnect("kraken")
    for ms in range(100):
        handle.trading.feed_message("kraken", "BTC-USD", ms / 1000)  # feeds feed_latency too
    handle.trading.feed_message("kraken", "ETH-USD", 5.0)  # not a configured pair: left out
    payload = views.feed(handle)
    assert payload["pairs"]["BTC-USD"]["count"] == 100
    assert payload["latency_p50_ms"] == pytest.approx(49, rel=0.01)
    assert payload["latency_p99_ms"] == pytest.approx(98, rel=0.01)
    assert payload["circuit_breaker_trips"] == 1  # kraken-ws only, not kraken-orders
    assert payload["reconnect_count"] == 1
    assert payload["trades_per_min"] == 30
    assert payload["ws_status"] == "connected"
    assert abs(payload["timestamp"] - time.time() * 1000) < 60_000  # epoch milliseconds


def test_dashboard_and_all_hold_every_view_as_json(make):
    handle = make()
    trade(handle)
    handle.events.record_error("trading", "rejected")
    dashboard = views.dashboard(handle)
    assert set(dashboard) == {
        "status",
        "alerts",
        "current",
        "trading",
        "errors",
        "security",
        "performance",
        "feed",
        "service",
    }
    assert dashboard["service"]["instance"] == handle.instance_id
    assert dashboard["service"]["workers"] == 1  # a single process, not a pre-fork worker
    assert dashboard["service"]["scope"] == "worker"
    assert dashboard["errors"]["errors_24h"] == 1
    assert dashboard["trading"]["orders_today"]["total"] == 3
    everything = json.loads(to_json(views.everything(handle)))
    assert set(everything) == set(dashboard) | {"statistics", "history", "summary", "timings"}
    assert everything["trading"] == json.loads(to_json(dashboard["trading"]))
    assert everything["timings"]["trading"]["order_latency"]["count"] == 2


def test_status_and_snapshot_rows_from_plain_values():
    facts = OpsFacts(200, 30, 0, 0, 0, {"mt5": False, "kraken": None})
    alert = {"message": "Broker disconnected: mt5"}
    assert status_view(facts, [alert], uptime_seconds=5400) == {
        "status": "degraded",
        "issues": ["Broker disconnected: mt5"],
        "broker_connected": False,
        "brokers": {"mt5": False, "kraken": None},
        "error_rate": 15.0,
        "uptime_hours": 1.5,
    }
    current = {"total_requests": 8, "total_errors": 2}
    orders = {"placed": 5.0, "filled": 3.0, "rejected": 1.0}
    brokers = {"mt5": {"connected": True, "failures": 2}}
    row = snapshot_row(current, orders, brokers, now=START, uptime_seconds=-1)
    assert list(row.values()) == ["2026-11-21T12:00:00Z", 0.0, 8, 2, 25.0, 5, 1, 75.0, True, 2]
