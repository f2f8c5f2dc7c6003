"""The /performance sampler: seed-002 fields from the real process, 5 s cache, failures."""

import logging
import socket
import subprocess
import sys
import threading

import pytest

from otelmetrics.instruments.performance import FIELDS, Performance
from tests.clock import Clock


@pytest.fixture
def clocks():
    return Clock(), Clock(1_800_000_000.0)


def test_every_seed_field_is_read_from_this_process(clocks, tmp_path):
    monotonic, wall = clocks
    view = Performance(clock=monotonic, wall_clock=wall, path=tmp_path).view()
    assert set(view) == {*FIELDS, "timestamp", "errors"}
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
    performance = Performance(clock=monotonic, wall_clock=wall)
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
    monotonic, wall = clocks
    performance = Performance(clock=monotonic, wall_clock=wall)
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
    monotonic, wall = clocks
    performance = Performance(pid=gone, clock=monotonic, wall_clock=wall)
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
    monotonic, wall = clocks
    view = Performance(path=tmp_path / "absent", clock=monotonic, wall_clock=wall).view()
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
        monotonic, wall = clocks
        view = Performance(pid=child.pid, clock=monotonic, wall_clock=wall).view()
        assert view["errors"] == {}
        assert view["active_threads"] == 4  # its main thread and the three it started
    finally:
        child.communicate("")
