"""Outgoing HTTP calls of requests, httpx (sync and async) and aiohttp against a local upstream:
exact counts per status and error.type, exceptions unchanged, bounded attributes."""

import asyncio
import logging

import aiohttp
import httpx
import pytest
import requests
from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY, attach, detach, set_value

import otelmetrics
from otelmetrics.adapters import client_patches, http_clients
from tests.integration.upstream import TIMEOUT, Upstream

DURATION = "http.client.request.duration"
ACTIVE = "http.client.active_requests"


@pytest.fixture
def upstream():
    server = Upstream()
    yield server
    server.close()


@pytest.fixture
def clients(metrics):
    assert otelmetrics.instrument_http_clients(handle=metrics.handle) == [
        "aiohttp",
        "httpx",
        "requests",
    ]
    yield metrics
    otelmetrics.uninstrument_http_clients()


def _requests_calls(upstream):
    with requests.Session() as session:
        for _ in range(3):
            assert session.get(upstream.url + "/ok?api_key=secret").status_code == 200
        for _ in range(2):
            assert session.get(upstream.url + "/fail").status_code == 503
        with pytest.raises(requests.ConnectionError) as refused:
            session.get(upstream.refused_url)
        with pytest.raises(requests.ReadTimeout) as timeout:
            session.get(upstream.url + "/slow", timeout=TIMEOUT)
    return type(refused.value).__qualname__, type(timeout.value).__qualname__


def _httpx_calls(upstream):
    with httpx.Client(timeout=TIMEOUT) as client:
        for _ in range(3):
            assert client.get(upstream.url + "/ok?api_key=secret").status_code == 200
        for _ in range(2):
            assert client.get(upstream.url + "/fail").status_code == 503
        with pytest.raises(httpx.ConnectError) as refused:
            client.get(upstream.refused_url)
        with pytest.raises(httpx.ReadTimeout) as timeout:
            client.get(upstream.url + "/slow")
    return type(refused.value).__qualname__, type(timeout.value).__qualname__


async def _httpx_async(upstream):
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        for _ in range(3):
            assert (await client.get(upstream.url + "/ok?api_key=secret")).status_code == 200
        for _ in range(2):
            assert (await client.get(upstream.url + "/fail")).status_code == 503
        with pytest.raises(httpx.ConnectError) as refused:
            await client.get(upstream.refused_url)
        with pytest.raises(httpx.ReadTimeout) as timeout:
            await client.get(upstream.url + "/slow")
    return type(refused.value).__qualname__, type(timeout.value).__qualname__


async def _aiohttp_async(upstream):
    timeout = aiohttp.ClientTimeout(sock_read=TIMEOUT)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for _ in range(3):
            async with session.get(upstream.url + "/ok?api_key=secret") as response:
                assert response.status == 200
        for _ in range(2):
            async with session.get(upstream.url + "/fail") as response:
                assert response.status == 503
        with pytest.raises(aiohttp.ClientConnectorError) as refused:
            await session.get(upstream.refused_url)
        with pytest.raises(aiohttp.ServerTimeoutError) as timed_out:
            await session.get(upstream.url + "/slow")
    return type(refused.value).__qualname__, type(timed_out.value).__qualname__


CALLS = {
    "requests": (_requests_calls, ("ConnectionError", "ReadTimeout")),
    "httpx": (_httpx_calls, ("ConnectError", "ReadTimeout")),
    "httpx-async": (lambda up: asyncio.run(_httpx_async(up)), ("ConnectError", "ReadTimeout")),
    "aiohttp": (
        lambda up: asyncio.run(_aiohttp_async(up)),
        ("ClientConnectorError", "SocketTimeoutError"),
    ),
}


