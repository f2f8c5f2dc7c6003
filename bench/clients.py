"""Outgoing HTTP calls: ns added per call by otelmetrics, next to the contrib instrumentors.

Run:  .venv/bin/python bench/clients.py            (about 20 s; --quick for a smoke run)

Each client calls a canned in-process transport (no socket, so the machine's network noise does
not hide a few microseconds): ``requests`` through a mounted adapter, ``httpx`` through
``MockTransport``. The same calls run bare, with ``otelmetrics.instrument_http_clients()`` and
with the contrib instrumentor recording the same stable-semconv metrics
(``OTEL_SEMCONV_STABILITY_OPT_IN=http``: ``http.client.request.duration``; requests through
``RequestsInstrumentor``, httpx through ``SyncOpenTelemetryTransport``) into an SDK
MeterProvider with an in-memory reader, no tracer provider (non-recording spans). Rounds
rotate the variants; the median of the rounds is reported, net of the bare call.

Prints a Markdown table and writes bench/results/clients.json.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from typing import Any

os.environ["OTEL_SEMCONV_STABILITY_OPT_IN"] = "http"  # before any instrumentor is imported

import _common
import httpx
import requests
from _common import markdown, median, rotated
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from requests.adapters import BaseAdapter

import otelmetrics

URL = "http://api.exchange.example/api/v3/ticker?symbol=BTCUSD"
BODY = b'{"price": "64000.1"}'


class CannedAdapter(BaseAdapter):
    """A requests adapter answering 200 at once, without a socket."""

    def send(self, request: Any, **kwargs: Any) -> requests.Response:
        response = requests.Response()
        response.status_code = 200
        response.headers["Content-Length"] = str(len(BODY))
        response._content = BODY
        response.request = request
        response.url = request.url
        return response

    def close(self) -> None:
        pass


def canned(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=BODY)


def requests_call() -> tuple[Callable[[], Any], Callable[[], None]]:
    session = requests.Session()
    session.trust_env = False  # no proxy lookups in the environment: they dwarf the rest
    session.mount("http://", CannedAdapter())
    return (lambda: session.get(URL)), session.close


def httpx_call(transport: httpx.BaseTransport) -> tuple[Callable[[], Any], Callable[[], None]]:
    client = httpx.Client(transport=transport)
    return (lambda: client.get(URL)), client.close


def variants(library: str) -> dict[str, Callable[[], Any]]:
    """name -> a context factory: set up, return (call, tear down)."""
    provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    handle = otelmetrics.configure(
        exporters=("none",), metric_readers=[InMemoryMetricReader()], set_global=False
    )

    def ours() -> tuple[Callable[[], Any], Callable[[], None]]:
        otelmetrics.instrument_http_clients(handle=handle)
        call, close = requests_call() if library == "requests" else httpx_call(mock())
        return call, lambda: (close(), otelmetrics.uninstrument_http_clients())

    def contrib() -> tuple[Callable[[], Any], Callable[[], None]]:
        if library == "requests":
            from opentelemetry.instrumentation.requests import RequestsInstrumentor

            RequestsInstrumentor().instrument(meter_provider=provider)
            call, close = requests_call()
            return call, lambda: (close(), RequestsInstrumentor().uninstrument())
        from opentelemetry.instrumentation.httpx import SyncOpenTelemetryTransport

        return httpx_call(SyncOpenTelemetryTransport(mock(), meter_provider=provider))

    def bare() -> tuple[Callable[[], Any], Callable[[], None]]:
        return requests_call() if library == "requests" else httpx_call(mock())

    return {"bare": bare, "otelmetrics": ours, "contrib": contrib}


def mock() -> httpx.MockTransport:
    return httpx.MockTransport(canned)


def time_calls(setup: Callable[[], Any], calls: int) -> float:
    """ns per call of one variant, after a warm-up."""
    call, close = setup()
    try:
        for _ in range(200):
            call()
        started = time.perf_counter_ns()
        for _ in range(calls):
            call()
        return (time.perf_counter_ns() - started) / calls
    finally:
        close()


def measure(library: str, calls: int, rounds: int) -> dict[str, float]:
    found: dict[str, list[float]] = {}
    made = variants(library)
    for turn in range(rounds):
        for name in rotated(list(made), turn):
            found.setdefault(name, []).append(time_calls(made[name], calls))
    return {name: median(values) for name, values in found.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    args = parser.parse_args()
    calls, rounds = (300, 3) if args.quick else (3000, 9)
    rows, results = [], {}
    for library in ("requests", "httpx"):
        ns = measure(library, calls, rounds)
        results[library] = ns
        ours, theirs = ns["otelmetrics"] - ns["bare"], ns["contrib"] - ns["bare"]
        rows.append(
            [library, ns["bare"], ours, theirs, round(theirs / ours, 1) if ours > 0 else "–"]
        )
    headers = ["client", "bare ns/call", "otelmetrics +ns", "contrib +ns", "contrib / ours"]
    env = _common.environment()
    print(f"Outgoing call cost ({_common.describe(env)}; {rounds} rounds of {calls} calls)\n")
    print(markdown(headers, rows))
    if not args.quick:
        _common.save("clients", {"environment": env, "ns_per_call": results})


if __name__ == "__main__":
    main()
