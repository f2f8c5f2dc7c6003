"""The JSON API through Flask's test client and Starlette's TestClient: every endpoint, status
code and error case, the same JSON from both, and the SSE stream over real servers."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import logging
import re
import threading
import time
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

import otelmetrics
from otelmetrics.api.downloads import FIELDS
from otelmetrics.insights.stats import Stats
from otelmetrics.pipeline import default as pipeline_default
from tests.builders import make_stats
from tests.clock import Clock
from tests.integration.api_apps import (
    ApiClient,
    make_app,
    read_events,
    serve,
    wait_until,
)

MONITOR_FIELDS = set(FIELDS)
# CPU and memory of this test process are not what these tests are about: keep them quiet.
PROTECTED = [
    ("GET", "current"),
    ("GET", "history"),
    ("GET", "statistics"),
    ("POST", "reset"),
    ("GET", "export/json"),
    ("GET", "export/csv"),
    ("GET", "alerts"),
    ("GET", "metric/latency_p95_ms"),
    ("GET", "summary"),
    ("GET", "users"),
    ("GET", "sse/metrics?max_events=1"),
]
ADMIN_ONLY = [("POST", "reset"), ("GET", "users")]


def injected_stats(handle, clock, monotonic=time.perf_counter):
    """Replace the handle's statistics with ones on injected clocks (no sampling thread)."""
    handle.stats.stop()
    handle.stats = make_stats(handle, clock=clock, monotonic=monotonic, start=False)
    return handle.stats


def traffic(client, ok=0, fail=0, **headers):
    for _ in range(ok):
        assert client.get("/ok", **headers).status == 200
    for _ in range(fail):
        assert client.get("/fail", **headers).status == 500


# -- authorization -------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_every_endpoint_but_health_and_the_page_needs_credentials(client, method, path):
    reply = client.request(method, f"/api/metrics/{path}")
    assert reply.status == 401
    assert reply.body == b'{"error":"Authentication required"}'
    assert reply.headers["www-authenticate"].startswith("Bearer")
    assert client.get("health").status == 200
    assert client.get("/api/metrics/dashboard").status == 200


@pytest.mark.parametrize(
    "authorization", ["Bearer wrong", "Basic dXNlcjpwYXNz", "Bearer", "", "bearer  "]
)
def test_wrong_or_malformed_credentials_are_401(client, authorization):
    reply = client.get("current", Authorization=authorization)
    assert reply.status == 401
    assert reply.json() == {"error": "Authentication required"}


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_the_read_token_reads_but_is_403_on_admin_endpoints(client, tokens, method, path):
    reply = client.request(method, f"/api/metrics/{path}", tokens.read)
    if (method, path) in ADMIN_ONLY:
        assert reply.status == 403
        assert reply.json() == {"error": "Admin role required"}
    else:
        assert reply.status == 200, reply.body


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_the_admin_token_may_do_everything(client, tokens, method, path):
    assert client.request(method, f"/api/metrics/{path}", tokens.admin).status == 200


def test_public_reads_need_no_credentials_but_reset_stays_admin(make_handle, framework):
    client = ApiClient(framework, make_app(framework, make_handle(api_public=True)))
    assert client.get("current").status == 200
    assert client.post("reset").status == 403
    assert client.get("users").status == 403


def test_an_app_without_a_handle_is_served_as_configure_said(make_handle, framework, monkeypatch):
    handle = make_handle(api_public=True)  # configure(api_public=True), then instrument(app)
    monkeypatch.setattr(pipeline_default, "_default", handle)
    client = ApiClient(framework, make_app(framework, None))
    assert client.get("current").status == 200
    assert client.post("reset").status == 403


def test_locked_without_any_token_hook_or_public(make_handle, framework):
    handle = make_handle(api_token=None, api_admin_token=None)
    client = ApiClient(framework, make_app(framework, handle))
    assert client.get("current", Authorization="Bearer anything").status == 401
    assert client.get("health").status == 200


