"""Stats: the BotV2 monitor's snapshot, history, health, alerts, series and reset (injected
clocks)."""

import faulthandler
import json
import os
import signal
import time
from dataclasses import replace

import pytest

from otelmetrics.core.encoding import to_json
from otelmetrics.insights.statistics import RecentSample, SeriesPoint
from otelmetrics.insights.stats import STATISTICS
from tests.builders import make_stats
from tests.clock import Clock

MONITOR_FIELDS = {
    "timestamp",
    "request_rate_rpm",
    "error_rate_pct",
    "latency_p50_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "active_users",
    "memory_usage_pct",
    "memory_usage_mb",
    "cpu_usage_pct",
    "websocket_connections",
    "total_requests",
    "total_errors",
}


@pytest.fixture
def clock():
    return Clock(1_800_000_000.0)


@pytest.fixture
def stats(metrics, clock):
    metrics.handle.stats.stop()  # the handle's own sampler thread would share its locks
    return make_stats(metrics.handle, clock=clock, monotonic=clock, start=False)


def record(stats, clock, count, *, seconds=0.02, status=200):
    window = stats._http.window
    for _ in range(count):
        window.add(seconds, status, clock.now)


def test_current_has_the_monitor_fields_and_the_window_values(stats, clock):
    record(stats, clock, 90, seconds=0.02)
    record(stats, clock, 10, seconds=0.5, status=503)
    clock.now += 60
    current = stats.current()
    assert set(current) - MONITOR_FIELDS == {"server_error_rate_pct"}
    assert MONITOR_FIELDS <= set(current)
    assert current["request_rate_rpm"] == 100.0  # 100 requests over the first minute
    assert current["error_rate_pct"] == 10.0
    assert current["server_error_rate_pct"] == 10.0
    assert current["latency_p50_ms"] == pytest.approx(20, rel=0.01)
    assert current["latency_p99_ms"] == pytest.approx(500, rel=0.01)
    assert (current["total_requests"], current["total_errors"]) == (100, 10)
    assert current["memory_usage_mb"] > 0
    assert current["timestamp"].startswith("2027-01-15T08:")


def test_the_first_requests_after_a_start_are_a_bounded_rate(stats, clock):
    record(stats, clock, 3)  # within the same instant: 3 requests, not 3 per 0 s
    assert stats.current()["request_rate_rpm"] == 3.0
    clock.now += 0.004
    record(stats, clock, 97)
    assert stats.current()["request_rate_rpm"] == 100.0  # never above a one-minute span's


def test_configuration_values_are_integers_when_whole(stats):
    configuration = json.loads(to_json(stats.statistics()))["configuration"]
    assert configuration == {
        "window_seconds": 300,
        "user_timeout_seconds": 300,
        "max_history_minutes": 60,
    }
    assert all(type(value) is int for value in configuration.values())


def test_statistics_totals_and_configuration(stats, clock):
    record(stats, clock, 3)
    record(stats, clock, 1, status=404)
    statistics = stats.statistics()
    assert statistics["totals"] == {
        "total_requests": 4,
        "total_errors": 1,
        "total_error_rate_pct": 25.0,
    }
    assert statistics["configuration"] == {
        "window_seconds": 300.0,
        "user_timeout_seconds": 300.0,
        "max_history_minutes": 60,
    }


def test_history_keeps_one_snapshot_per_minute_up_to_the_limit(metrics, clock):
    metrics.handle.settings = replace(metrics.handle.settings, history_minutes=3)
    stats = make_stats(metrics.handle, clock=clock, monotonic=clock, start=False)
    for _ in range(5 * 12):  # five minutes of 5-second ticks
        stats.tick()
        clock.now += 5
    history = stats.history(60)
    assert len(history) == 3
    stamps = [snapshot["timestamp"] for snapshot in history]
    assert stamps == sorted(stamps)
    assert len(stats.history(1)) == 1


def test_health_degrades_then_fails_with_the_server_error_rate(stats, clock):
    record(stats, clock, 20)
    assert stats.health()["status"] in {"healthy", "degraded"}  # CPU/memory are real
    assert stats.health()["checks"]["server_error_rate_pct"]["ok"] is True
    record(stats, clock, 2, status=500)  # 2/22 = 9 %: above 5 %, below 10 %
    checks = stats.health()["checks"]
    assert checks["server_error_rate_pct"]["level"] == "warning"
    assert checks["server_error_rate_pct"]["threshold"] == 5.0  # the error_rate_pct setting
    record(stats, clock, 10, status=500)
    health = stats.health()
    assert health["checks"]["server_error_rate_pct"]["level"] == "critical"
    assert health["status"] == "unhealthy"
    assert health["components"]["request_tracking"] == "operational"


