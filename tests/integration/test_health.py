"""``/health`` judges the service's own failures: what strangers ask for cannot flip it."""

from __future__ import annotations


def test_requests_for_missing_pages_do_not_take_the_instance_out_of_rotation(client, tokens):
    for _ in range(20):
        assert client.get("/ok").status == 200
    for _ in range(3):  # 3 of 23 is 13 %: above the critical level of the >= 400 error rate
        assert client.get("/no-such-page").status == 404
    reply = client.get("health")
    assert reply.status == 200
    body = reply.json()
    assert body["status"] != "unhealthy"
    assert body["checks"]["server_error_rate_pct"]["value"] == 0.0
    current = client.get("current", tokens.read).json()["metrics"]
    assert current["error_rate_pct"] > 10  # the BotV2 field still counts the 404s


def test_server_errors_do_take_it_out(client):
    for _ in range(17):
        assert client.get("/ok").status == 200
    for _ in range(3):
        assert client.get("/fail").status == 500
    reply = client.get("health")
    assert reply.status == 503
    assert reply.json()["checks"]["server_error_rate_pct"]["level"] == "critical"
