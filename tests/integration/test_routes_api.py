"""``/routes`` (what is failing, per route), ``/history?resolution=5s`` and the scope of the
stream, on Flask and FastAPI: auth, shapes, order and bounds."""

from __future__ import annotations

import json

from otelmetrics.insights.routes import RouteRow
from otelmetrics.insights.statistics import STATISTICS
from tests.integration.api_apps import ApiClient, assert_shape, make_app


def traffic(client: ApiClient, path: str, count: int) -> None:
    for _ in range(count):
        client.get(path)


def test_routes_needs_a_credential(client):
    assert client.get("routes").status == 401


def test_the_failing_route_comes_first_with_its_rates(client, tokens):
    traffic(client, "/ok", 30)
    traffic(client, "/missing", 5)
    traffic(client, "/fail", 4)
    reply = client.get("routes", tokens.read)
    assert reply.status == 200
    body = reply.json()
    rows = {row["route"]: row for row in body["routes"]}
    assert [row["route"] for row in body["routes"]] == ["/fail", "/missing", "/ok"]
    assert body["count"] == 3 and body["window_seconds"] == 300.0
    assert rows["/fail"]["server_error_rate_pct"] == 100.0
    assert rows["/missing"]["error_rate_pct"] == 100.0
    assert rows["/missing"]["server_error_rate_pct"] == 0.0
    assert rows["/ok"]["requests"] == 30 and rows["/ok"]["error_rate_pct"] == 0.0
    # a rate divides by at least a minute: 30 requests within a second are 30 per minute
    assert rows["/ok"]["requests_per_min"] == 30.0
    for row in body["routes"]:
        assert_shape(row, RouteRow)
        assert row["latency_p50_ms"] <= row["latency_p95_ms"] <= row["latency_p99_ms"]
        assert row["overflow"] is False


def test_routes_beyond_the_limit_share_one_overflow_row(framework, make_handle, tokens):
    handle = make_handle(cardinality_limit=3)  # two routes of their own, then _OTHER
    client = ApiClient(framework, make_app(framework, handle))
    for path in ("/ok", "/missing", "/fail", "/boom"):
        traffic(client, path, 2)
    rows = client.get("routes", tokens.read).json()["routes"]
    assert len(rows) == 3
    [other] = [row for row in rows if row["overflow"]]
    assert other["route"] == "_OTHER" and other["requests"] == 4


def test_reset_empties_the_route_table(client, tokens):
    traffic(client, "/ok", 3)
    assert client.post("reset", tokens.admin).status == 200
    assert client.get("routes", tokens.read).json()["routes"] == []


def test_history_at_five_second_resolution_has_every_statistic(client, tokens):
    traffic(client, "/ok", 3)
    body = client.get("history?resolution=5s&minutes=5", tokens.read).json()
    assert body["resolution"] == "5s" and body["minutes"] == 5
    assert body["count"] == len(body["history"]) >= 1
    latest = body["history"][-1]
    assert set(latest) == {"timestamp", *STATISTICS}
    assert latest["total_requests"] == 3
    assert client.get("history", tokens.read).json()["resolution"] == "1m"


def test_a_bad_resolution_or_span_is_a_400_naming_the_parameter(client, tokens):
    reply = client.get("history?resolution=1s", tokens.read)
    assert reply.status == 400 and "resolution" in reply.json()["error"]
    assert client.get("history?resolution=5s&minutes=61", tokens.read).status == 400


def test_the_stream_follows_the_service_scope_when_workers_share_a_directory(
    framework, make_handle, tokens, tmp_path
):
    handle = make_handle(stats_dir=str(tmp_path / "stats"))
    client = ApiClient(framework, make_app(framework, handle))
    reply = client.get("sse/metrics?max_events=1&scope=service", tokens.read)
    [update] = [
        json.loads(block.split("data: ", 1)[1])
        for block in reply.body.decode().split("\n\n")
        if "event: metrics_update" in block
    ]
    assert update["workers"] == 1  # the merged view says how many workers it holds
    identity = client.get("dashboard-data", tokens.read).json()["service"]
    assert identity["workers"] == 1 and identity["scope"] == "service"


def test_a_service_scope_without_a_directory_is_a_400(client, tokens):
    reply = client.get("sse/metrics?max_events=1&scope=service", tokens.read)
    assert reply.status == 400 and "OTELMETRICS_STATS_DIR" in reply.json()["error"]


def test_routes_spends_the_read_budget(framework, make_handle, tokens):
    handle = make_handle(api_rate_limits={"read": 2, "export": 10, "snapshot": 10, "reset": 5})
    client = ApiClient(framework, make_app(framework, handle))
    replies = [client.get("routes", tokens.read) for _ in range(3)]
    assert [reply.status for reply in replies] == [200, 200, 429]
    assert replies[-1].json()["error"] == "Rate limit exceeded"
