"""The /performance view: its fields from the real process, 5 s reuse, failures, sharing."""

import logging
import socket
import subprocess
import sys
import threading
import time

import psutil
import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from otelmetrics.instruments import process
from otelmetrics.instruments.performance import FIELDS, Performance, PerformanceView
from otelmetrics.instruments.resources import Resources
from tests.clock import Clock


@pytest.fixture
def clocks():
    return Clock(), Clock(1_800_000_000.0)


def make(clocks, **options):
    """A Performance over its own Resources, read with the test's clocks."""
    monotonic, wall = clocks
    return Performance(resources=Resources(clock=monotonic, wall_clock=wall, **options))


def test_every_field_is_read_from_this_process(clocks, tmp_path):
    view = make(clocks, disk_path=tmp_path).view()
    assert set(view) == {*FIELDS, "timestamp", "errors"}
    assert list(view) == list(PerformanceView.__annotations__)  # the keys in the order sent
    assert view["errors"] == {}
    assert view["timestamp"] == 1_800_000_000.0
    assert 0.0 <= view["cpu_percent"] <= 100.0
    assert 0.0 < view["memory_percent"] < 100.0
    assert view["memory_used_mb"] > 1.0
    assert 0.0 < view["disk_usage_percent"] <= 100.0
    assert view["active_threads"] >= threading.active_count()  # OS threads include them
    assert view["open_files"] >= 3  # stdin, stdout, stderr at least


def test_a_sample_is_served_for_five_seconds_then_retaken(clocks):
    monotonic, wall = clocks
    performance = make(clocks)
    first = performance.view()
    files = [open(__file__) for _ in range(20)]  # noqa: SIM115
    listener = socket.create_server(("127.0.0.1", 0))
    try:
        monotonic.now += 4.9
        wall.now += 4.9
        assert performance.view() == first  # cached: same timestamp, same counts
        monotonic.now += 0.1
        wall.now += 0.1
        second = performance.view()
    finally:
        listener.close()
        for file in files:
            file.close()
    assert second["timestamp"] == first["timestamp"] + 5.0
    assert second["open_files"] >= first["open_files"] + 21
    assert second["network_connections"] >= first["network_connections"] + 1


def test_concurrent_callers_share_one_sample(clocks):
    _, wall = clocks
    performance = make(clocks)
    barrier = threading.Barrier(16)
    results = []

    def call():
        barrier.wait()
        results.append(performance.view())

    threads = [threading.Thread(target=call) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wall.calls == 1  # one psutil pass, one timestamp
    assert all(result == results[0] for result in results)
    results[0]["errors"]["x"] = "mutated"
    assert performance.view()["errors"] == {}  # callers get copies


def test_a_gone_process_is_reported_not_raised(clocks, caplog):
    code = "import os; print(os.getpid())"
    child = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    gone = int(child.stdout)
    monotonic, _ = clocks
    performance = make(clocks, pid=gone)
    with caplog.at_level(logging.WARNING):
        view = performance.view()
        monotonic.now += 5
        again = performance.view()
    assert "NoSuchProcess" in view["errors"]["process"]
    assert all(view[name] is None for name in FIELDS if name != "disk_usage_percent")
    assert view["disk_usage_percent"] is not None  # the rest still reports
    assert again["errors"] == view["errors"]
    assert sum("cannot read process" in r.getMessage() for r in caplog.records) == 1


def test_a_missing_disk_path_is_reported_not_raised(clocks, tmp_path):
    view = make(clocks, disk_path=tmp_path / "absent").view()
    assert view["disk_usage_percent"] is None
    assert "FileNotFoundError" in view["errors"]["disk_usage_percent"]
    assert view["memory_used_mb"] is not None


def test_another_live_process_can_be_sampled(clocks):
    code = (
        "import sys, threading\n"
        "done = threading.Event()\n"
        "for _ in range(3): threading.Thread(target=done.wait, daemon=True).start()\n"
        "print('ready', flush=True)\n"
        "sys.stdin.read()\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        view = make(clocks, pid=child.pid).view()
        assert view["errors"] == {}
        assert view["active_threads"] == 4  # its main thread and the three it started
    finally:
        child.communicate("")


@pytest.fixture
def passes(monkeypatch):
    """Counts psutil oneshot passes (every process field of a reading is read in one)."""
    counted = []
    oneshot = psutil.Process.oneshot

    def counting(self):
        counted.append(self.pid)
        return oneshot(self)

    monkeypatch.setattr(psutil.Process, "oneshot", counting)
    return counted


def gauges_over(resources):
    """Collect the process gauges registered over ``resources``: metric name -> points."""
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    process.register(provider.get_meter("test"), resources=resources)

    def collect():
        data = reader.get_metrics_data()
        metrics = data.resource_metrics[0].scope_metrics[0].metrics
        return {metric.name: metric.data.data_points for metric in metrics}

    return collect


def test_a_collection_and_a_view_share_one_psutil_pass(clocks, passes):
    monotonic, wall = clocks
    resources = Resources(clock=monotonic, wall_clock=wall)
    collect, performance = gauges_over(resources), Performance(resources=resources)

    def advance(seconds):
        monotonic.advance(seconds)
        wall.advance(seconds)

    first = performance.view()
    advance(0.2)
    found = collect()  # seven gauges, within a collection's 0.25 s of the view's pass
    assert len(passes) == 1 and wall.calls == 1
    assert found["process.thread.count"][0].value == first["active_threads"]
    advance(0.3)
    collect()  # too old for a collection: a new pass
    advance(0.2)
    second = performance.view()  # young enough for the view: the collection's pass, plus extras
    assert len(passes) == 2 and wall.calls == 2
    assert second["timestamp"] == first["timestamp"] + 0.5
    assert second["disk_usage_percent"] is not None and second["errors"] == {}
    advance(4.7)
    assert performance.view() == second  # 4.9 s old: still served
    advance(0.1)
    assert performance.view()["timestamp"] == wall.now  # 5 s old: a new pass
    assert len(passes) == 3


def test_each_consumer_measures_cpu_since_its_own_previous_reading(clocks):
    monotonic, wall = clocks
    resources = Resources(clock=monotonic, wall_clock=wall)
    sampler = process.ProcessSampler(resources=resources)
    performance = Performance(resources=resources)
    assert sampler.sample().cpu_utilization == 0.0  # a first reading has nothing to compare
    assert performance.view()["cpu_percent"] == 0.0  # the same pass, the view's first
    end = time.process_time() + 0.25
    while time.process_time() < end:
        pass
    monotonic.advance(1.0)  # one second of wall time holding 0.25 s of CPU
    busy = sampler.sample().cpu_utilization
    cpus = resources.sample(60).cpus
    assert 0.2 / cpus <= busy <= 1.0
    monotonic.advance(0.5)
    idle = sampler.sample().cpu_utilization  # half a second with (almost) no work
    seen_by_view = performance.view()["cpu_percent"] / 100  # the same pass, since the view's first
    assert idle < 0.1 / cpus
    assert seen_by_view == pytest.approx(busy / 1.5 + idle / 3, abs=0.01)
