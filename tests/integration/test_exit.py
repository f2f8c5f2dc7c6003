"""A process that simply exits honours ``shutdown_timeout``: one last export is attempted, and an
endpoint that refuses or hangs costs at most the bound (a plain exit and gunicorn's SIGTERM)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tests.integration.processes import PYTHON, free_port, start, stop, wait_http

BOUND = 2.0  # OTELMETRICS_SHUTDOWN_TIMEOUT in these tests
STARTUP = 4.0  # interpreter, imports and configure, generously on a loaded machine
RECORD_AND_EXIT = (
    "import otelmetrics\n"
    "handle = otelmetrics.configure(service_name='exiting')\n"
    "handle.trading.order_placed('BTC-USD', 'buy')\n"
)


class HangingEndpoint:
    """Accepts every connection and never answers (a collector stuck behind a load balancer)."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.endpoint = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            self._held.append(connection)

    def close(self) -> None:
        self._listener.close()
        for connection in self._held:
            connection.close()


@pytest.fixture(params=["hanging", "refusing"])
def dead_endpoint(request) -> Iterator[str]:
    if request.param == "refusing":
        yield f"http://127.0.0.1:{free_port()}"  # nothing listens there
        return
    hanging = HangingEndpoint()
    yield hanging.endpoint
    hanging.close()


def exporting_to(endpoint: str) -> dict[str, str]:
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_METRICS_EXPORTER": "otlp",
        "OTEL_METRIC_EXPORT_INTERVAL": "60000",  # only the exit-time export can deliver
        "OTELMETRICS_SHUTDOWN_TIMEOUT": str(BOUND),
    }


def test_a_plain_exit_with_the_endpoint_down_takes_at_most_the_bound(dead_endpoint):
    started = time.monotonic()
    process = start([PYTHON, "-c", RECORD_AND_EXIT], exporting_to(dead_endpoint))
    output, _ = process.communicate(timeout=60)
    elapsed = time.monotonic() - started
    assert process.returncode == 0, output.decode()
    assert elapsed < BOUND + STARTUP, f"exit took {elapsed:.1f} s:\n{output.decode()}"


def test_a_plain_exit_makes_one_last_export(http_receiver):
    process = start([PYTHON, "-c", RECORD_AND_EXIT], exporting_to(http_receiver.endpoint))
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output.decode()
    points = http_receiver.received.points("trading.orders")
    assert [point.as_int for _, point, _ in points] == [1], output.decode()


def test_gunicorn_workers_told_to_stop_take_at_most_the_bound(dead_endpoint):
    port = free_port()
    args = ["-w", "2", "-b", f"127.0.0.1:{port}", "--graceful-timeout", "30"]
    server = start(
        [PYTHON, "-m", "gunicorn", *args, "tests.integration.apps.flask_app:app"],
        exporting_to(dead_endpoint),
    )
    wait_http(f"http://127.0.0.1:{port}/items/1", server)
    for item in range(2, 6):  # give both workers something to export
        wait_http(f"http://127.0.0.1:{port}/items/{item}", server)
    started = time.monotonic()
    output = stop(server)
    elapsed = time.monotonic() - started
    assert server.returncode == 0, output
    assert elapsed < BOUND + 3.0, f"SIGTERM to exit took {elapsed:.1f} s:\n{output}"