def test_an_authorize_hook_admits_the_apps_own_users(make_handle, framework):
    seen = []

    def authorize(info):
        seen.append(info)
        return {"boss": "admin", "alice": "read"}.get(info.request.headers.get("X-Test-User"))

    handle = make_handle(api_token=None, api_admin_token=None)
    client = ApiClient(framework, make_app(framework, handle, authorize=authorize))
    assert client.get("current", **{"X-Test-User": "alice"}).status == 200
    assert client.post("reset", **{"X-Test-User": "alice"}).status == 403
    assert client.post("reset", **{"X-Test-User": "boss"}).status == 200
    assert client.get("current", **{"X-Test-User": "mallory"}).status == 401
    assert seen[0].method == "GET" and seen[0].path == "/api/metrics/current"
    assert seen[0].headers["x-test-user"] == "alice"
    assert type(seen[0].request).__module__.split(".")[0] in {"flask", "werkzeug", "starlette"}


def test_a_hook_that_raises_denies_and_is_logged(make_handle, framework, caplog):
    def authorize(info):
        raise RuntimeError("session store down")

    handle = make_handle(api_token=None, api_admin_token=None)
    client = ApiClient(framework, make_app(framework, handle, authorize=authorize))
    with caplog.at_level(logging.DEBUG, logger="otelmetrics.api.auth"):
        assert client.get("current").status == 401
        assert client.get("current").status == 401
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) <= 1 and any("hook raised" in r.getMessage() for r in caplog.records)


# -- the endpoints -------------------------------------------------------------------------


def test_current_has_the_monitor_fields(client, tokens):
    traffic(client, ok=4, fail=1)
    body = client.get("current", tokens.read).json()
    assert body["success"] is True and set(body) == {"success", "metrics", "timestamp"}
    assert MONITOR_FIELDS <= set(body["metrics"])
    assert body["metrics"]["total_requests"] == 5
    assert body["metrics"]["total_errors"] == 1
    assert body["metrics"]["error_rate_pct"] == 20.0


def test_api_requests_are_not_counted_as_traffic(client, tokens):
    for _ in range(3):
        client.get("current", tokens.read)
    assert client.get("current", tokens.read).json()["metrics"]["total_requests"] == 0


def test_history_has_one_snapshot_per_minute(client, handle, tokens):
    clock = Clock(1_769_300_000.0)
    stats = injected_stats(handle, clock)
    for _ in range(4):
        stats.tick()
        clock.now += 60
    body = client.get("history?minutes=60", tokens.read).json()
    assert body["count"] == len(body["history"]) == 4 and body["minutes"] == 60
    assert all(MONITOR_FIELDS <= set(row) for row in body["history"])
    stamps = [row["timestamp"] for row in body["history"]]
    assert stamps == sorted(stamps)
    assert client.get("history?minutes=2", tokens.read).json()["count"] == 2
    assert client.get("history", tokens.read).json()["minutes"] == 60


BAD_PARAMETERS = [
    ("history?minutes=abc", 400, "minutes", {"min": 1, "max": 60}),
    ("history?minutes=-1", 400, "minutes", {"min": 1, "max": 60}),
    ("history?minutes=0", 400, "minutes", {"min": 1, "max": 60}),
    ("history?minutes=61", 400, "minutes", {"min": 1, "max": 60}),
    ("history?minutes=1.5", 400, "minutes", {"min": 1, "max": 60}),
    (f"metric/latency_p95_ms?last_n={10**9}", 400, "last_n", {"min": 1, "max": 1000}),
    ("metric/latency_p95_ms?last_n=abc", 400, "last_n", {"min": 1, "max": 1000}),
    ("metric/latency_p95_ms?last_n=0", 400, "last_n", {"min": 1, "max": 1000}),
    ("metric/no_such_statistic", 404, "name", list(Stats.STATISTICS)),
    ("sse/metrics?max_events=0", 400, "max_events", {"min": 1, "max": 100_000}),
]


