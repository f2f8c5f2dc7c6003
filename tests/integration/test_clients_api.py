"""``/clients`` (outgoing calls per upstream host) on Flask and FastAPI: auth, shape, order."""

from __future__ import annotations

from otelmetrics.insights.clients import ClientRow
from tests.integration.api_apps import ApiClient, assert_shape, make_app


def calls(handle, host, statuses, error_type=None):
    clients = handle.http_clients
    for status in statuses:
        call = clients.start("GET", host, 443, "https")
        clients.finish(call, status, error_type, None, None)


def test_clients_needs_a_credential(client):
    assert client.get("clients").status == 401


def test_the_failing_upstream_comes_first(client, handle, tokens):
    calls(handle, "api.exchange.example", [200] * 10)
    calls(handle, "broker.example", [200, 404])
    calls(handle, "feed.example", [None, 503], error_type="ConnectError")
    reply = client.get("clients", tokens.read)
    assert reply.status == 200
    body = reply.json()
    hosts = [row["host"] for row in body["clients"]]
    assert hosts == ["feed.example", "broker.example", "api.exchange.example"]
    assert body["count"] == 3 and body["window_seconds"] == 300.0
    rows = {row["host"]: row for row in body["clients"]}
    assert rows["feed.example"]["failure_rate_pct"] == 100.0  # a 503 and no response
    assert rows["broker.example"]["error_rate_pct"] == 50.0
    assert rows["broker.example"]["failure_rate_pct"] == 0.0
    assert rows["api.exchange.example"]["requests"] == 10
    for row in body["clients"]:
        assert_shape(row, ClientRow)
        assert row["latency_p50_ms"] <= row["latency_p95_ms"] <= row["latency_p99_ms"]
        assert row["overflow"] is False


def test_hosts_outside_the_allow_list_share_one_row(framework, make_handle, tokens):
    handle = make_handle(client_hosts=("api.exchange.example",))
    client = ApiClient(framework, make_app(framework, handle))
    calls(handle, "api.exchange.example", [200])
    calls(handle, "elsewhere.example", [200])
    calls(handle, "other.example", [200])
    rows = client.get("clients", tokens.read).json()["clients"]
    assert {row["host"]: row["requests"] for row in rows} == {
        "api.exchange.example": 1,
        "_OTHER": 2,
    }
    assert [row["overflow"] for row in rows if row["host"] == "_OTHER"] == [True]


def test_reset_empties_the_clients_table(client, handle, tokens):
    calls(handle, "api.exchange.example", [200])
    assert client.post("reset", tokens.admin).status == 200
    assert client.get("clients", tokens.read).json()["clients"] == []
