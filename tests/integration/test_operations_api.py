"""The operations endpoints (the breakout-bot API's and the MT5-style views) through Flask's
test client and Starlette's TestClient: auth, rate limits, bad requests and the same JSON from
both, each body in its type's key order; 5xx responses in /errors, denied requests in /security
and the exported counter, CSV snapshots, and the ``kraken_metrics`` SSE event over real servers
carrying what the trading calls recorded."""

from __future__ import annotations

import csv
import json
import os
import time

import httpx
import pytest

import otelmetrics
from otelmetrics.insights.alerts import Alert
from otelmetrics.insights.event_views import ErrorsView, SecurityView
from otelmetrics.insights.feed import FeedEvent
from otelmetrics.insights.operations import AllView, DashboardData
from otelmetrics.insights.snapshot_row import SnapshotRow
from otelmetrics.insights.snapshots import COLUMNS
from otelmetrics.insights.statistics import (
    Health,
    RecentSample,
    SeriesPoint,
    Snapshot,
    Statistics,
)
from otelmetrics.insights.stats import Stats
from otelmetrics.insights.status import StatusView
from otelmetrics.insights.timings import SummaryView
from otelmetrics.insights.trading_view import TradingView
from otelmetrics.instruments.performance import FIELDS as PERFORMANCE_FIELDS
from otelmetrics.instruments.performance import PerformanceView
from tests.integration.api_apps import (
    QUIET_RESOURCES,
    ApiClient,
    assert_shape,
    make_app,
    read_events,
    serve,
    wait_until,
)

READS = ["performance", "trading", "errors", "security", "status", "dashboard-data", "all"]
ADMIN_POSTS = ["snapshot", "clear"]
PROTECTED = [("GET", path) for path in READS] + [("POST", path) for path in ADMIN_POSTS]


def trade(handle):
    """Orders, positions, a breaker trip, a feed and a broker, as an engine reports them."""
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
    t.engine_cycle(0.010)
    t.engine_cycle(0.030)
    t.scanner_scan(0.5)
    t.feed_status("kraken", True)
    t.feed_trade("kraken", "BTC-USD", 30)
    t.broker_status("kraken", True)


def exported(handle, name):
    """``name``'s data points, attribute dict -> value, from the handle's in-memory reader."""
    found = {}
    for group in handle.reader.get_metrics_data().resource_metrics:
        for scope in group.scope_metrics:
            for metric in scope.metrics:
                if metric.name == name:
                    for point in metric.data.data_points:
                        found[tuple(sorted(point.attributes.items()))] = point.value
    return found


# -- authorization -------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_every_operations_endpoint_needs_credentials(client, method, path):
    reply = client.request(method, f"/api/metrics/{path}")
    assert reply.status == 401
    assert reply.json() == {"error": "Authentication required"}
    assert reply.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_the_read_token_reads_and_only_the_admin_token_posts(client, tokens, method, path):
    reply = client.request(method, f"/api/metrics/{path}", tokens.read)
    if method == "POST":
        assert reply.status == 403 and reply.json() == {"error": "Admin role required"}
    else:
        assert reply.status == 200, reply.body
        assert reply.json()["success"] is True
    assert client.request(method, f"/api/metrics/{path}", tokens.admin).status == 200


def test_public_reads_still_need_the_admin_role_to_snapshot_or_clear(make_handle, framework):
    client = ApiClient(framework, make_app(framework, make_handle(api_public=True)))
    assert client.get("trading").status == 200
    assert client.post("snapshot").status == 403
    assert client.post("clear").status == 403


# -- the views -----------------------------------------------------------------------------


def test_performance_serves_the_breakout_bot_fields_under_performance(client, tokens):
    body = client.get("performance", tokens.read).json()
    assert set(body) == {"success", "performance", "timestamp"}
    sample = body["performance"]
    assert set(PERFORMANCE_FIELDS) <= set(sample)
    assert sample["errors"] == {} and sample["active_threads"] >= 1
    assert 0 < sample["memory_used_mb"] and 0 <= sample["disk_usage_percent"] <= 100
    assert abs(sample["timestamp"] - time.time()) < 60  # epoch seconds of the sample


