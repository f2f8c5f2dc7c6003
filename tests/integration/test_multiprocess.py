"""/metrics under pre-fork servers: every scrape, whichever worker answers, shows the server's
totals (gunicorn sync and gthread, uvicorn --workers), which never go down: not when workers
are recycled (--max-requests), not when one is killed with SIGKILL; idle workers report; a
previous run never counts; a directory that cannot be written fails at setup, saying which."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import psutil
import pytest

from tests.integration.processes import PYTHON, free_port, get, start, stop, wait_http

COUNT = re.compile(
    r'^http_server_request_duration_seconds_count\{[^}]*http_route="/items/[^"]*"[^}]*\} (\S+)$',
    re.M,
)
SERVERS = {
    "gunicorn-sync": ["-m", "gunicorn", "-w", "4", "-k", "sync"],
    "gunicorn-preload": ["-m", "gunicorn", "-w", "4", "-k", "sync", "--preload"],
    "gunicorn-gthread": ["-m", "gunicorn", "-w", "4", "-k", "gthread", "--threads", "4"],
    "uvicorn": ["-m", "uvicorn", "--workers", "2", "--no-access-log"],  # a full pipe would block
}
APPS = {
    "gunicorn": "tests.integration.apps.flask_app:app",
    "uvicorn": "tests.integration.apps.fastapi_app:app",
}


@contextmanager
def server(
    kind: str, tmp_path, *extra: str, env: dict[str, str] | None = None
) -> Iterator[tuple[str, object]]:
    port = free_port()
    bind = (
        ["--port", str(port), "--host", "127.0.0.1"]
        if kind == "uvicorn"
        else ["-b", f"127.0.0.1:{port}"]
    )
    app = APPS["uvicorn" if kind == "uvicorn" else "gunicorn"]
    settings = {
        "OTEL_METRICS_EXPORTER": "prometheus",
        "OTELMETRICS_MULTIPROC_DIR": str(tmp_path),
        **(env or {}),
    }
    process = start([PYTHON, *SERVERS[kind], *bind, *extra, app], settings)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{base}/items/0", process)
        yield base, process
    finally:
        output = stop(process)
    assert "Traceback" not in output or "adding up the workers failed" in output, output


def total(base: str) -> int:
    with urllib.request.urlopen(f"{base}/metrics", timeout=10) as response:
        text = response.read().decode()
    return int(sum(float(value) for value in COUNT.findall(text)))


def load(base: str, requests: int, scrapes: int) -> list[int]:
    """``requests`` requests from 8 threads with ``scrapes`` scrapes in between; the totals."""
    seen: list[int] = []
    per_round = requests // scrapes
    with ThreadPoolExecutor(8) as pool:
        for round_ in range(scrapes):
            urls = [f"{base}/items/{round_ * per_round + i}" for i in range(per_round)]
            assert set(pool.map(get, urls)) == {200}
            seen.append(total(base))
    return seen


@pytest.mark.parametrize("kind", list(SERVERS))
def test_every_scrape_shows_the_servers_totals_and_they_never_go_down(kind, tmp_path):
    with server(kind, tmp_path) as (base, _):
        before = total(base)  # the readiness probes (one, or more if the first timed out)
        seen = load(base, 4000, 40)
        assert seen == sorted(seen), seen
        assert total(base) == before + 4000


def test_recycled_workers_keep_what_they_counted(tmp_path):
    with server("gunicorn-sync", tmp_path, "--max-requests", "300") as (base, _):
        before = total(base)
        seen = load(base, 3000, 10)
        assert seen == sorted(seen), seen
        assert total(base) == before + 3000
        assert len(list(tmp_path.glob("*/*.arena"))) <= 4 + 1 + 4  # exited ones are folded


def test_a_killed_worker_keeps_every_request_it_answered(tmp_path):
    with server("gunicorn-sync", tmp_path) as (base, process):
        before = total(base)
        first = load(base, 400, 4)
        workers = psutil.Process(process.pid).children()
        os.kill(workers[0].pid, signal.SIGKILL)
        after = load(base, 400, 4)
        seen = first + after
        assert seen == sorted(seen), seen
        assert total(base) == before + 800


def test_idle_workers_report_their_gauges(tmp_path):
    with server("gunicorn-sync", tmp_path, env={"OTELMETRICS_STATS_DIR": ""}) as (base, _):
        deadline = time.monotonic() + 15
        instances: set[str] = set()
        while time.monotonic() < deadline and len(instances) < 4:
            with urllib.request.urlopen(f"{base}/metrics", timeout=10) as response:
                text = response.read().decode()
            instances = set(
                re.findall(
                    r'^process_cpu_time_seconds_total\{[^}]*service_instance_id="([^"]+)"',
                    text,
                    re.M,
                )
            )
            time.sleep(0.5)
        assert len(instances) == 4, instances  # every worker, idle ones included


def test_a_previous_run_never_counts(tmp_path):
    with server("gunicorn-sync", tmp_path) as (base, _):
        load(base, 100, 1)
    # A server's directory written to within the last second is left to the next start (it
    # may be one being created); the stopping workers' last writes must be older than that.
    time.sleep(1.2)
    with server("gunicorn-sync", tmp_path) as (base, _):
        assert total(base) < 100  # the new run's readiness probes only
    assert len(list(tmp_path.iterdir())) == 1  # the stopped server's directory is gone


def test_a_scrape_never_fails_when_the_directory_goes_away(tmp_path):
    with server("gunicorn-sync", tmp_path) as (base, _):
        for directory in tmp_path.iterdir():
            shutil.rmtree(directory)
        assert get(f"{base}/metrics") == 200  # this worker's own series, the failure logged
        assert get(f"{base}/items/1") == 200


def test_a_directory_that_cannot_be_written_fails_at_setup_naming_it(tmp_path):
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("")
    port = free_port()
    process = start(
        [PYTHON, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}", APPS["gunicorn"]],
        {"OTEL_METRICS_EXPORTER": "prometheus", "OTELMETRICS_MULTIPROC_DIR": str(blocked)},
    )
    try:
        raw, _ = process.communicate(timeout=60)  # gunicorn halts: the worker failed to boot
    except subprocess.TimeoutExpired:
        stop(process)
        raise
    output = raw.decode()
    assert process.returncode != 0
    assert str(blocked) in output and "OTELMETRICS_MULTIPROC_DIR" in output, output
