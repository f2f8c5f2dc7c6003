"""The service-wide view: workers' windows published to files and merged."""

import json
import os
from dataclasses import replace

import pytest

from otelmetrics.core.window import RollingWindow, Sketch
from otelmetrics.insights import workers
from tests.builders import make_stats


def state(window, now, epoch, **gauges):
    found = workers.window_state(window, now, epoch)
    defaults = dict.fromkeys(
        ("active_users", "memory_usage_pct", "memory_usage_mb", "cpu_usage_pct"), 1.0
    )
    return {**found, "at": epoch, "pid": 0, "gauges": {**defaults, **gauges}}


def test_merged_counts_and_percentiles_equal_one_window_holding_everything():
    one, two, both = RollingWindow(300), RollingWindow(300), RollingWindow(300)
    for i in range(200):
        latency = (i % 100 + 1) / 1000
        target = one if i % 2 else two
        target.add(latency, 500 if i % 10 == 0 else 200, now=float(i))
        both.add(latency, 500 if i % 10 == 0 else 200, now=float(i))
    epoch = 1_900_000_000.0
    states = [state(one, 250.0, epoch), state(two, 250.0, epoch)]
    merged = workers.merge(states, epoch, 300)
    view = both.view(250.0)
    assert (merged["requests"], merged["errors"], merged["server_errors"]) == (
        view.requests,
        view.errors,
        view.server_errors,
    )
    assert merged["percentiles"] == (view.p50, view.p95, view.p99)
    assert merged["seconds"] == pytest.approx(view.seconds)
    assert merged["totals"] == both.totals
    assert merged["gauges"]["memory_usage_mb"] == 2.0
    assert merged["workers"] == 2


def test_expired_slots_are_left_out_by_epoch_time():
    window = RollingWindow(60)
    window.add(0.01, 200, now=0.0)
    window.add(0.02, 200, now=50.0)
    epoch = 1_900_000_100.0  # 100 s after the monotonic zero
    merged = workers.merge([state(window, 100.0, epoch)], epoch, 60)
    assert merged["requests"] == 1
    assert merged["percentiles"][0] == pytest.approx(0.02, rel=0.01)


def test_collect_reads_fresh_files_and_skips_stale_or_broken_ones(tmp_path):
    own = {"at": 1000.0, "name": "own"}
    (tmp_path / "worker-1.json").write_text(json.dumps({"at": 995.0, "name": "fresh"}))
    (tmp_path / "worker-2.json").write_text(json.dumps({"at": 900.0, "name": "stale"}))
    (tmp_path / "worker-3.json").write_text("{half")
    names = [found["name"] for found in workers.collect(str(tmp_path), own, 1000.0)]
    assert names == ["own", "fresh"]


def test_publish_replaces_the_workers_file_atomically(tmp_path):
    workers.publish(str(tmp_path), {"at": 1.0})
    workers.publish(str(tmp_path), {"at": 2.0})
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == [f"worker-{os.getpid()}.json"]
    assert json.loads((tmp_path / files[0]).read_text()) == {"at": 2.0}


def test_a_sketch_survives_the_round_trip():
    window = RollingWindow(300)
    for ms in range(1, 100):
        window.add(ms / 1000, 200, now=1.0)
    slot = workers.window_state(window, 2.0, 2.0)["slots"][0]
    rebuilt = workers._sketch(slot)
    original: Sketch = window.slots()[0].sketch
    assert rebuilt.quantiles((0.5, 0.99)) == original.quantiles((0.5, 0.99))
    assert rebuilt.n == original.n


def test_service_view_needs_the_shared_directory(metrics):
    with pytest.raises(LookupError, match="OTELMETRICS_STATS_DIR"):
        metrics.handle.stats.service_current()


@pytest.mark.parametrize(
    ("query", "allowed"), [("scope=bogus", ["worker", "service"]), ("scope=service", ["worker"])]
)
def test_the_api_rejects_a_scope_it_cannot_serve(metrics, query, allowed):
    from flask import Flask

    import otelmetrics

    metrics.handle.settings = replace(metrics.handle.settings, api_public=True)
    app = Flask("scopes")
    otelmetrics.instrument(app, handle=metrics.handle)
    response = app.test_client().get(f"/api/metrics/current?{query}")
    assert response.status_code == 400
    assert response.json["parameter"] == "scope"
    assert response.json["allowed"] == allowed


def test_the_service_scope_through_the_api_with_one_worker(metrics, tmp_path):
    from flask import Flask

    import otelmetrics

    metrics.handle.settings = replace(
        metrics.handle.settings, api_public=True, stats_dir=str(tmp_path)
    )
    metrics.handle.stats.stop()
    metrics.handle.stats = make_stats(metrics.handle, start=False)
    app = Flask("scopes")
    app.add_url_rule("/ok", "ok", lambda: "ok")
    otelmetrics.instrument(app, handle=metrics.handle)
    client = app.test_client()
    for _ in range(3):
        client.get("/ok")
    merged = client.get("/api/metrics/current?scope=service").json["metrics"]
    assert (merged["workers"], merged["total_requests"]) == (1, 3)