@pytest.mark.parametrize(("path", "status", "parameter", "allowed"), BAD_PARAMETERS)
def test_bad_parameters_name_the_parameter_and_what_it_allows(
    client, tokens, path, status, parameter, allowed
):
    reply = client.get(path, tokens.read)
    assert reply.status == status
    body = reply.json()
    assert body["parameter"] == parameter and body["allowed"] == allowed
    assert parameter in body["error"]


def test_history_max_follows_history_minutes(make_handle, framework, tokens):
    client = ApiClient(framework, make_app(framework, make_handle(history_minutes=10)))
    assert client.get("history?minutes=10", tokens.read).status == 200
    reply = client.get("history?minutes=11", tokens.read)
    assert reply.status == 400 and reply.json()["allowed"] == {"min": 1, "max": 10}


def test_statistics(client, tokens):
    traffic(client, ok=3, fail=1)
    stats = client.get("statistics", tokens.read).json()["statistics"]
    assert MONITOR_FIELDS <= set(stats["current"])
    assert stats["totals"] == {"total_requests": 4, "total_errors": 1, "total_error_rate_pct": 25.0}
    assert stats["configuration"] == {
        "window_seconds": 300.0,
        "user_timeout_seconds": 300.0,
        "max_history_minutes": 60,
    }


def test_reset_starts_from_zero(client, tokens):
    traffic(client, ok=3)
    body = client.post("reset", tokens.admin).json()
    assert body["success"] is True and body["message"] == "Metrics statistics reset successfully"
    assert client.get("current", tokens.read).json()["metrics"]["total_requests"] == 0


def test_reset_is_post_only(client, tokens):
    assert client.get("reset", tokens.admin).status == 405


def test_users_lists_active_ids_to_admins_only(client, tokens):
    traffic(client, ok=1, **{"X-User-Id": "alice"})
    traffic(client, ok=2, **{"X-User-Id": "bob"})
    body = client.get("users", tokens.admin).json()
    assert body["users"] == ["alice", "bob"] and body["count"] == 2
    assert client.get("users", tokens.read).status == 403
    assert client.get("current", tokens.read).json()["metrics"]["active_users"] == 2


def test_metric_series_and_summary(client, tokens):
    traffic(client, ok=3)
    body = client.get("metric/total_requests?last_n=5", tokens.read).json()
    assert body["metric"] == "total_requests" and body["last_n"] == 5
    assert 1 <= body["count"] == len(body["data"]) <= 5
    assert body["data"][-1]["value"] == 3 and "timestamp" in body["data"][-1]
    summary = client.get("summary", tokens.read).json()["summary"]
    assert set(summary) == set(Stats.STATISTICS)
    assert set(summary["latency_p95_ms"]) == {"count", "mean", "min", "max", "latest"}


def test_health_needs_no_credentials_and_is_200_when_healthy(client):
    reply = client.get("health")
    assert reply.status == 200
    body = reply.json()
    assert body["success"] is True and body["status"] == "healthy"
    assert body["version"] == otelmetrics.__version__
    assert {"components", "checks", "current_rpm", "timestamp"} <= set(body)


def test_an_error_burst_raises_alerts_and_health_answers_503(client, tokens):
    traffic(client, ok=5, fail=15)
    alerts = client.get("alerts", tokens.read).json()
    [alert] = [a for a in alerts["alerts"] if a["name"] == "HIGH_ERROR_RATE"]
    assert alert["severity"] == "critical" and alert["category"] == "errors"
    assert alert["value"] == 75.0 and alert["threshold"] == 5.0
    assert {"message", "since"} <= set(alert) and alerts["count"] == len(alerts["alerts"])
    reply = client.get("health")
    assert reply.status == 503
    assert reply.json()["status"] == "unhealthy"