def test_trading_is_computed_from_the_trading_calls(client, handle, tokens):
    trade(handle)
    body = client.get("trading", tokens.read).json()
    assert body["orders_today"] == {"total": 3, "successful": 2, "failed": 1, "rejected": 1}
    assert body["order_success_rate"] == pytest.approx(66.67)
    assert body["positions"] == {"opened": 2, "closed": 2, "open": 0}
    assert (body["pnl_today"], body["currency"], body["deals_today"]) == (7.5, "USD", 2)
    assert (body["win_rate"], body["avg_win"], body["avg_loss"]) == (50.0, 12.5, -5.0)
    assert body["trades_per_min"] == 30
    assert body["brokers"]["kraken"]["connected"] is True


def test_server_errors_and_exceptions_appear_in_errors(client, handle, tokens):
    for path in ("/ok", "/missing", "/fail", "/boom"):
        client.get(path)
    handle.events.record_error("trading", "order rejected: insufficient margin")
    body = client.get("errors", tokens.read).json()
    assert body["errors_24h"] == 3 and body["errors_by_scope"] == {"http": 2, "trading": 1}
    messages = [error["message"] for error in body["last_errors"]]
    assert messages == [
        "order rejected: insufficient margin",
        "GET /boom -> 500 RuntimeError",
        "GET /fail -> 500",
    ]
    assert exported(handle, "app.errors") == {
        (("otelmetrics.error.scope", "http"),): 2,
        (("otelmetrics.error.scope", "trading"),): 1,
    }


def test_a_streamed_5xx_body_appears_in_errors_when_it_ends(handle):
    from flask import Flask, Response

    app = Flask("streamed")
    app.add_url_rule("/export", "export", lambda: Response(iter([b"a", b"b"]), 503))
    server = serve("flask", otelmetrics.instrument(app, handle=handle))  # it closes the body
    try:
        assert httpx.get(f"{server.url}/export").text == "ab"

        def recorded():
            return handle.events.errors()["last_errors"]

        [error] = wait_until(recorded, "the streamed 503 in /errors")
    finally:
        server.close()
    assert (error["scope"], error["message"]) == ("http", "GET /export -> 503")


def test_denied_requests_appear_in_security_and_the_exported_counter(client, handle, tokens):
    client.get("current")  # no credentials
    client.get("current", "not-" + tokens.read)  # a wrong token
    client.get("current", "not-" + tokens.read)
    client.post("clear", tokens.read)  # a reader trying an admin endpoint
    body = client.get("security", tokens.read).json()
    assert body["events_by_type"] == {
        "auth_failure": 1,
        "invalid_token": 2,
        "forbidden": 1,
        "rate_limited": 0,
    }
    assert body["security_events_24h"] == 4 and body["invalid_token_attempts_24h"] == 2
    assert body["auth_failures_24h"] == 3
    latest = body["recent_events"][0]
    assert (latest["type"], latest["path"]) == ("forbidden", "/api/metrics/clear")
    assert latest["client"] and tokens.read not in json.dumps(body)
    assert exported(handle, "otelmetrics.api.security_events") == {
        (("otelmetrics.security.event", "auth_failure"),): 1,
        (("otelmetrics.security.event", "invalid_token"),): 2,
        (("otelmetrics.security.event", "forbidden"),): 1,
    }


def test_status_and_alerts_report_a_disconnected_broker(make_handle, framework, tokens):
    thresholds = {**QUIET_RESOURCES, "failed_orders_today": 0}
    handle = make_handle(thresholds=thresholds)
    client = ApiClient(framework, make_app(framework, handle))
    assert client.get("status", tokens.read).json()["status"] == "healthy"
    handle.trading.broker_failure("mt5")
    handle.trading.order_rejected("BTC-USD", "buy", venue="mt5")
    status = client.get("status", tokens.read).json()
    assert set(status) == {
        "success",
        "status",
        "issues",
        "broker_connected",
        "brokers",
        "error_rate",
        "uptime_hours",
        "timestamp",
    }
    assert status["status"] == "degraded" and status["broker_connected"] is False
    assert status["issues"] == ["Broker disconnected: mt5", "1 failed orders today (more than 0)"]
    alerts = client.get("alerts", tokens.read).json()
    by_name = {alert["name"]: alert for alert in alerts["alerts"]}
    assert set(by_name) == {"BROKER_DISCONNECTED", "TRADING_FAILURES"}
    assert by_name["BROKER_DISCONNECTED"]["severity"] == "critical"
    assert {"category", "message", "value", "threshold", "since"} <= set(
        by_name["TRADING_FAILURES"]
    )


