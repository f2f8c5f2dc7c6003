"""Zero-code: unmodified apps under ``otelmetrics-instrument`` and ``opentelemetry-instrument``.

Real servers on 127.0.0.1; the apps in ``apps/plain_*.py`` never import otelmetrics. Each test
sends N requests and finds exactly N counted, in ``/metrics`` (server-wide under several
workers) and in the decoded OTLP the receiver got.
"""

import json
import os
import signal
import subprocess
import urllib.request
from pathlib import Path

import pytest

from tests.integration.processes import PYTHON, free_port, get, start, stop, wait_http
from tests.integration.test_processes import cumulative

BIN = str(Path(PYTHON).parent)
LAUNCHER = ["otelmetrics-instrument"]
DURATION = "http.server.request.duration"
PLAIN_FLASK = "tests.integration.apps.plain_flask"


def env(**extra):
    return {"PATH": BIN + os.pathsep + os.environ.get("PATH", ""), **extra}


def otlp(receiver, **extra):
    return env(
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
        OTEL_METRIC_EXPORT_INTERVAL="300",
        OTEL_TRACES_EXPORTER="none",
        OTEL_LOGS_EXPORTER="none",
        **extra,
    )


def scraped_count(base):
    with urllib.request.urlopen(f"{base}/metrics", timeout=10) as response:
        text = response.read().decode()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("http_server_request_duration_seconds_count{")
    )


def serve(args, environ, n=10):
    """Start the server, send ``n`` requests (the first while waiting); the process and URL."""
    port = free_port()
    args = [a.replace("PORT", str(port)) for a in args]
    server = start(args, environ)
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/items/0", server, timeout=30)
    statuses = [get(f"{base}/items/{i}") for i in range(1, n)]
    assert statuses == [200] * (n - 1)
    return server, base


def assert_otlp_total(receiver, n):
    received = receiver.received

    def total():
        return sum(cumulative(received).values())

    received.wait_for(lambda: total() >= n, f"{n} requests in OTLP")
    assert total() == n
    assert not received.points("http.server.duration")  # the contrib's: not recorded


def stopped_cleanly(server):
    output = stop(server, signal.SIGTERM)  # to the process group: the server got it unchanged
    assert server.returncode == 0, output
    return output


GUNICORN = ["gunicorn", "-w", "2", "-b", "127.0.0.1:PORT"]


def test_gunicorn_two_workers_count_each_request_once_and_exit_cleanly(http_receiver):
    server, base = serve([*LAUNCHER, *GUNICORN, f"{PLAIN_FLASK}:app"], otlp(http_receiver), 20)
    try:
        assert scraped_count(base) == 20
        assert_otlp_total(http_receiver, 20)
    finally:
        stopped_cleanly(server)


def test_a_factory_app_gets_metrics_and_the_json_api():
    args = [*LAUNCHER, "--api_public", "true", *GUNICORN[:1], "-b", "127.0.0.1:PORT"]
    server, base = serve([*args, f"{PLAIN_FLASK}:create_app()"], env())
    try:
        assert scraped_count(base) == 10
        with urllib.request.urlopen(f"{base}/api/metrics/current", timeout=10) as response:
            assert json.loads(response.read())["metrics"]["total_requests"] == 10
    finally:
        stopped_cleanly(server)


def test_uvicorn_two_workers():
    args = ["uvicorn", "tests.integration.apps.plain_fastapi:app", "--port", "PORT"]
    server, base = serve([*LAUNCHER, *args, "--workers", "2"], env())
    try:
        assert scraped_count(base) == 10
    finally:
        stop(server)


def test_flask_run():
    args = ["flask", "--app", PLAIN_FLASK, "run", "--port", "PORT"]
    server, base = serve([PYTHON, "-m", "otelmetrics", "instrument", *args], env())
    try:
        assert scraped_count(base) == 10
    finally:
        stop(server)


def test_opentelemetry_instrument_with_the_otelmetrics_distro(http_receiver):
    distro = otlp(
        http_receiver, OTEL_PYTHON_DISTRO="otelmetrics", OTEL_PYTHON_CONFIGURATOR="otelmetrics"
    )
    args = ["opentelemetry-instrument", *GUNICORN, f"{PLAIN_FLASK}:app"]
    server, base = serve(args, distro)
    try:
        assert scraped_count(base) == 10
        assert_otlp_total(http_receiver, 10)
    finally:
        stopped_cleanly(server)


def test_an_instrumented_app_under_plain_opentelemetry_instrument_does_not_go_dark(http_receiver):
    """The OpenTelemetry distro sets OTEL_METRICS_EXPORTER=otlp: /metrics and the API stay,
    and the requests are counted once, by otelmetrics (the contrib keeps the spans)."""
    environ = otlp(http_receiver, OTELMETRICS_API_PUBLIC="true")
    del environ["OTEL_TRACES_EXPORTER"]  # the distro's default: otlp
    app = "tests.integration.apps.flask_app:app"  # it calls otelmetrics.instrument(app)
    args = ["opentelemetry-instrument", "gunicorn", "-b", "127.0.0.1:PORT", app]
    server, base = serve(args, environ)
    try:
        assert scraped_count(base) == 10
        with urllib.request.urlopen(f"{base}/api/metrics/current", timeout=10) as response:
            assert json.loads(response.read())["metrics"]["total_requests"] == 10
        assert_otlp_total(http_receiver, 10)
    finally:
        stop(server)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--api_public", "maybe"], "OTELMETRICS_API_PUBLIC='maybe') is invalid"),
        (["--service_nam", "x"], "unrecognized arguments: --service_nam"),
    ],
)
def test_a_bad_flag_fails_before_the_command_starts(tmp_path, flags, message):
    marker = tmp_path / "started"
    command = [PYTHON, "-c", f"open({str(marker)!r}, 'w')"]
    done = subprocess.run(
        [*LAUNCHER, *flags, *command], env={**os.environ, **env()}, capture_output=True, text=True
    )
    assert done.returncode == 2
    assert message in done.stderr
    assert not marker.exists()


def test_a_missing_command_is_named_and_exits_127():
    done = subprocess.run(
        [*LAUNCHER, "no-such-server"], env={**os.environ, **env()}, capture_output=True, text=True
    )
    assert done.returncode == 127
    assert "command not found: no-such-server" in done.stderr


def test_the_command_exit_status_and_output_are_its_own():
    code = "import sys; print('out'); sys.exit(3)"
    done = subprocess.run(
        [*LAUNCHER, "python", "-c", code], env={**os.environ, **env()}, capture_output=True
    )
    assert (done.returncode, done.stdout) == (3, b"out\n")


def test_an_existing_sitecustomize_still_runs(tmp_path):
    (tmp_path / "sitecustomize.py").write_text("import builtins\nbuiltins.CHAINED = True\n")
    patched = "'_otelmetrics_originals' in vars(flask.Flask)"
    code = f"import builtins, flask; print(builtins.CHAINED, {patched})"
    environ = {**os.environ, **env(), "PYTHONPATH": str(tmp_path)}
    done = subprocess.run([*LAUNCHER, "python", "-c", code], env=environ, capture_output=True)
    assert done.stdout == b"True True\n", done.stderr