@pytest.mark.parametrize("library", list(CALLS))
def test_exact_counts_per_status_and_error_type(clients, upstream, library):
    make_calls, (refused_type, timeout_type) = CALLS[library]
    assert make_calls(upstream) == (refused_type, timeout_type)  # the caller's own exceptions
    here = {"server.address": "127.0.0.1", "server.port": upstream.port}
    count = clients.count
    assert count(DURATION, **here, http_response_status_code=200) == 3
    assert count(DURATION, **here, http_response_status_code=503, error_type="503") == 2
    assert count(DURATION, **here, error_type=timeout_type) == 1
    assert count(DURATION, **{"server.port": upstream.refused_port}, error_type=refused_type) == 1
    assert count(DURATION) == 7
    points = clients.points(DURATION)
    for point in points:
        assert point.attributes["http.request.method"] == "GET"
        assert point.attributes["url.scheme"] == "http"
        assert "url.template" not in point.attributes
        assert not any("secret" in str(value) for value in point.attributes.values())
    ok = clients.points(DURATION, http_response_status_code=200)[0]
    assert "error.type" not in ok.attributes
    assert all(point.value == 0 for point in clients.points(ACTIVE))
    assert clients.count("http.client.response.body.size", http_response_status_code=200) == 3


def test_body_sizes_and_template(clients, upstream):
    with otelmetrics.url_template("/orders/{id}"):
        requests.post(upstream.url + "/orders/42", data=b"x" * 100)
    (point,) = clients.points(DURATION)
    assert point.attributes["url.template"] == "/orders/{id}"
    assert point.attributes["http.request.method"] == "POST"
    (size,) = clients.points("http.client.request.body.size")
    assert (size.count, size.sum) == (1, 100)
    (received,) = clients.points("http.client.response.body.size")
    assert received.sum == 20


def test_suppressed_calls_are_not_counted(clients, upstream):
    token = attach(set_value(_SUPPRESS_INSTRUMENTATION_KEY, True))
    try:
        requests.get(upstream.url + "/ok")
        httpx.get(upstream.url + "/ok")
    finally:
        detach(token)
    assert clients.count(DURATION) == 0
    requests.get(upstream.url + "/ok")
    assert clients.count(DURATION) == 1


def test_the_otlp_exporters_posts_are_not_counted(http_receiver, upstream):
    handle = otelmetrics.configure(
        exporters=("otlp",),
        otlp_endpoint=http_receiver.endpoint,
        set_global=False,
        service_name="client-test",
    )
    otelmetrics.instrument_http_clients(handle=handle)
    try:
        requests.get(upstream.url + "/ok")
        assert handle.meter_provider.force_flush(10_000)
        assert handle.meter_provider.force_flush(10_000)  # the second export sees the first
    finally:
        otelmetrics.uninstrument_http_clients()
        handle.shutdown()
    assert http_receiver.received.requests, "the OTLP receiver got nothing"
    ports = {
        attributes["server.port"]
        for table in handle.http_clients.tables
        for attributes, _ in table.snapshot()
    }
    assert ports == {upstream.port}  # never the receiver's


def test_instrument_is_idempotent_and_reversible(metrics, upstream, caplog):
    original = requests.Session.send
    otelmetrics.instrument_http_clients(handle=metrics.handle)
    with caplog.at_level(logging.WARNING):
        assert otelmetrics.instrument_http_clients(handle=metrics.handle) == []
    assert "already instrumented" in caplog.text
    requests.get(upstream.url + "/ok")
    assert metrics.count(DURATION) == 1  # not twice
    otelmetrics.uninstrument_http_clients()
    otelmetrics.uninstrument_http_clients()  # a no-op
    assert requests.Session.send is original
    requests.get(upstream.url + "/ok")
    assert metrics.count(DURATION) == 1


def test_an_unsupported_version_is_logged_once_and_left_alone(metrics, monkeypatch, caplog):
    patch = client_patches.Patch(
        "requests", "requests.sessions", "Session", "send", (99,), client_patches.wrap_requests_send
    )
    monkeypatch.setattr(http_clients, "PATCHES", (patch, patch))
    original = requests.Session.send
    with caplog.at_level(logging.WARNING):
        assert otelmetrics.instrument_http_clients(handle=metrics.handle) == []
    otelmetrics.uninstrument_http_clients()
    assert requests.Session.send is original
    assert caplog.text.count("requests is left uninstrumented") == 1


def test_hosts_outside_the_allow_list_are_other(make_handle, upstream):
    handle = make_handle(client_hosts=("api.exchange.example",))
    otelmetrics.instrument_http_clients(handle=handle)
    try:
        requests.get(upstream.url + "/ok")
    finally:
        otelmetrics.uninstrument_http_clients()
    ((attributes, _),) = handle.http_clients.requests.snapshot()
    assert attributes["server.address"] == "_OTHER"