def test_summary_keeps_the_per_statistic_summary_and_adds_the_timings(client, handle, tokens):
    trade(handle)
    client.get("/ok")
    body = client.get("summary", tokens.read).json()
    assert set(body) == {"success", "summary", "engine", "scanner", "trading", "timestamp"}
    assert set(body["summary"]) == set(Stats.STATISTICS)
    assert body["engine"]["cycle"] == {"count": 2, "mean_ms": 20.0, "min_ms": 10.0, "max_ms": 30.0}
    assert body["scanner"]["scan"]["count"] == 1
    assert body["trading"]["order_latency"]["mean_ms"] == 50.0


def test_dashboard_data_and_all_hold_every_view(client, handle, tokens):
    trade(handle)
    dashboard = client.get("dashboard-data", tokens.read).json()
    views = {"status", "alerts", "current", "trading", "errors", "security", "performance", "feed"}
    views.add("service")
    assert set(dashboard) == views | {"success", "timestamp"}
    assert dashboard["trading"]["pnl_today"] == 7.5
    assert dashboard["feed"]["circuit_breaker_trips"] == 0
    everything = client.get("all", tokens.read).json()
    assert set(everything) >= views | {"statistics", "history", "summary", "timings"}
    assert everything["timings"]["engine"]["cycle"]["count"] == 2


# -- snapshots and clear -------------------------------------------------------------------


def read_rows(handle):
    with open(handle.snapshots.path, newline="") as file:
        reader = csv.DictReader(file)
        assert tuple(reader.fieldnames) == COLUMNS
        return list(reader)


def test_snapshot_appends_a_parseable_row(client, handle, tokens):
    trade(handle)
    client.get("/ok")
    client.get("/fail")
    first = client.post("snapshot", tokens.admin).json()
    assert first["success"] is True and set(first["snapshot"]) == set(COLUMNS)
    client.post("snapshot", tokens.admin)
    rows = read_rows(handle)
    assert len(rows) == 2
    assert rows[0]["ts_utc"] == first["snapshot"]["ts_utc"]
    assert (rows[0]["total_requests"], rows[0]["total_errors"], rows[0]["error_rate"]) == (
        "2",
        "1",
        "50.0",
    )
    assert (rows[0]["orders_placed"], rows[0]["orders_failed"]) == ("3", "1")
    assert (rows[0]["broker_connected"], rows[0]["broker_failures"]) == ("1", "0")


