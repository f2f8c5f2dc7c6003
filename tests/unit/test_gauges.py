import logging

from opentelemetry.metrics import Observation

import otelmetrics


def test_process_gauges_report_this_process(metrics):
    import os

    import psutil

    found = metrics.collect()
    [rss] = found["process.memory.usage"]
    assert abs(rss.value - psutil.Process().memory_info().rss) < 50 * 2**20
    assert found["process.thread.count"][0].value >= 1
    assert found["process.unix.file_descriptor.count"][0].value > 0
    assert {p.attributes["cpu.mode"] for p in found["process.cpu.time"]} == {"user", "system"}
    assert 0 < found["process.memory.utilization"][0].value < 1
    assert [
        r
        for r in metrics.reader.get_metrics_data().resource_metrics
        if r.resource.attributes["process.pid"] == os.getpid()
    ]


def test_cpu_utilization_sees_work_between_collections(metrics):
    metrics.collect()
    end = __import__("time").process_time() + 0.3
    while __import__("time").process_time() < end:
        pass
    __import__("time").sleep(0.3)  # beyond the one-sample-per-collection window
    points = metrics.collect()["process.cpu.utilization"]
    shares = {p.attributes["cpu.mode"]: p.value for p in points}
    assert sorted(shares) == ["system", "user"] and len(points) == 2  # only points with a mode
    assert 0.1 < sum(shares.values()) <= 1.0
    assert shares["user"] > 0.0  # the busy loop ran (mostly) in user mode


def test_cpu_utilization_by_mode_is_each_modes_time_over_wall_time_and_cpus():
    from otelmetrics.instruments.resources import CpuShares, Reading, cpu_utilization

    before = Reading(1, at=10.0, wall=0.0, cpus=2, cpu_times=(3.0, 1.0))
    after = Reading(1, at=12.0, wall=2.0, cpus=2, cpu_times=(4.0, 1.5))
    shares = cpu_utilization(before, after)
    assert shares == CpuShares(user=0.25, system=0.125) and shares.total == 0.375
    assert cpu_utilization(None, after) == CpuShares(0.0, 0.0)  # nothing to compare yet


def test_system_gauges_use_the_conventions_modes_and_states():
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    reader = InMemoryMetricReader()
    handle = otelmetrics.configure(
        exporters=("none",), metric_readers=[reader], set_global=False, system_metrics=True
    )
    try:
        reader.get_metrics_data()  # psutil's shares are since the previous call
        __import__("time").sleep(1.0)  # enough clock ticks for the shares to add up
        points: dict[str, list] = {}
        for group in reader.get_metrics_data().resource_metrics:
            for scope in group.scope_metrics:
                for metric in scope.metrics:
                    points.setdefault(metric.name, []).extend(metric.data.data_points)
    finally:
        handle.shutdown()
    memory = [p.attributes["system.memory.state"] for p in points["system.memory.usage"]]
    assert sorted(memory) == ["available", "used"]
    shares = {p.attributes["cpu.mode"]: p.value for p in points["system.cpu.utilization"]}
    found = points["system.cpu.utilization"]
    assert len(found) == len(shares) and {"user", "system", "idle"} <= set(shares)
    assert all(0.0 <= share <= 1.0 for share in shares.values())
    assert sum(shares.values()) == __import__("pytest").approx(1.0, abs=0.05)  # every mode


def test_user_gauge_is_registered_safe_and_capped(metrics, caplog):
    otelmetrics.observable_gauge(
        "trading.positions.open",
        lambda options: [Observation(i, {"symbol": f"S{i}"}) for i in range(5000)],
        unit="{position}",
        handle=metrics.handle,
    )
    calls = []

    def broken(options):
        calls.append(1)
        raise RuntimeError("feed down")

    otelmetrics.observable_gauge("trading.broken", broken, handle=metrics.handle)
    with caplog.at_level(logging.DEBUG, logger="otelmetrics.instruments.gauges"):
        first = metrics.collect()
        second = metrics.collect()
    positions = first["trading.positions.open"]
    assert len(positions) == 2000
    assert sum(1 for p in positions if p.attributes.get("otel.metric.overflow")) == 1
    assert "trading.broken" not in second and len(calls) == 2
    errors = [
        r
        for r in caplog.records
        if r.levelno >= logging.ERROR and "trading.broken" in r.getMessage()
    ]
    assert len(errors) == 1  # logged once, then at debug level
    assert "process.memory.usage" in second  # the others still report


def test_gauge_declared_before_configure_joins_the_next_handle():
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    from otelmetrics.pipeline import default

    otelmetrics.observable_gauge("early.gauge", lambda options: [Observation(7)])
    try:
        reader = InMemoryMetricReader()
        handle = otelmetrics.configure(
            exporters=("none",), metric_readers=[reader], set_global=False
        )
        names = [
            m.name
            for g in reader.get_metrics_data().resource_metrics
            for s in g.scope_metrics
            for m in s.metrics
        ]
        handle.shutdown()
    finally:
        default._PENDING.clear()
    assert "early.gauge" in names


def test_a_forked_child_reads_itself_even_when_the_parent_held_the_lock():
    import os
    import signal
    import time

    from otelmetrics.instruments.performance import Performance
    from otelmetrics.instruments.process import ProcessSampler
    from otelmetrics.instruments.resources import Resources
    from tests.clock import Clock

    resources = Resources(clock=Clock())  # frozen: only a fork makes the parent's pass stale
    sampler, performance = ProcessSampler(resources=resources), Performance(resources=resources)
    parent = sampler.sample()
    performance.view()
    resources._lock.acquire()  # a collection in the parent's exporter thread, at the fork
    pid = os.fork()
    if pid == 0:
        os._exit(_check_child(parent, sampler.sample(), performance.view()))
    resources._lock.release()
    deadline = time.monotonic() + 10
    while (found := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    if found[0] == 0:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise AssertionError("the forked child hung waiting for the parent's resources lock")
    assert os.waitstatus_to_exitcode(found[1]) == 0, "the child read the parent's numbers"


def _check_child(parent, child, view):
    """0 when the child's reading is its own: its CPU time restarts at fork, no utilization."""
    try:
        own_cpu = child.cpu_user + child.cpu_system < parent.cpu_user + parent.cpu_system
        return 0 if own_cpu and child.cpu_utilization == 0.0 and view["errors"] == {} else 1
    except BaseException:
        return 2