def test_a_warning_level_breach_is_degraded_and_still_200(client, tokens):
    traffic(client, ok=17, fail=3)  # 15 %: critical (above twice the 5 % threshold)
    assert client.get("health").json()["status"] == "unhealthy"
    traffic(client, ok=20)  # 3 of 40: 7.5 %, between the threshold and the critical level
    reply = client.get("health")
    assert reply.status == 200 and reply.json()["status"] == "degraded"


def test_export_json_is_a_timestamped_download(client, handle, tokens):
    injected_stats(handle, Clock(1_769_300_000.0)).tick()
    reply = client.get("export/json", tokens.read)
    assert reply.status == 200 and reply.headers["content-type"] == "application/json"
    disposition = reply.headers["content-disposition"]
    assert re.fullmatch(r'attachment; filename="metrics_\d{8}_\d{6}\.json"', disposition)
    body = reply.json()
    assert {"statistics", "summary", "history", "version", "timestamp"} <= set(body)
    assert len(body["history"]) == 1


def test_export_csv_is_the_history_as_a_timestamped_download(client, handle, tokens):
    clock = Clock(1_769_300_000.0)
    stats = injected_stats(handle, clock)
    for _ in range(3):
        stats.tick()
        clock.now += 60
    reply = client.get("export/csv", tokens.read)
    assert reply.status == 200 and reply.headers["content-type"].startswith("text/csv")
    disposition = reply.headers["content-disposition"]
    assert re.fullmatch(r'attachment; filename="metrics_history_\d{8}_\d{6}\.csv"', disposition)
    rows = list(csv.DictReader(io.StringIO(reply.body.decode())))
    assert len(rows) == 3
    assert list(rows[0])[: len(FIELDS)] == list(FIELDS)
    assert float(rows[0]["latency_p95_ms"]) >= 0


# -- rate limits ---------------------------------------------------------------------------


def test_rate_limits_answer_429_with_retry_after(make_handle, framework, tokens):
    limits = {"read": 3, "export": 2, "reset": 1, "snapshot": 10}
    client = ApiClient(framework, make_app(framework, make_handle(api_rate_limits=limits)))
    for path, allowed in (("export/json", 2), ("current", 3)):
        for _ in range(allowed):
            assert client.get(path, tokens.read).status == 200
        reply = client.get(path, tokens.read)
        assert reply.status == 429
        assert int(reply.headers["retry-after"]) >= 1
        assert reply.json()["error"] == "Rate limit exceeded"
    assert client.post("reset", tokens.admin).status == 200
    assert client.post("reset", tokens.admin).status == 429


def test_unauthenticated_floods_are_rate_limited_too(make_handle, framework):
    limits = {"read": 2, "export": 2, "reset": 1, "snapshot": 10, "denied": 2}
    client = ApiClient(framework, make_app(framework, make_handle(api_rate_limits=limits)))
    assert [client.get("current").status for _ in range(3)] == [401, 401, 429]
    assert client.get("current").json()["limit"] == "denied"


def test_a_flood_without_credentials_starves_neither_health_nor_valid_tokens(
    make_handle, framework, tokens
):
    """Behind a proxy every client shares one address: 100 requests refused for their
    credentials spend the denied budget only. /health has no budget; a token still reads."""
    client = ApiClient(framework, make_app(framework, make_handle()))
    statuses = [client.get(("current", "history", "alerts")[i % 3]).status for i in range(100)]
    assert statuses == [401] * 100
    assert client.get("current", "wrong-token").status == 429  # the flood's own budget is spent
    assert client.get("health").status == 200
    assert client.get("current", tokens.read).status == 200
    assert client.post("reset", tokens.admin).status == 200
    assert client.get("dashboard").status == 200  # the data-free page, never limited


def test_health_is_never_rate_limited(make_handle, framework):
    limits = {"read": 1, "export": 1, "reset": 1, "snapshot": 1, "denied": 1}
    client = ApiClient(framework, make_app(framework, make_handle(api_rate_limits=limits)))
    assert {client.get("health").status for _ in range(300)} == {200}


