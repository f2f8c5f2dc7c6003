"""Faults: the collector killed under load, a slow or refusing backend, a crash with a backlog."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import (
    Binaries,
    Collector,
    Prometheus,
    free_port,
    poll_until,
    start_app,
    start_collector,
    start_prometheus,
    sum_samples,
)
from tests.e2e.otlp import now_ns, post, sum_request

DURATION_COUNT = "http_server_request_duration_seconds_count"
OUTAGE_SECONDS = 30


class Load:
    """Requests to the app from a background thread at a steady pace, every outcome recorded."""

    def __init__(self, get: Callable[[str], tuple[int, float]], per_second: float) -> None:
        self.get = get
        self.pause = 1 / per_second
        self.results: list[tuple[float, int, float]] = []  # (when, status, seconds)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        item = 0
        while not self.stopping.is_set():
            status, seconds = self.get(f"/items/{item}")
            self.results.append((time.monotonic(), status, seconds))
            item += 1
            time.sleep(self.pause)

    def __enter__(self) -> Load:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.thread.join(timeout=30)

    def between(self, start: float, end: float) -> list[tuple[float, int, float]]:
        return [r for r in self.results if start <= r[0] < end]


def test_collector_killed_under_load_app_unaffected_and_totals_recover(
    binaries: Binaries,
    prometheus: Prometheus,
    workdir: Path,
    spawn: Callable[[Any], Any],
) -> None:
    root = workdir / "kill"
    collector: Collector = spawn(start_collector(binaries, root, "killed", prometheus=prometheus))
    prometheus.set_targets("otel-collector-killed", [collector.metrics_target])
    instance = f"e2e-kill-{uuid.uuid4().hex[:8]}"
    app = spawn(start_app(root, collector, service_name="e2e-flask", instance_id=instance))

    with Load(app.get, per_second=20) as load:
        time.sleep(3)
        killed_at = time.monotonic()
        collector.kill()
        time.sleep(OUTAGE_SECONDS)
        collector.start()  # same config, same ports
        restarted_at = time.monotonic()
        time.sleep(3)

    statuses = {status for _, status, _ in load.results}
    assert statuses == {200}, f"requests failed while the collector was down: {statuses}"
    during = load.between(killed_at, restarted_at)
    assert len(during) > OUTAGE_SECONDS * 10, f"only {len(during)} requests during the outage"
    slowest = max(seconds for _, _, seconds in during)
    # Export runs on the SDK's reader thread, never on the request path.
    assert slowest < 1.0, f"a request took {slowest:.2f}s while the collector was down"

    sent = len(load.results)
    count = f'sum({DURATION_COUNT}{{service_instance_id="{instance}"}})'

    def totals_match() -> None:
        value = prometheus.value(count)
        assert value == sent, f"{count} = {value}, want {sent}"

    # Cumulative temporality: the first export after the restart carries the full totals.
    poll_until(totals_match, f"Prometheus to count all {sent} requests", timeout=30)
    # And Prometheus saw the collector go away (what a CollectorDown alert fires on).
    down = f'min_over_time(up{{instance="{collector.metrics_target}"}}[5m])'
    assert prometheus.value(down) == 0


class SlowBackend:
    """An OTLP/HTTP "backend" that answers only after far longer than the exporter's timeout."""

    def __init__(self, delay: float) -> None:
        self.stopping = threading.Event()
        stopping = self.stopping

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                stopping.wait(delay)
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture(params=["slow", "refusing"])
def bad_backend(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "refusing":
        yield f"http://127.0.0.1:{free_port()}"  # nothing listens there
        return
    backend = SlowBackend(delay=60)
    yield backend.endpoint
    backend.stop()


def test_a_slow_or_refusing_backend_fills_its_queue_and_the_collector_shows_it(
    bad_backend: str,
    binaries: Binaries,
    prometheus: Prometheus,
    workdir: Path,
    spawn: Callable[[Any], Any],
) -> None:
    capacity = 20000
    collector: Collector = spawn(
        start_collector(
            binaries,
            workdir / "backend-fault",
            f"fault-{uuid.uuid4().hex[:6]}",
            prometheus=prometheus,
            env={
                "OTELCOL_METRICS_EXPORTERS": "[otlp_http/prometheus, otlp_http/backend]",
                "OTELCOL_BACKEND_ENDPOINT": bad_backend,
                "OTELCOL_BACKEND_QUEUE_SIZE": str(capacity),
            },
        )
    )
    prometheus.set_targets("otel-collector-fault", [collector.metrics_target])
    metric = f"e2e_fault_points_{uuid.uuid4().hex[:8]}"
    start = now_ns() - 10**9
    statuses = []
    for k in range(1, 21):  # 20 requests x 2000 points = 2x the backend queue
        request = sum_request(
            service_name="e2e-fault",
            instance_id="fault-1",
            metric=metric,
            value=float(k),
            series=2000,
            start_ns=start,
            time_ns=start + k * 10**6,
        )
        statuses.append(post(collector.http_endpoint, request))

    backend = 'exporter="otlp_http/backend"'

    def queue_full() -> dict[str, float]:
        own = collector.own_metrics()
        size = sum_samples(own, "otelcol_exporter_queue_size", backend)
        dropped = sum_samples(own, "otelcol_exporter_enqueue_failed_metric_points", backend)
        assert size >= 0.9 * capacity and dropped > 0, f"queue {size}/{capacity}, dropped {dropped}"
        return own

    own = poll_until(queue_full, "the backend's sending queue to fill and overflow")
    assert sum_samples(own, "otelcol_exporter_queue_capacity", backend) == capacity
    # The fan-out returns the overflow to the client as a retryable refusal (503), so an SDK
    # retries (harmless with cumulative data) and the refusal is visible on both sides.
    assert 503 in statuses and statuses[0] == 200, statuses
    assert sum_samples(own, "otelcol_receiver_refused_metric_points") > 0

    # Prometheus, behind its own queue, is not held back: it has every series at the last
    # value of an accepted request.
    def prometheus_has_everything() -> None:
        got = prometheus.query(f"count({metric}_total)")
        assert got and got[0][1] == 2000, got

    poll_until(prometheus_has_everything, f"all 2000 series of {metric} in Prometheus")

    # And the same signal arrives in Prometheus through the scrape of the collector's own
    # metrics: the queue-nearly-full alert expression is true for the backend exporter.
    alert = (
        f'otelcol_exporter_queue_size{{instance="{collector.metrics_target}", {backend}}}'
        f" / otelcol_exporter_queue_capacity > 0.8"
    )

    def alert_expression_true() -> None:
        assert prometheus.query(alert), f"{alert} is empty"

    poll_until(alert_expression_true, "the queue-full expression in Prometheus", timeout=45)
    # Its queue holds data for a backend that never answers: no graceful drain to wait for.
    collector.kill()


@pytest.mark.parametrize("persistent", [True, False], ids=["persistent-queue", "memory-queue"])
def test_a_backlog_survives_a_collector_crash_only_with_the_persistent_queue(
    persistent: bool, binaries: Binaries, workdir: Path, spawn: Callable[[Any], Any]
) -> None:
    root = workdir / f"backlog-{'disk' if persistent else 'memory'}"
    prometheus_port = free_port()  # Prometheus is down until after the crash
    configs = ["otelcol-config.yaml"]
    if persistent:
        configs.append("overlay-persistent-queue.yaml")
    collector: Collector = spawn(
        start_collector(
            binaries,
            root,
            "backlog",
            configs=configs,
            env={
                "OTELCOL_PROMETHEUS_OTLP_ENDPOINT": f"http://127.0.0.1:{prometheus_port}/api/v1/otlp",
                "OTELCOL_STORAGE_DIR": str(root / "queue"),
            },
        )
    )
    metric = f"e2e_backlog_points_{uuid.uuid4().hex[:8]}"
    start = now_ns() - 10**9
    for k in range(1, 4):
        request = sum_request(
            service_name="e2e-backlog",
            instance_id="backlog-1",
            metric=metric,
            value=float(k),
            series=50,
            start_ns=start,
            time_ns=start + k * 10**6,
        )
        assert post(collector.http_endpoint, request) == 200

    def queued() -> None:
        own = collector.own_metrics()
        size = sum_samples(own, "otelcol_exporter_queue_size", 'exporter="otlp_http/prometheus"')
        assert size > 0, size

    poll_until(queued, "the export backlog in the queue")
    collector.kill()  # the only copy of the data is now in the queue, if it is on disk
    prometheus: Prometheus = spawn(
        start_prometheus(binaries, root / "prometheus", port=prometheus_port)
    )
    collector.start()

    latest = f"count({metric}_total == 3)"  # all 50 series at the last value sent
    if persistent:

        def delivered() -> None:
            got = prometheus.query(latest)
            assert got and got[0][1] == 50, got

        poll_until(delivered, f"the backlog of {metric} after the restart", timeout=40)
    else:
        time.sleep(6)  # a surviving backlog arrives within 2s (see the persistent case)
        assert prometheus.query(f"{metric}_total") == []
