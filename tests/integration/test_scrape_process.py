"""A pre-fork server's scrape process: a real ``python -m otelmetrics.pipeline.scrape_server``
renders byte for byte what the worker would (text, OpenMetrics, gzip, the worker's own gauges),
runs at the lowest CPU priority (SCHED_IDLE), is started again when killed, leaves the worker
to render when it cannot answer, and ends with its server. Under gunicorn: one per server, gone
with it, and none with ``OTELMETRICS_SCRAPE_PROCESS=false``."""

from __future__ import annotations

import gzip
import logging
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from opentelemetry.sdk.metrics.export import (
    Gauge,
    Metric,
    MetricsData,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from otelmetrics.core import shared
from otelmetrics.pipeline.exposition import render
from otelmetrics.pipeline.prometheus import process_wait
from otelmetrics.pipeline.scrape_process import ScrapeProcess, ScrapeRequest
from otelmetrics.pipeline.server_directory import ServerDirectory
from otelmetrics.pipeline.worker_scrape import WorkerScrape
from tests.integration.test_multiprocess import server, total
from tests.unit.test_lean_exposition import fill

RESOURCE = Resource({"service.name": "orders", "service.instance.id": "w-1", "host.name": "h"})


def scrape_processes(directory: Path) -> list[psutil.Process]:
    """The scrape processes serving ``directory``."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if "otelmetrics.pipeline.scrape_server" in cmdline and str(directory) in cmdline:
            found.append(process)
    return found


def end(processes: list[psutil.Process]) -> None:
    for process in processes:
        process.kill()
    psutil.wait_procs(processes, timeout=5)


def own_gauges() -> MetricsData:
    point = NumberDataPoint({"cpu.mode": "user"}, 0, 1, 0.25)
    metric = Metric("process.cpu.utilization", "CPU.", "1", Gauge([point]))
    scope = ScopeMetrics(InstrumentationScope("otelmetrics"), [metric], "")
    return MetricsData([ResourceMetrics(RESOURCE, [scope], "")])


@pytest.fixture
def directory(tmp_path: Path) -> Iterator[Path]:
    """A server directory named for this test process (the master), with two live workers'
    arenas and an exited one's; the scrape processes it started are ended afterwards."""
    started = int(psutil.Process().create_time())
    directory = tmp_path / f"{os.getpid()}-{started}"
    directory.mkdir()
    children = [subprocess.Popen(["sleep", "60"]) for _ in range(2)]
    for scale, pid in enumerate([child.pid for child in children] + [9_000_001], 1):
        fill(directory, pid, scale)
    try:
        yield directory
    finally:
        end(scrape_processes(directory))
        for child in children:
            child.kill()
            child.wait()


def scrapes(directory: Path, elsewhere: bool) -> WorkerScrape:
    server = ServerDirectory(directory, os.getpid(), worker=False)
    process = ScrapeProcess(directory) if elsewhere else None
    return WorkerScrape(server, set, lambda: RESOURCE, elsewhere=process)


@pytest.mark.parametrize("openmetrics", [False, True])
def test_the_process_renders_what_the_worker_would(directory, openmetrics):
    here, there = scrapes(directory, False), scrapes(directory, True)
    data, lean = here(own_gauges())
    expected = render(data, openmetrics=openmetrics, lean=lean)
    assert b'process_cpu_utilization_ratio{cpu_mode="user"' in expected
    assert b"http_server_request_duration_seconds_count{" in expected
    assert there.rendered(own_gauges(), openmetrics, False, 5) == expected
    assert gzip.decompress(there.rendered(own_gauges(), openmetrics, True, 5) or b"") == expected
    assert shared.current() is None  # no arena of its own


def test_it_runs_at_the_lowest_priority_and_is_started_again_when_killed(directory):
    there = scrapes(directory, True)
    first = there.rendered(None, False, False, 5)
    [process] = scrape_processes(directory)
    assert os.sched_getscheduler(process.pid) == os.SCHED_IDLE
    end([process])
    assert there.rendered(None, False, False, 5) == first
    [again] = scrape_processes(directory)
    assert again.pid != process.pid


def test_the_worker_renders_when_the_process_cannot_answer(directory, caplog):
    there = scrapes(directory, True)
    assert there.elsewhere is not None
    there.elsewhere.directory = directory / "gone"  # nowhere to start it
    with caplog.at_level(logging.DEBUG, "otelmetrics"):
        assert there.rendered(None, False, False, 5) is None
        assert there.rendered(None, False, False, 5) is None
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(loud) == 1 and "the scrape process failed" in loud[0].getMessage()


def test_it_ends_with_its_server(tmp_path):
    master = subprocess.Popen(["sleep", "60"])
    directory = tmp_path / f"{master.pid}-{int(psutil.Process(master.pid).create_time())}"
    directory.mkdir()
    try:
        body = ScrapeProcess(directory).render(
            {"pid": 1, "openmetrics": True, "gzip": False, "resource": {}, "schema_url": ""}, b""
        )
        assert body.endswith(b"# EOF\n")
        [process] = scrape_processes(directory)
    finally:
        master.kill()
        master.wait()
    process.wait(timeout=5)
    assert not (directory / "scrape.sock").exists()


@pytest.mark.parametrize("enabled", ["true", "false"])
def test_one_per_server_under_gunicorn_gone_with_it(tmp_path, enabled):
    env = {"OTELMETRICS_SCRAPE_PROCESS": enabled}
    with server("gunicorn-gthread", tmp_path, env=env) as (base, _):
        before = [total(base) for _ in range(6)]  # whichever workers answer
        [directory] = [path for path in tmp_path.iterdir() if path.is_dir()]
        found = scrape_processes(directory)
        assert len(found) == (1 if enabled == "true" else 0)
    assert before[-1] == before[0] >= 1
    deadline = time.monotonic() + 5
    while any(process.is_running() for process in found) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(process.is_running() for process in found)


def test_a_process_that_cannot_listen_is_not_started_again_on_every_scrape(tmp_path):
    started = int(psutil.Process().create_time())
    directory = tmp_path / ("d" * 110) / f"{os.getpid()}-{started}"  # too long for a socket
    directory.mkdir(parents=True)
    process = ScrapeProcess(directory)
    request = ScrapeRequest(pid=1, openmetrics=False, gzip=False, resource={}, schema_url="")
    with pytest.raises(OSError, match="did not listen"):
        process.render(request, b"")
    began = time.monotonic()
    with pytest.raises(OSError, match="would not start"):
        process.render(request, b"")
    assert time.monotonic() - began < 0.5  # refused at once, no new process


@pytest.mark.parametrize(
    ("header", "seconds"),
    [(None, 5.0), ("10", 5.0), ("3", 1.5), ("0.5", 0.25), ("x", 5.0), ("0", 5.0), ("-2", 5.0)]
    + [("inf", 5.0), ("nan", 5.0)],
)
def test_a_worker_waits_for_the_process_half_the_scrapers_timeout(header, seconds):
    assert process_wait(header) == seconds


def test_a_process_that_does_not_answer_in_time_leaves_the_render_to_the_worker(directory):
    hung = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    hung.bind(str(directory / "scrape.sock"))
    hung.listen(4)  # accepts connections, never answers
    try:
        there = scrapes(directory, True)
        began = time.monotonic()
        assert there.rendered(None, False, False, 0.3) is None
        assert time.monotonic() - began < 1.5
        assert scrape_processes(directory) == []  # it did not start another over a live one
    finally:
        hung.close()


@pytest.mark.parametrize("framework", ["flask", "fastapi"])
def test_both_frameworks_hand_the_scrapers_timeout_to_the_scrape_process(framework):
    import otelmetrics

    handle = otelmetrics.configure(
        exporters=("prometheus",), process_metrics=False, set_global=False
    )
    asked: list[float] = []

    def elsewhere(data: object, openmetrics: bool, zipped: bool, wait: float) -> bytes:
        asked.append(wait)
        return gzip.compress(b"rendered elsewhere\n") if zipped else b"rendered elsewhere\n"

    assert handle.prometheus_reader is not None
    handle.prometheus_reader.elsewhere = elsewhere
    headers = {"X-Prometheus-Scrape-Timeout-Seconds": "3"}
    try:
        if framework == "flask":
            from flask import Flask

            app = Flask(__name__)
            otelmetrics.instrument(app, handle=handle)
            body = app.test_client().get("/metrics", headers=headers).data
        else:
            from fastapi import FastAPI
            from starlette.testclient import TestClient

            api = FastAPI()
            otelmetrics.instrument(api, handle=handle)
            with TestClient(api, client=("127.0.0.1", 5000)) as client:
                body = client.get("/metrics", headers=headers).content
    finally:
        handle.shutdown()
    assert body == b"rendered elsewhere\n"
    assert asked == [1.5]


def test_it_ends_when_its_socket_is_removed_with_the_directory(directory):
    there = scrapes(directory, True)
    assert there.rendered(None, False, False, 5) is not None
    [process] = scrape_processes(directory)
    (directory / "scrape.sock").unlink()  # as when a later run removes the directory
    process.wait(timeout=5)


def test_a_scrape_collects_once_when_the_worker_renders_after_the_process_failed():
    import otelmetrics

    handle = otelmetrics.configure(
        exporters=("prometheus",), process_metrics=False, set_global=False
    )
    reader = handle.prometheus_reader
    assert reader is not None
    collected = reader.collect_own
    calls: list[int] = []

    def counted() -> MetricsData | None:
        calls.append(1)
        return collected()

    reader.collect_own = counted  # type: ignore[method-assign]
    reader.elsewhere = lambda *args: None  # the scrape process could not answer
    try:
        answer = handle.scrape("127.0.0.1", None, None)
    finally:
        handle.shutdown()
    assert answer.status == 200 and b"target_info" in answer.body
    assert calls == [1]