def test_a_snapshot_that_cannot_be_written_is_a_clear_500(make_handle, framework, tokens, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    handle = make_handle(snapshot_path=str(blocker / "metrics.csv"))  # its directory is a file
    client = ApiClient(framework, make_app(framework, handle))
    reply = client.post("snapshot", tokens.admin)
    assert reply.status == 500
    body = reply.json()
    assert body["error"].startswith("Snapshot not written: the snapshot file cannot be written")
    assert body["reason"] and str(tmp_path) not in reply.body.decode()
    errors = client.get("errors", tokens.read).json()
    assert errors["errors_by_scope"] == {"snapshot": 1}


def test_periodic_snapshots_run_until_shutdown(make_handle):
    handle = make_handle(snapshot_interval=0.05)

    def rows():
        return read_rows(handle) if os.path.exists(handle.snapshots.path) else []

    wait_until(lambda: len(rows()) >= 2, "two periodic snapshot rows")
    handle.shutdown()
    count = len(rows())
    time.sleep(0.3)  # six intervals: a thread still running would have added rows
    assert len(rows()) <= count + 1  # at most the one in flight at shutdown


@pytest.mark.parametrize("path", ["reset", "clear"])
def test_reset_and_clear_forget_the_views_but_not_the_exported_counters(
    client, handle, tokens, path
):
    client.get("/fail")
    client.get("current")  # an auth failure
    handle.trading.feed_message("kraken", "BTC-USD", 0.012)
    assert handle.feed_latency.percentiles()["count"] == 1
    body = client.post(path, tokens.admin).json()
    assert body["message"] == "Metrics statistics reset successfully"
    assert client.get("errors", tokens.read).json()["errors_24h"] == 0
    assert client.get("security", tokens.read).json()["security_events_24h"] == 0
    assert client.get("current", tokens.read).json()["metrics"]["total_requests"] == 0
    assert handle.feed_latency.percentiles()["count"] == 0
    assert exported(handle, "app.errors") == {(("otelmetrics.error.scope", "http"),): 1}
    assert exported(handle, "otelmetrics.api.security_events") == {
        (("otelmetrics.security.event", "auth_failure"),): 1
    }


# -- rate limits and bad requests ----------------------------------------------------------


def assert_limited(reply, limit_class):
    assert reply.status == 429
    assert int(reply.headers["retry-after"]) >= 1
    assert reply.json()["error"] == "Rate limit exceeded" and reply.json()["limit"] == limit_class


def test_the_mt5_monitoring_rate_limits_by_default(client, handle, tokens):
    assert handle.settings.api_rate_limits == {
        "read": 100,
        "export": 10,
        "snapshot": 10,
        "reset": 5,
        "denied": 100,
    }
    assert [client.post("snapshot", tokens.admin).status for _ in range(10)] == [200] * 10
    assert_limited(client.post("snapshot", tokens.admin), "snapshot")
    statuses = [client.post(("reset", "clear")[i % 2], tokens.admin).status for i in range(5)]
    assert statuses == [200] * 5  # /clear is /reset: one budget
    assert_limited(client.post("clear", tokens.admin), "reset")
    assert_limited(client.post("reset", tokens.admin), "reset")
    # The read bucket refills at 100/60 per second, on a clock that stands still (limiter_clock).
    statuses = [client.get(READS[i % 5], tokens.read).status for i in range(100)]
    assert statuses == [200] * 100
    reply = client.get(READS[0], tokens.read)
    assert_limited(reply, "read")
    security = handle.events.security()  # the resets forgot the first 429 (snapshot)
    assert security["events_by_type"]["rate_limited"] == 3
    assert security["total_by_type"]["rate_limited"] == 3
    counter = exported(handle, "otelmetrics.api.security_events")  # cumulative: all four
    assert counter == {(("otelmetrics.security.event", "rate_limited"),): 4}


def test_all_is_in_the_export_class(make_handle, framework, tokens):
    limits = {"read": 100, "export": 2, "snapshot": 10, "reset": 5}
    client = ApiClient(framework, make_app(framework, make_handle(api_rate_limits=limits)))
    assert [client.get("all", tokens.read).status for _ in range(2)] == [200, 200]
    assert_limited(client.get("all", tokens.read), "export")
    assert client.get("dashboard-data", tokens.read).status == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "snapshot"), ("GET", "clear"), ("POST", "trading"), ("POST", "dashboard-data")],
)
def test_the_wrong_method_is_405(client, tokens, method, path):
    assert client.request(method, f"/api/metrics/{path}", tokens.admin).status == 405


@pytest.mark.parametrize(
    "path", ["trading?day=abc", "errors?limit=-1", "status?x=%00", "performance?a=1&a=2"]
)
def test_unknown_query_parameters_are_ignored(client, tokens, path):
    reply = client.get(path, tokens.read)
    assert reply.status == 200 and reply.json()["success"] is True


# -- the same JSON from both frameworks ----------------------------------------------------

VOLATILE = {
    "timestamp",
    "since",
    "time",
    "memory_usage_pct",
    "memory_usage_mb",
    "cpu_usage_pct",
    "request_rate_rpm",
    "uptime_hours",
    "performance",
    "current",
    "client",
    "ts_utc",
}


def masked(value):
    if isinstance(value, dict):
        return {k: "*" if k in VOLATILE else masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(item) for item in value]
    return value


