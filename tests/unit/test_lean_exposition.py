"""/metrics renders the lean tables straight from their series; what it shows is what the SDK's
way (a ``LeanProducer``'s data points, then ``exposition.render``) shows for the same data.

Both texts are parsed back with prometheus_client's parsers and compared sample by sample
(names, labels, values): histograms, counters, up-down counters and the SDK's own instruments
(a user's gauge, counter, histogram), with the promoted resource attributes, in one process and
for a pre-fork server's merged workers.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.metrics import Observation
from opentelemetry.sdk.metrics.export import MetricsData, ResourceMetrics
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as parse_openmetrics,
)
from prometheus_client.parser import text_string_to_metric_families as parse_text

from otelmetrics.core import shared
from otelmetrics.core.aggregators import SharedExplicitBuckets, SharedTotal
from otelmetrics.core.producer import LeanProducer, merge
from otelmetrics.core.store import arena_values
from otelmetrics.instruments.http import ACTIVE, DURATION, DURATION_BOUNDS
from otelmetrics.pipeline import prometheus
from otelmetrics.pipeline.exposition import render
from otelmetrics.pipeline.handle import MetricsHandle
from otelmetrics.pipeline.server_directory import ServerDirectory
from otelmetrics.pipeline.worker_scrape import WorkerScrape, server_resource
from otelmetrics.settings import Settings

SCOPE = InstrumentationScope("otelmetrics", "test")
Sample = tuple[str, frozenset[tuple[str, str]], float]


def samples(text: str, *, openmetrics: bool = False) -> set[Sample]:
    parse = parse_openmetrics if openmetrics else parse_text
    return {
        (sample.name, frozenset(sample.labels.items()), sample.value)
        for family in parse(text)
        for sample in family.samples
    }


def types(text: str) -> list[str]:
    return [line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")]


@pytest.fixture
def handle() -> Iterator[MetricsHandle]:
    settings = Settings.from_env(
        {},
        service_name="orders",
        service_version="1.2.3",
        environment="test",
        exporters=("prometheus",),
        process_metrics=False,
        snapshot_interval=0,
        cardinality_limit=6,
    )
    handle = MetricsHandle(settings)
    yield handle
    handle.shutdown()


def serve(handle: MetricsHandle) -> None:
    """Requests of several routes, statuses and errors (more than the cap: an overflow
    series), an in-flight one, and a user's own SDK instruments, one named as a lean one."""
    http = handle.http
    for i, (route, status, error) in enumerate(
        [("/a", 200, None), ("/b/{id}", 404, None), ("/c", 500, None), ("/a", 503, "Timeout")]
        + [(f"/more/{n}", 200, None) for n in range(6)]
    ):
        started = http.start("GET" if i % 2 else "POST", "https")
        http.finish(started - 0.001 * (i + 1), "GET", route, status, "https", error, 10, 3 * i)
    http.start("PUT", "http")  # still in flight
    meter = handle.meter_provider.get_meter("users.app")
    meter.create_counter("jobs.done", unit="{job}").add(3, {"queue": 'a"b'})
    meter.create_up_down_counter("jobs.queued").add(-2)
    meter.create_histogram("payload", unit="By").record(700.5, {"kind": "x"})
    meter.create_observable_gauge(
        "load.ratio", callbacks=[lambda _: [Observation(0.25, {"cpu": "0"})]], unit="1"
    )
    meter.create_histogram("http.server.request.duration", unit="s").record(0.2, {"native": "1"})


def sdk_way(handle: MetricsHandle) -> MetricsData | None:
    """The reader's collection with the lean tables as OpenTelemetry data points."""
    reader = handle.prometheus_reader
    assert reader is not None
    producer = LeanProducer(handle._tables, scope=SCOPE, start_ns=handle.start_ns)
    return merge(reader.collect_own(), producer, handle.resource)


@pytest.mark.parametrize("openmetrics", [False, True])
def test_one_process_shows_what_the_sdk_way_shows(handle, openmetrics):
    serve(handle)
    accept = "application/openmetrics-text; version=1.0.0" if openmetrics else None
    status, body, _ = prometheus.render(handle.prometheus_reader, accept)
    fast = body.decode()
    before = render(sdk_way(handle), openmetrics=openmetrics).decode()
    assert status == 200
    assert samples(fast, openmetrics=openmetrics) == samples(before, openmetrics=openmetrics)
    assert sorted(fast.splitlines()) == sorted(before.splitlines())  # byte for byte
    found = samples(fast, openmetrics=openmetrics)
    names = {name for name, _, _ in found}
    assert {"http_server_request_duration_seconds_bucket", "target_info"} <= names
    assert "http_server_active_requests" in names and "jobs_done_total" in names
    overflow = ("otel_metric_overflow", "true")
    assert any(overflow in labels for _, labels, _ in found)
    assert len(types(fast)) == len(set(types(fast)))  # one TYPE per family, the native one too
    native = {labels for name, labels, _ in found if ("native", "1") in labels}
    assert native and all(("service_version", "1.2.3") in labels for labels in native)


