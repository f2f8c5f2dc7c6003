"""Real servers: gunicorn workers, opentelemetry-instrument and the lazy default.

The demo's own process test is in test_demo.py.
"""

import json
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.integration.processes import PYTHON, free_port, get, start, stop, wait_http

DURATION = "http.server.request.duration"


def otlp_env(receiver):
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_METRIC_EXPORT_INTERVAL": "300",
        "OTEL_SERVICE_NAME": "workers",
    }


def cumulative(received, name=DURATION):
    """Sum over instances of the newest total count (summing every series of an instance)."""
    newest = {}
    for request in received.requests:
        for group in request.resource_metrics:
            instance = next(
                a.value.string_value
                for a in group.resource.attributes
                if a.key == "service.instance.id"
            )
            for scope in group.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        kind = metric.WhichOneof("data")
                        points = getattr(metric, kind).data_points
                        newest[instance] = sum(p.count for p in points)
    return newest


@pytest.mark.parametrize("preload", [False, True], ids=["per-worker-import", "preload"])
def test_two_gunicorn_workers_have_distinct_instances_and_correct_totals(http_receiver, preload):
    port = free_port()
    args = [
        PYTHON,
        "-m",
        "gunicorn",
        "-w",
        "2",
        "-b",
        f"127.0.0.1:{port}",
        "-c",
        "tests/integration/apps/gunicorn_conf.py",
    ]
    if preload:
        args.append("--preload")
    server = start([*args, "tests.integration.apps.flask_app:app"], otlp_env(http_receiver))
    try:
        wait_http(f"http://127.0.0.1:{port}/items/0", server)
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(get, [f"http://127.0.0.1:{port}/work"] * 119))
        assert statuses == [200] * 119
        sent = 120
        http_receiver.received.wait_for(
            lambda: (
                sum(cumulative(http_receiver.received).values()) == sent
                and len(cumulative(http_receiver.received)) >= 2
            ),
            f"{sent} requests reported by 2 workers",
        )
    finally:
        output = stop(server)
    newest = cumulative(http_receiver.received)
    assert len(newest) == 2, (newest, output)
    assert sum(newest.values()) == sent
    pids = {r["process.pid"] for r, _, _ in http_receiver.received.points(DURATION)}
    assert len(pids) == 2  # each worker reports under its own pid and instance id


def test_under_opentelemetry_instrument_nothing_is_counted_twice(http_receiver):
    port = free_port()
    env = {
        **otlp_env(http_receiver),
        "OTEL_TRACES_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
    }
    server = start(
        [
            str(Path(PYTHON).parent / "opentelemetry-instrument"),
            PYTHON,
            "tests/integration/apps/flask_app.py",
            str(port),
        ],
        env,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/items/0", server)
        for i in range(9):
            get(f"http://127.0.0.1:{port}/items/{i}")
        received = http_receiver.received

        def total():
            return sum(
                cumulative(received, name).get(i, 0)
                for name in ("http.server.duration", DURATION)
                for i in cumulative(received, name)
            )

        received.wait_for(lambda: total() >= 10, "10 requests counted")
        time.sleep(1.0)  # a second count would show up in the next exports
        assert total() == 10
    finally:
        stop(server)


def test_instrument_without_configure_configures_from_env_on_first_use():
    port = free_port()
    server = start(
        [PYTHON, "tests/integration/apps/flask_app.py", str(port)],
        {"OTEL_SERVICE_NAME": "lazy-app"},
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/items/1", server)
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics") as response:
            body = response.read().decode()
    finally:
        stop(server)
    assert 'service_name="lazy-app"' in body
    assert "http_server_request_duration_seconds_count{" in body


def test_fastapi_native_metrics_are_off_so_each_request_counts_once():
    code = """
import otelmetrics
from fastapi import FastAPI
from starlette.testclient import TestClient
otelmetrics.configure()  # installs the global SDK MeterProvider FastAPI's own metrics use
app = FastAPI()
app.add_api_route("/x", lambda: "x")
otelmetrics.instrument(app)
with TestClient(app, client=("127.0.0.1", 50000)) as client:
    for _ in range(5):
        client.get("/x")
    print(client.get("/metrics").text)
"""
    import subprocess

    out = subprocess.run(
        [PYTHON, "-W", "ignore", "-c", code], capture_output=True, text=True, check=True
    ).stdout
    # No scope label tells the two apart (as in Prometheus): a second scope recording the
    # duration would add a second _count line, or double the one there is.
    counts = [
        line
        for line in out.splitlines()
        if line.startswith("http_server_request_duration_seconds_count{")
    ]
    assert len(counts) == 1 and counts[0].endswith(" 5.0")


def test_the_service_scope_merges_every_gunicorn_workers_statistics(tmp_path):
    port = free_port()
    env = {
        "OTELMETRICS_STATS_DIR": str(tmp_path),
        "OTELMETRICS_API_PUBLIC": "true",
        "OTEL_METRICS_EXPORTER": "none",
    }
    args = ["-w", "2", "-b", f"127.0.0.1:{port}", "-c", "tests/integration/apps/gunicorn_conf.py"]
    server = start([PYTHON, "-m", "gunicorn", *args, "tests.integration.apps.flask_app:app"], env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{base}/items/0", server)
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(get, [f"{base}/work"] * 79 + [f"{base}/items/x"] * 20))
        assert statuses == [200] * 79 + [404] * 20
        deadline = time.monotonic() + 20
        while True:  # each worker publishes its window every 5 s
            merged = read_json(f"{base}/api/metrics/current?scope=service")["metrics"]
            if merged["workers"] == 2 and merged["total_requests"] == 100:
                break
            assert time.monotonic() < deadline, merged
            time.sleep(0.5)
        worker = read_json(f"{base}/api/metrics/current")["metrics"]
        # The answering worker merges its own state from memory: its file appears at its own
        # next 5 s tick, which may come a moment after the other worker's.
        while len(list(tmp_path.glob("worker-*.json"))) < 2 and time.monotonic() < deadline + 6:
            time.sleep(0.2)
    finally:
        stop(server)
    assert merged["total_errors"] == 20
    assert merged["error_rate_pct"] == 20.0
    assert merged["latency_p99_ms"] >= 20  # /work sleeps 20 ms
    assert worker["total_requests"] < 100  # one worker saw only its share
    assert len(list(tmp_path.glob("worker-*.json"))) == 2


def read_json(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())