def test_both_frameworks_send_the_same_json(make_handle, tokens):
    handle = make_handle()
    handle.stats.stop()  # no sample may land between the two frameworks' requests...
    handle.stats.tick()  # ...and the first is taken now
    trade(handle)
    handle.trading.feed_message("kraken", "BTC-USD", 0.012)
    flask = ApiClient("flask", make_app("flask", handle))
    fastapi = ApiClient("fastapi", make_app("fastapi", handle))
    for method, path in PROTECTED + [("GET", "summary"), ("GET", "alerts")]:
        role = tokens.admin if method == "POST" else tokens.read
        one = flask.request(method, f"/api/metrics/{path}", role)
        other = fastapi.request(method, f"/api/metrics/{path}", role)
        assert one.status == other.status == 200, path
        assert one.headers["content-type"] == other.headers["content-type"]
        assert masked(one.json()) == masked(other.json()), path
        denied = [app.request(method, f"/api/metrics/{path}") for app in (flask, fastapi)]
        assert denied[0].body == denied[1].body == b'{"error":"Authentication required"}'


# -- every body in its type's key order ------------------------------------------------------

# Each view: its path, the TypedDict of what the envelope holds, and where in the envelope.
TYPED_VIEWS = [
    ("GET", "trading", TradingView, None),
    ("GET", "errors", ErrorsView, None),
    ("GET", "security", SecurityView, None),
    ("GET", "status", StatusView, None),
    ("GET", "dashboard-data", DashboardData, None),
    ("GET", "all", AllView, None),
    ("GET", "summary", SummaryView, None),
    ("GET", "performance", PerformanceView, "performance"),
    ("GET", "current", Snapshot, "metrics"),
    ("GET", "statistics", Statistics, "statistics"),
    ("POST", "snapshot", SnapshotRow, "snapshot"),
]


def test_every_body_has_its_types_keys_in_order(make_handle, framework, tokens):
    thresholds = {**QUIET_RESOURCES, "failed_orders_today": 0, "memory_usage_pct": 0.0}
    handle = make_handle(thresholds=thresholds, breaker_names=("kraken-orders", "idle"))
    handle.stats.stop()
    handle.stats.tick()  # a history entry for /all
    trade(handle)
    handle.trading.breaker_trip("kraken-orders")
    handle.trading.broker_failure("mt5")
    handle.trading.order_rejected("BTC-USD", "buy", venue="mt5")
    client = ApiClient(framework, make_app(framework, handle))
    client.get("/fail")
    client.get("current")  # a denied request for /security
    for method, path, typed, key in TYPED_VIEWS:
        body = client.request(method, f"/api/metrics/{path}", tokens.admin).json()
        keys = list(body)
        assert keys[0] == "success" and keys[-1] == "timestamp", path
        view = {k: body[k] for k in keys[1:-1]} if key is None else body[key]
        assert_shape(view, typed, path)
    alerts = client.get("alerts", tokens.read).json()
    assert list(alerts) == ["success", "alerts", "count", "timestamp"]
    assert len(alerts["alerts"]) >= 3  # HIGH_MEMORY, BROKER_DISCONNECTED, TRADING_FAILURES
    for alert in alerts["alerts"]:
        assert_shape(alert, Alert, "alerts")
    health = client.get("health").json()
    assert list(health)[:2] == ["success", "version"] and list(health)[-1] == "timestamp"
    assert_shape({k: health[k] for k in list(health)[2:-1]}, Health, "health")


def test_every_sample_has_its_types_keys_in_order(make_handle, framework, tokens):
    handle = make_handle()
    handle.stats.stop()
    handle.stats.tick()
    client = ApiClient(framework, make_app(framework, handle))
    recent = client.get("history?resolution=5s", tokens.read).json()["history"]
    series = client.get("metric/total_requests", tokens.read).json()["data"]
    assert recent and series
    for sample in recent:
        assert_shape(sample, RecentSample, "history?resolution=5s")
    for point in series:
        assert_shape(point, SeriesPoint, "metric/total_requests")


# -- instrument() forwards the API options -------------------------------------------------