def request(handle: MetricsHandle, route: str) -> None:
    http = handle.http
    http.finish(http.start("GET", "https"), "GET", route, 200, "https", None, None, 1)


def test_label_texts_are_kept_and_stay_bounded(handle):
    reader = handle.prometheus_reader
    handle.http.requests.limit = 2_000
    for n in range(200):
        request(handle, f"/{n}")
    first = prometheus.render(reader, None)[1]
    kept = reader._text._labels
    assert len(kept[DURATION.name]) == 200
    assert prometheus.render(reader, None)[1] == first  # from the kept texts
    handle.http.reset()  # as after a fork: far fewer series than texts kept, which start over
    for n in range(5):
        request(handle, f"/new/{n}")
    body = prometheus.render(reader, None)[1]
    assert body.count(b"http_server_request_duration_seconds_count{") == 5
    assert len(kept[DURATION.name]) == 0  # 205 kept for 5 series: dropped
    assert prometheus.render(reader, None)[1] == body
    assert len(kept[DURATION.name]) == 5


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[tuple[ServerDirectory, list[int]]]:
    """A server directory of this process with two live workers' arenas and an exited one's."""
    children = [subprocess.Popen(["sleep", "60"]) for _ in range(2)]
    server = ServerDirectory(tmp_path, os.getpid(), worker=False)
    try:
        yield server, [child.pid for child in children] + [9_000_001]
    finally:
        for child in children:
            child.kill()
            child.wait()


def fill(directory: Path, pid: int, scale: int) -> None:
    arena = shared.Arena(directory / f"{pid}.arena")
    for route in ("/a", "/b", f"/only/{pid}"):
        attributes: dict[str, Any] = {"http.request.method": "GET", "http.route": route}
        histogram = SharedExplicitBuckets(
            DURATION_BOUNDS, arena_values(arena, DURATION, attributes)
        )
        for value in (0.003 * scale, 0.2, 42.0):
            histogram.add(value)
    SharedTotal(arena_values(arena, ACTIVE, {"url.scheme": "https"})).add(scale)
    arena.close()


def test_merged_workers_show_what_the_sdk_way_shows(workers):
    server, pids = workers
    for scale, pid in enumerate(pids, 1):
        fill(server.directory, pid, scale)
    resource = Resource({"service.name": "orders", "service.instance.id": "w-1", "host.name": "h"})
    scrape = WorkerScrape(server, set, lambda: resource)
    data, lean = scrape(None)
    fast = render(data, lean=lean).decode()
    merged = LeanProducer(server.tables, scope=SCOPE, start_ns=1).scope_metrics()
    assert merged is not None
    group = ResourceMetrics(server_resource(resource, server), [merged], "")
    before = render(MetricsData([group])).decode()
    assert samples(fast) == samples(before)
    assert sorted(fast.splitlines()) == sorted(before.splitlines())
    found = {(name, labels): value for name, labels, value in samples(fast)}
    count = next(
        value
        for (name, labels), value in found.items()
        if name == "http_server_request_duration_seconds_count" and ("http_route", "/a") in labels
    )
    assert count == 9  # three workers, the exited one too
    active = next(v for (name, _), v in found.items() if name == "http_server_active_requests")
    assert active == 1 + 2  # the live workers only


def test_sums_and_values_that_are_not_finite_are_written_as_prometheus_reads_them():
    from otelmetrics.core.store import InstrumentSpec, SeriesTable
    from otelmetrics.pipeline.lean_exposition import LeanText

    specs = (
        InstrumentSpec("wait", "histogram", "s", "Waits.", (1.0, 2.0)),
        InstrumentSpec("level", "updowncounter", "1", "Levels."),
    )
    table = SeriesTable(specs, ("kind",), limit=10)
    for kind, value in (("inf", float("inf")), ("minus", float("-inf")), ("one", 1.5)):
        with table.lock:
            histogram, level = table.get((kind,))
            histogram.add(value)
            level.add(value if kind != "one" else 3)
    with table.lock:
        table.get((None,))[1].add(2)  # no attribute: the promoted labels only
    resource = Resource({"service.name": "s"})
    fast = render(None, lean=[LeanText().group([table], resource)]).decode()
    producer = LeanProducer(lambda: [table], scope=SCOPE, start_ns=1)
    before = render(MetricsData([ResourceMetrics(resource, [producer.scope_metrics()], "")]))
    assert sorted(fast.splitlines()) == sorted(before.decode().splitlines())
    assert 'wait_seconds_sum{kind="inf",service_name="s"} +Inf' in fast
    assert 'level{kind="minus",service_name="s"} -Inf' in fast
    assert 'level{kind="one",service_name="s"} 3.0' in fast