def test_client_errors_never_make_the_service_unhealthy_but_still_alert(stats, clock):
    record(stats, clock, 20)
    record(stats, clock, 3, status=404)  # strangers asking for pages that do not exist
    record(stats, clock, 30, status=401)
    health = stats.health()
    assert health["checks"]["server_error_rate_pct"]["level"] == "ok"
    assert "error_rate_pct" not in health["checks"]
    assert health["status"] != "unhealthy"
    assert stats.current()["error_rate_pct"] > 50  # the BotV2 field keeps counting >= 400
    alert = {a["name"]: a for a in stats.alerts()}["HIGH_ERROR_RATE"]
    assert alert["severity"] == "critical"  # and the operations alert still says so


def test_a_few_requests_do_not_alert(stats, clock):
    record(stats, clock, 1, seconds=5.0, status=500)
    assert stats.health()["checks"]["server_error_rate_pct"]["ok"] is True
    assert not [a for a in stats.alerts() if a["category"] != "resources"]


def test_alerts_say_since_when_and_clear(stats, clock):
    record(stats, clock, 20, seconds=2.0)
    first = {a["name"]: a for a in stats.alerts()}["HIGH_LATENCY"]
    assert first["severity"] == "warning"
    assert first["threshold"] == 1000.0
    assert first["value"] == pytest.approx(2000, rel=0.01)
    assert set(first) == {"name", "severity", "category", "message", "value", "threshold", "since"}
    clock.now += 30
    again = {a["name"]: a for a in stats.alerts()}["HIGH_LATENCY"]
    assert again["since"] == first["since"]
    clock.now += 600  # the slow requests have left the window
    assert "HIGH_LATENCY" not in {a["name"] for a in stats.alerts()}


def test_series_and_summary_from_the_samples(stats, clock):
    for count in (10, 20, 30):
        record(stats, clock, count)
        stats.tick()
        clock.now += 5
    series = stats.series("total_requests", 2)
    assert [point["value"] for point in series] == [30.0, 60.0]
    assert list(series[0]) == list(SeriesPoint.__annotations__)
    recent = stats.recent(1)
    assert [sample["total_requests"] for sample in recent] == [10.0, 30.0, 60.0]
    assert list(recent[0]) == list(RecentSample.__annotations__) == ["timestamp", *STATISTICS]
    summary = stats.summary()
    assert set(summary) == set(STATISTICS)
    assert summary["total_requests"] == {
        "count": 3,
        "mean": 33.333,
        "min": 10.0,
        "max": 60.0,
        "latest": 60.0,
    }
    with pytest.raises(KeyError):
        stats.series("nope", 1)


def test_reset_clears_window_totals_history_and_samples(stats, clock):
    record(stats, clock, 5, status=500)
    stats.tick()
    stats.reset()
    assert stats.current()["total_requests"] == 0
    assert stats.history(60) == []
    assert stats.series("total_errors", 10) == [
        {"timestamp": stats.current()["timestamp"], "value": 0.0}
    ]


def test_requests_through_flask_reach_the_window(metrics):
    from flask import Flask

    import otelmetrics

    app = Flask("stats")
    app.add_url_rule("/ok", "ok", lambda: "ok")
    otelmetrics.instrument(app, handle=metrics.handle)
    client = app.test_client()
    for _ in range(3):
        client.get("/ok")
    client.get("/missing")
    current = metrics.handle.stats.current()
    assert (current["total_requests"], current["total_errors"]) == (4, 1)
    assert current["latency_p99_ms"] > 0


def test_a_forked_child_resets_even_when_the_parent_held_the_lock(stats, clock):
    record(stats, clock, 3)
    stats._lock.acquire()  # the parent's sampler thread, mid-tick, at the moment of the fork
    pid = os.fork()
    if pid == 0:  # the child: reset must not wait for a lock no thread will release
        faulthandler.dump_traceback_later(25)  # where it hangs, if it ever does
        try:
            stats.reset()
            os._exit(0 if stats.current()["total_requests"] == 0 else 1)
        except BaseException:
            os._exit(2)
    stats._lock.release()
    deadline = time.monotonic() + 30  # generous: a loaded CI machine forks a large process
    while (found := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    if found[0] == 0:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the forked child hung in reset(): it waited for the parent's lock")
    assert os.waitstatus_to_exitcode(found[1]) == 0