def bare_app(framework):
    if framework == "flask":
        from flask import Flask

        app = Flask("bare")
        app.add_url_rule("/ok", "ok", lambda: "ok")
        return app
    from fastapi import FastAPI
    from fastapi.responses import PlainTextResponse

    app = FastAPI()
    app.add_api_route("/ok", lambda: PlainTextResponse("ok"))
    return app


def test_instrument_forwards_api_authorize_and_user_id(make_handle, framework):
    handle = make_handle(api_token=None, api_admin_token=None)
    hooked = otelmetrics.instrument(
        bare_app(framework),
        handle=handle,
        authorize=lambda info: "admin" if info.headers.get("x-role") == "ops" else None,
        user_id=lambda request: request.headers.get("X-Account"),
    )
    client = ApiClient(framework, hooked)
    client.get("/ok", **{"X-Account": "acct-7"})
    assert client.get("users").status == 401
    assert client.get("users", **{"X-Role": "ops"}).json()["users"] == ["acct-7"]
    without = otelmetrics.instrument(bare_app(framework), handle=handle, api=False)
    assert ApiClient(framework, without).get("health").status == 404


# -- the kraken_metrics event over real servers --------------------------------------------


def feed_traffic(handle):
    t = handle.trading
    for ms in range(100):
        t.feed_message("kraken", "BTC-USD", ms / 1000)
    t.feed_message("binance", "BTC-USD", 9.0)  # another venue: not in kraken's event
    t.feed_status("kraken", False)
    t.feed_status("kraken", True)  # a reconnect
    t.feed_trade("kraken", "BTC-USD", 45)
    t.breaker_trip("kraken-feed")
    t.breaker_trip("kraken-feed")


@pytest.mark.parametrize("event_name", ["kraken_metrics", "feed.metrics"])
def test_the_feed_event_carries_what_the_trading_calls_recorded(
    make_handle, framework, tokens, event_name
):
    handle = make_handle(sse_feed_venue="kraken", sse_feed_event=event_name)
    feed_traffic(handle)
    server = serve(framework, make_app(framework, handle))
    try:
        headers = {"Authorization": f"Bearer {tokens.read}"}
        url = f"{server.url}/api/metrics/sse/metrics?max_events=2"
        with httpx.stream("GET", url, headers=headers, timeout=10) as response:
            assert response.status_code == 200
            events = list(read_events(response, 100))
    finally:
        server.close()
    names = [name for name, _ in events]
    assert names == ["metrics_update", event_name, "metrics_update", event_name, "heartbeat"]
    payload = json.loads(events[3][1])
    assert payload["latency_p50_ms"] == pytest.approx(49, rel=0.01)
    assert payload["latency_p95_ms"] == pytest.approx(94, rel=0.01)
    assert payload["latency_p99_ms"] == pytest.approx(98, rel=0.01)
    assert payload["circuit_breaker_trips"] == 2
    assert payload["reconnect_count"] == 1
    assert payload["trades_per_min"] == 45
    assert payload["ws_status"] == "connected"
    assert abs(payload["timestamp"] - time.time() * 1000) < 60_000
    assert payload["venue"] == "kraken" and payload["pairs"]["BTC-USD"]["count"] == 100
    assert_shape(payload, FeedEvent, event_name)


def test_the_feed_event_follows_new_feed_messages(make_handle, framework, tokens):
    handle = make_handle(sse_feed_venue="kraken")
    server = serve(framework, make_app(framework, handle))
    try:
        headers = {"Authorization": f"Bearer {tokens.read}"}
        url = f"{server.url}/api/metrics/sse/metrics?max_events=500"
        seen = []
        with httpx.stream("GET", url, headers=headers, timeout=10) as response:
            for name, data in read_events(response, 2000):
                if name != "kraken_metrics":
                    continue
                seen.append(json.loads(data))
                if len(seen) == 1:
                    handle.trading.feed_message("kraken", "ETH-USD", 0.250)
                    handle.trading.feed_status("kraken", False)
                if seen[-1]["ws_status"] == "disconnected":
                    break
        assert seen[0]["ws_status"] == "unknown" and seen[0]["latency_p99_ms"] == 0
        assert seen[-1]["latency_p99_ms"] == pytest.approx(250, rel=0.01)
    finally:
        server.close()