def test_a_read_token_on_an_admin_endpoint_spends_the_denied_budget(
    make_handle, framework, tokens, limiter_clock
):
    limits = {"read": 100, "export": 10, "reset": 5, "snapshot": 10, "denied": 3}
    client = ApiClient(framework, make_app(framework, make_handle(api_rate_limits=limits)))
    assert [client.post("reset", tokens.read).status for _ in range(4)] == [403] * 3 + [429]
    assert client.get("current", tokens.read).status == 200
    assert client.post("reset", tokens.admin).status == 200
    limiter_clock.advance(20)  # one token back at 3 per minute
    assert client.post("reset", tokens.read).status == 403


# -- identical JSON from both frameworks ----------------------------------------------------

VOLATILE = {"timestamp", "since", "memory_usage_pct", "memory_usage_mb", "cpu_usage_pct"}
SAME_REQUESTS = [
    ("GET", "current", "read"),
    ("GET", "history?minutes=5", "read"),
    ("GET", "statistics", "read"),
    ("GET", "alerts", "read"),
    ("GET", "metric/latency_p95_ms?last_n=3", "read"),
    ("GET", "summary", "read"),
    ("GET", "users", "admin"),
    ("GET", "health", None),
    ("GET", "export/json", "read"),
    ("GET", "export/csv", "read"),
    ("GET", "current", None),
    ("GET", "users", "read"),
    ("GET", "history?minutes=abc", "read"),
    ("GET", "metric/latency_p95_ms?last_n=1000000000", "read"),
    ("GET", "metric/unknown", "read"),
    ("POST", "reset", "admin"),
]


def masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "*" if k in VOLATILE else masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(item) for item in value]
    return value


def test_both_frameworks_send_the_same_json(make_handle, tokens):
    handle = make_handle()
    frozen: list[float] = []  # the window follows perf_counter during the traffic, then stops

    def monotonic():
        return frozen[0] if frozen else time.perf_counter()

    stats = injected_stats(handle, Clock(1_769_300_000.0), monotonic)
    flask = ApiClient("flask", make_app("flask", handle))
    fastapi = ApiClient("fastapi", make_app("fastapi", handle))
    traffic(flask, ok=6, fail=2, **{"X-User-Id": "alice"})
    traffic(fastapi, ok=6, fail=2, **{"X-User-Id": "bob"})
    frozen.append(time.perf_counter())
    stats.tick()
    for method, path, role in SAME_REQUESTS:
        token = getattr(tokens, role) if role else None
        one = flask.request(method, f"/api/metrics/{path}", token)
        other = fastapi.request(method, f"/api/metrics/{path}", token)
        assert one.status == other.status, path
        for header in ("content-type", "cache-control", "www-authenticate"):
            assert one.headers.get(header) == other.headers.get(header), (path, header)
        if path.startswith("export/csv"):
            assert one.body.split(b"\r\n")[0] == other.body.split(b"\r\n")[0]
            continue
        assert masked(one.json()) == masked(other.json()), path
        disposition = one.headers.get("content-disposition", "")
        assert disposition[:30] == other.headers.get("content-disposition", "")[:30]


# -- X-Response-Time, mounting -------------------------------------------------------------


def test_response_time_header_when_enabled(make_handle, framework):
    client = ApiClient(framework, make_app(framework, make_handle(response_time_header=True)))
    for path in ("/ok", "/fail", "/missing"):
        value = client.get(path).headers["x-response-time"]
        assert re.fullmatch(r"\d+\.\d{2}ms", value), value
        assert float(value[:-2]) < 5000


def test_no_response_time_header_by_default(client):
    assert "x-response-time" not in client.get("/ok").headers


def test_api_false_mounts_nothing(make_handle, framework, tokens):
    client = ApiClient(framework, make_app(framework, make_handle(), api=False))
    assert client.get("health").status == 404
    assert client.get("current", tokens.read).status == 404
    assert client.get("/api/metrics/dashboard").status == 404


