import gzip
import secrets
import urllib.error
import urllib.request

import pytest
from flask import Flask

import otelmetrics
from otelmetrics.pipeline.prometheus import accepts_gzip, allowed
from otelmetrics.settings import Settings
from tests.integration.processes import PYTHON, free_port, get, start, stop, wait_http


def scrape(url, token=None):
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_own_port_server_serves_the_same_registry():
    handle = otelmetrics.configure(prometheus_port=0, prometheus_host="127.0.0.1", set_global=False)
    app = Flask("port")
    app.add_url_rule("/x", "x", lambda: "x")
    otelmetrics.instrument(app, handle=handle)
    app.test_client().get("/x")
    port = handle.prometheus_server.server_port
    status, body = scrape(f"http://127.0.0.1:{port}/metrics")
    handle.shutdown()
    assert status == 200
    assert 'http_route="/x"' in body


def test_token_is_required_when_configured():
    token = secrets.token_hex(16)
    handle = otelmetrics.configure(
        prometheus_port=0,
        prometheus_host="127.0.0.1",
        metrics_token=token,
        set_global=False,
    )
    url = f"http://127.0.0.1:{handle.prometheus_server.server_port}/metrics"
    assert scrape(url)[0] == 401
    assert scrape(url, "wrong")[0] == 401
    assert scrape(url, token)[0] == 200
    handle.shutdown()


def test_port_in_use_is_logged_not_raised(caplog):
    first = otelmetrics.configure(prometheus_port=0, prometheus_host="127.0.0.1", set_global=False)
    taken = first.prometheus_server.server_port
    second = otelmetrics.configure(
        prometheus_port=taken, prometheus_host="127.0.0.1", set_global=False
    )
    assert second.prometheus_server is None
    assert "could not serve Prometheus metrics" in caplog.text
    first.shutdown()
    second.shutdown()


@pytest.mark.parametrize(
    ("settings", "client", "header", "ok"),
    [
        ({}, "127.0.0.1", None, True),
        ({}, "::1", None, True),
        ({}, "::ffff:127.0.0.1", None, True),  # IPv4 on a dual-stack server bound to [::]
        ({}, "::ffff:10.0.0.7", None, False),
        ({}, "testclient", None, False),  # names are not addresses: anyone can claim them
        ({}, "localhost", None, False),
        ({}, None, None, False),
        ({}, "10.0.0.7", None, False),
        ({"metrics_public": True}, "10.0.0.7", None, True),
        ({"metrics_token": "t0ken-value"}, "127.0.0.1", None, False),
        ({"metrics_token": "t0ken-value"}, "10.0.0.7", "Bearer t0ken-value", True),
        ({"metrics_token": "t0ken-value"}, "10.0.0.7", "Basic t0ken-value", False),
    ],
)
def test_access_rules(settings, client, header, ok):
    assert allowed(Settings.from_env({}, **settings), client, header) is ok


def test_in_app_endpoint_refuses_remote_clients_without_a_token(metrics):
    app = Flask("remote")
    otelmetrics.instrument(app, handle=metrics.handle)
    client = app.test_client()
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 401
    assert client.get("/metrics").status_code == 200


def test_a_server_bound_to_all_ipv6_addresses_serves_ipv4_loopback_without_a_token():
    port = free_port()
    server = start(
        [PYTHON, "-m", "gunicorn", "-b", f"[::]:{port}", "tests.integration.apps.flask_app:app"],
        {"OTEL_METRICS_EXPORTER": "prometheus"},
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/items/1", server)
        assert get(f"http://127.0.0.1:{port}/metrics") == 200  # seen as ::ffff:127.0.0.1
        assert get(f"http://[::1]:{port}/metrics") == 200
    finally:
        stop(server)


def fetch(url, encoding):
    request = urllib.request.Request(url, headers={"Accept-Encoding": encoding})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.headers.get("Content-Encoding"), response.read()


def test_every_metrics_endpoint_gzips_when_the_scraper_accepts_it():
    from fastapi import FastAPI
    from starlette.testclient import TestClient

    import otelmetrics.fastapi

    handle = otelmetrics.configure(prometheus_port=0, prometheus_host="127.0.0.1", set_global=False)
    flask_app = Flask("gzip")
    flask_app.add_url_rule("/x", "x", lambda: "x")
    otelmetrics.instrument(flask_app, handle=handle)
    flask_client = flask_app.test_client()
    flask_client.get("/x")
    fastapi_client = TestClient(FastAPI(), client=("127.0.0.1", 5000))
    otelmetrics.fastapi.instrument_app(fastapi_client.app, handle=handle)
    url = f"http://127.0.0.1:{handle.prometheus_server.server_port}/metrics"
    try:
        plain = fetch(url, "identity")
        assert plain[0] is None and b'http_route="/x"' in plain[1]
        encoding, body = fetch(url, "br;q=1.0, gzip;q=0.5")
        assert encoding == "gzip" and gzip.decompress(body) == plain[1]
        assert fetch(url, "gzip;q=0")[0] is None
        for answer in (
            flask_client.get("/metrics", headers={"Accept-Encoding": "gzip"}),
            fastapi_client.get("/metrics", headers={"Accept-Encoding": "gzip"}),
        ):
            assert answer.headers["Content-Encoding"] == "gzip"
            assert answer.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            text = answer.content if hasattr(answer, "content") else gzip.decompress(answer.data)
            assert b'http_route="/x"' in text
    finally:
        handle.shutdown()


@pytest.mark.parametrize(
    ("header", "accepted"),
    [(None, False), ("gzip", True), ("deflate, GZIP", True), ("*", True), ("gzip;q=0", False)]
    + [("gzip; q=0.0", False), ("identity", False), ("gzip;q=bad", True)],
)
def test_accepts_gzip(header, accepted):
    assert accepts_gzip(header) is accepted
