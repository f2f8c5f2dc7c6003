"""HttpClientMetrics and the client patches' helpers: attributes, bounds, fork reset, origins."""

import logging
from time import perf_counter

from otelmetrics.adapters.client_calls import origin, url_template
from otelmetrics.adapters.client_calls import template as current_template
from otelmetrics.instruments.http_client import HttpClientMetrics


def series(metrics):
    return {tuple(sorted(attrs.items())): aggs for attrs, aggs in metrics.requests.snapshot()}


def test_attributes_follow_the_stable_conventions():
    metrics = HttpClientMetrics(limit=100)
    call = metrics.start("get", "api.exchange.example", 443, "https")  # not a known method
    metrics.finish(call, 503, None, 12, 40, "/orders/{id}")
    ((attributes, (duration, request, response)),) = metrics.requests.snapshot()
    assert attributes == {
        "http.request.method": "_OTHER",
        "server.address": "api.exchange.example",
        "server.port": 443,
        "http.response.status_code": 503,
        "error.type": "503",
        "url.scheme": "https",
        "url.template": "/orders/{id}",
    }
    assert duration.n == 1 and request.total == 12 and response.total == 40
    ((active_attributes, (active,)),) = metrics.active.snapshot()
    assert set(active_attributes) == {
        "http.request.method",
        "server.address",
        "server.port",
        "url.scheme",
    }
    assert active == 0


def test_a_call_without_a_response_has_no_status():
    metrics = HttpClientMetrics(limit=100)
    metrics.finish(metrics.start("GET", "h", 80, "http"), None, "ConnectError", None, None)
    ((attributes, _),) = metrics.requests.snapshot()
    assert "http.response.status_code" not in attributes
    assert attributes["error.type"] == "ConnectError"
    [(host, view)] = metrics.read_hosts(lambda windows: windows.views(perf_counter()))
    assert host == "h" and view.server_errors == 1  # counted as the upstream's failure


def test_hosts_beyond_the_cap_are_other(caplog):
    metrics = HttpClientMetrics(limit=100, max_hosts=3)
    with caplog.at_level(logging.WARNING):
        for index in range(6):
            metrics.finish(metrics.start("GET", f"h{index}", 80, "http"), 200, None, None, None)
    hosts = sorted(dict(key)["server.address"] for key in series(metrics))
    assert hosts == ["_OTHER", "h0", "h1", "h2"]
    assert caplog.text.count("OTELMETRICS_CLIENT_HOSTS") == 1
    rows = metrics.read_hosts(lambda windows: windows.views(perf_counter()))
    assert {host: view.requests for host, view in rows} == {"h0": 1, "h1": 1, "h2": 1, "_OTHER": 3}


def test_reset_starts_from_zero():
    metrics = HttpClientMetrics(limit=100)
    metrics.finish(metrics.start("GET", "h", 80, "http"), 200, None, None, None)
    metrics.reset()
    assert metrics.requests.snapshot() == []
    assert metrics.read_hosts(lambda windows: windows.views(perf_counter())) == []


def test_origin_reads_only_scheme_host_and_port():
    assert origin("https://user:pw@API.example:8443/p?q=secret#f") == ("api.example", 8443, "https")
    assert origin("http://[::1]/x") == ("::1", 80, "http")
    assert origin("https://h.example?q=1") == ("h.example", 443, "https")
    assert origin("http://h:notaport/") == ("h", 80, "http")
    assert origin("/relative") == (None, None, "http")


def test_url_template_is_scoped_to_its_block():
    assert current_template() is None
    with url_template("/orders/{id}"):
        assert current_template() == "/orders/{id}"
    assert current_template() is None