def test_a_custom_prefix_and_page_path(make_handle, framework, tokens):
    handle = make_handle(api_prefix="/ops/stats", dashboard_path="/ops/live")
    client = ApiClient(framework, make_app(framework, handle), prefix="/ops/stats")
    assert client.get("current", tokens.read).status == 200
    assert client.get("/api/metrics/current", tokens.read).status == 404
    page = client.get("/ops/live")
    assert page.status == 200 and b'"api": "/ops/stats"' in page.body


def test_uninstrument_unmounts_the_api_and_instrument_mounts_it_again(client, handle, tokens):
    assert client.get("health").status == 200
    otelmetrics.uninstrument(client.app)
    assert client.get("health").status == 404
    assert client.get("current", tokens.read).status == 404
    otelmetrics.instrument(client.app, handle=handle)
    assert client.get("current", tokens.read).status == 200


# -- the live page -------------------------------------------------------------------------


def test_the_live_page_holds_no_data_and_allows_only_its_own_script(client, tokens):
    reply = client.get("/api/metrics/dashboard")
    assert reply.status == 200 and reply.headers["content-type"].startswith("text/html")
    page = reply.body.decode()
    for element in (
        "kpi-request-rate",
        "kpi-error-rate",
        "kpi-latency-p95",
        "kpi-active-users",
        "kpi-memory",
        "kpi-cpu",
        "card-error-rate",
        "chart-request-rate",
        "chart-latency",
        "chart-resources",
        "chart-websockets",
        "token-input",
        "trading-panel",
        "circuit-breaker-banner",
    ):
        assert f'id="{element}"' in page, element
    assert tokens.read not in page and tokens.admin not in page
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in page
    policy = reply.headers["content-security-policy"]
    script = re.search(r"<script>(.*)</script>", page, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in policy
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy


# -- Server-Sent Events --------------------------------------------------------------------

# ?max_events=3: the opening update, then two ticks; kraken_metrics follows every update.
EVENT_SEQUENCE = [
    "metrics_update",
    "kraken_metrics",
    "metrics_update",
    "kraken_metrics",
    "heartbeat",
    "metrics_update",
    "kraken_metrics",
    "heartbeat",
]


def test_sse_through_the_test_clients_is_bounded_by_max_events(client, tokens):
    reply = client.get("sse/metrics?max_events=3", tokens.read)
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("text/event-stream")
    assert reply.headers["cache-control"] == "no-store"
    text = reply.body.decode()
    assert text.startswith("retry: 20\n\n")
    events = re.findall(r"event: (\w+)\ndata: (.*)\n\n", text)
    assert [name for name, _ in events] == EVENT_SEQUENCE


def count_calls(stats):
    """Count calls of ``stats.current`` (the SSE stream calls it once per update)."""
    calls = SimpleNamespace(n=0)
    current = stats.current

    def counted():
        calls.n += 1
        return current()

    stats.current = counted
    return calls


def open_stream(server, token, query=""):
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{server.url}/api/metrics/sse/metrics{query}"
    return httpx.stream("GET", url, headers=headers, timeout=10)


def test_sse_over_a_real_server_ends_after_max_events(make_handle, framework, tokens):
    server = serve(framework, make_app(framework, make_handle()))
    try:
        with open_stream(server, tokens.read, "?max_events=3") as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            events = list(read_events(response, 100))  # ends when the server ends the stream
        assert [name for name, _ in events] == EVENT_SEQUENCE
        assert MONITOR_FIELDS <= set(json.loads(events[0][1]))
        assert set(json.loads(events[4][1])) == {"timestamp"}
    finally:
        server.close()


def test_sse_updates_follow_the_traffic(make_handle, framework, tokens):
    server = serve(framework, make_app(framework, make_handle()))
    try:
        totals = []
        with open_stream(server, tokens.read, "?max_events=500") as response:
            for name, data in read_events(response, 1000):
                if name != "metrics_update":
                    continue
                totals.append(json.loads(data)["total_requests"])
                if len(totals) == 1:
                    for _ in range(3):
                        assert httpx.get(f"{server.url}/ok").status_code == 200
                if totals[-1] == 3:
                    break
        assert totals[0] == 0 and totals[-1] == 3
    finally:
        server.close()


def test_sse_stream_ends_when_the_client_disconnects(make_handle, framework, tokens):
    handle = make_handle()
    calls = count_calls(handle.stats)
    server = serve(framework, make_app(framework, handle))
    try:
        headers = {"Authorization": f"Bearer {tokens.read}"}
        with httpx.stream("GET", f"{server.url}/api/metrics/sse/metrics", headers=headers) as r:
            assert len(list(read_events(r, 3))) == 3  # no max_events: it would run forever
        assert calls.n >= 2

        def stopped():
            before = calls.n
            time.sleep(0.3)  # fifteen SSE intervals
            return calls.n == before

        wait_until(stopped, "the SSE stream to stop after its client left", timeout=10)
        lingering = [t for t in threading.enumerate() if "process_request" in t.name]
        assert lingering == []
    finally:
        server.close()


def test_open_streams_are_capped_and_a_slot_comes_back_when_its_client_leaves(
    make_handle, framework, tokens
):
    server = serve(framework, make_app(framework, make_handle(sse_max_streams=1)))
    url = f"{server.url}/api/metrics/sse/metrics"
    headers = {"Authorization": f"Bearer {tokens.read}"}
    try:
        with httpx.stream("GET", url, headers=headers) as first:
            chunks = first.iter_raw()  # kept open: a finished reader would close the stream
            assert b"metrics_update" in next(chunks)  # streaming, holding the only slot
            refused = httpx.get(url, headers=headers)
            assert refused.status_code == 503
            assert refused.json() == {"error": "Too many open streams", "limit": 1}
            assert int(refused.headers["Retry-After"]) >= 1

        def reopened():
            with httpx.stream("GET", url + "?max_events=1", headers=headers) as again:
                return again.status_code == 200 and len(list(read_events(again, 2))) == 2

        wait_until(reopened, "the slot to come back after the first client left", timeout=10)
    finally:
        server.close()


# -- wrong methods and unknown paths under the prefix: the API's own JSON -------------------


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("POST", "/api/metrics/current", ["GET", "HEAD"]),
        ("DELETE", "/api/metrics/reset", ["POST"]),
        ("GET", "/api/metrics/clear", ["POST"]),
        ("PUT", "/api/metrics/metric/latency_p95_ms", ["GET", "HEAD"]),
        ("OPTIONS", "/api/metrics/health", ["GET", "HEAD"]),
        ("PATCH", "/api/metrics/dashboard", ["GET", "HEAD"]),
    ],
)
def test_a_wrong_method_answers_405_in_json(client, method, path, allowed):
    reply = client.request(method, path)
    assert reply.status == 405
    assert reply.headers["content-type"] == "application/json"
    assert reply.json() == {"error": "Method not allowed", "allowed": allowed}
    assert reply.headers["allow"] == ", ".join(allowed)


@pytest.mark.parametrize(
    "path", ["/api/metrics/nope", "/api/metrics", "/api/metrics/", "/api/metrics/current/x"]
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_unknown_path_under_the_prefix_answers_404_in_json(client, method, path):
    reply = client.request(method, path)
    assert reply.status == 404
    assert reply.headers["content-type"] == "application/json"
    assert reply.json() == {"error": "Not found: no API endpoint at this path"}


def test_the_apps_own_404_and_405_stay_the_frameworks(client, framework):
    missing, wrong = client.request("GET", "/nope"), client.request("POST", "/ok")
    assert (missing.status, wrong.status) == (404, 405)
    if framework == "flask":
        assert missing.headers["content-type"].startswith("text/html")
        assert wrong.headers["content-type"].startswith("text/html")
    else:
        assert missing.json() == {"detail": "Not Found"}
        assert wrong.json() == {"detail": "Method Not Allowed"}
