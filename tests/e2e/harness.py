"""Run the real pipeline binaries on 127.0.0.1 (free ports, temp dirs) and talk to them.

Every process loads the very config files docker-compose.yml mounts (collector/*.yaml,
prometheus/prometheus.yml, prometheus/alertmanager.yml); what must differ on a test machine
(addresses, ports, targets, the webhook URL) is set the way those files expect it: environment
variables for the collector, file_sd target files and a secrets file next to a symlink of the
config for Prometheus and Alertmanager.

Also used by bench/collector_load.py.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

REPO = Path(__file__).resolve().parents[2]
COLLECTOR_DIR = REPO / "collector"
PROMETHEUS_DIR = REPO / "prometheus"
BUILD_SCRIPT = REPO / "scripts" / "build-binaries"

# The flags docker-compose.yml gives Prometheus that change behaviour (tests/static checks that
# the compose command has them all): the OTLP receiver is off unless asked for.
PROMETHEUS_FLAGS = ("--web.enable-otlp-receiver", "--web.enable-lifecycle")

T = TypeVar("T")


# --- waiting -----------------------------------------------------------------------------------


def poll_until(
    check: Callable[[], T], what: str, timeout: float = 30.0, interval: float = 0.25
) -> T:
    """Call ``check`` until it returns without raising; return its result.

    ``check`` states its condition with ``assert`` (with the value seen in the message) or lets
    any error escape. On timeout this raises AssertionError naming ``what`` we waited for and
    the last error, so a failure says what was seen instead of just "timed out".
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except Exception as error:  # noqa: BLE001 - retried until the deadline, then reported
            last = error
        if time.monotonic() >= deadline:
            raise AssertionError(
                f"gave up after {timeout:.0f}s waiting for {what}; last seen: {last!r}"
            ) from last
        time.sleep(interval)


# --- binaries ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Binaries:
    otelcol: Path
    prometheus: Path
    promtool: Path
    alertmanager: Path
    amtool: Path


def build_binaries() -> Binaries:
    """Build (first time, minutes) or look up (cached, milliseconds) the pipeline binaries."""
    result = subprocess.run(
        [str(BUILD_SCRIPT), "--print-env"], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"scripts/build-binaries failed with exit code {result.returncode}:\n{result.stderr}"
        )
    paths = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    return Binaries(
        otelcol=Path(paths["OTELCOL_BIN"]),
        prometheus=Path(paths["PROMETHEUS_BIN"]),
        promtool=Path(paths["PROMTOOL_BIN"]),
        alertmanager=Path(paths["ALERTMANAGER_BIN"]),
        amtool=Path(paths["AMTOOL_BIN"]),
    )


# --- processes ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Process:
    """A child process in its own session, its output in a log file."""

    name: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    log_path: Path
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        with open(self.log_path, "ab") as log:
            self.popen = subprocess.Popen(
                self.argv,
                cwd=self.cwd,
                env={**os.environ, **self.env},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> None:
        """kill -9: no shutdown, no flush; what a crash or the OOM killer does."""
        self.stop(signal.SIGKILL)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
        if self.popen is None:
            return
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, sig)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()
        self.popen = None

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def assert_running(self) -> None:
        if not self.running:
            code = None if self.popen is None else self.popen.returncode
            raise AssertionError(f"{self.name} is not running (exit {code}):\n{self.log_tail()}")

    def wait_ready(self, url: str, timeout: float = 30.0) -> None:
        def ready() -> None:
            self.assert_running()
            status, body = http_get(url, timeout=2)
            assert status == 200, f"{url} answered {status}: {body[:200]!r}"

        try:
            poll_until(ready, f"{self.name} to answer 200 on {url}", timeout=timeout)
        except AssertionError as error:
            raise AssertionError(f"{error}\n--- {self.name} log ---\n{self.log_tail()}") from None


# --- HTTP --------------------------------------------------------------------------------------


def http_get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return int(error.code), error.read()


def http_post(url: str, body: bytes, content_type: str, timeout: float = 10.0) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": content_type}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return int(error.code), error.read()


def parse_prometheus_text(text: str) -> dict[str, float]:
    """Prometheus text exposition -> {'name{labels}': value} (labels as written)."""
    samples: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        series, _, value = line.rpartition(" ")
        samples[series] = float(value)
    return samples


def sum_samples(samples: dict[str, float], name: str, *label_filters: str) -> float:
    """Sum of every sample of ``name`` whose label text contains all ``label_filters``."""
    total = 0.0
    for series, value in samples.items():
        metric, _, labels = series.partition("{")
        if metric == name and all(f in labels for f in label_filters):
            total += value
    return total


# --- Prometheus --------------------------------------------------------------------------------


@dataclass
class Prometheus:
    process: Process
    port: int
    workdir: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def otlp_endpoint(self) -> str:
        """What the collector's otlp_http/prometheus exporter is pointed at."""
        return f"{self.url}/api/v1/otlp"

    def set_targets(self, name: str, targets: Iterable[str]) -> None:
        """Write targets/NAME.yml (picked up by file_sd within a second, via inotify)."""
        target_list = sorted(targets)
        path = self.workdir / "targets" / f"{name}.yml"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps([{"targets": target_list}]))
        tmp.replace(path)

    def api(self, path: str, **params: str) -> Any:
        query = urllib.parse.urlencode(params)
        status, body = http_get(f"{self.url}/api/v1/{path}?{query}", timeout=10)
        assert status == 200, f"Prometheus {path} {params} answered {status}: {body[:300]!r}"
        payload = json.loads(body)
        assert payload["status"] == "success", payload
        return payload["data"]

    def query(self, expr: str) -> list[tuple[dict[str, str], float]]:
        """Instant query -> [(labels, value)]."""
        data = self.api("query", query=expr)
        assert data["resultType"] == "vector", data
        return [(item["metric"], float(item["value"][1])) for item in data["result"]]

    def value(self, expr: str) -> float:
        """The value of an instant query that must return exactly one series."""
        result = self.query(expr)
        assert len(result) == 1, f"{expr} returned {len(result)} series: {result}"
        return result[0][1]

    def active_targets(self, job: str) -> list[dict[str, Any]]:
        data = self.api("targets", state="active")
        return [t for t in data["activeTargets"] if t["labels"].get("job") == job]

    def stop(self) -> None:
        self.process.stop()


def start_prometheus(
    binaries: Binaries,
    workdir: Path,
    *,
    port: int | None = None,
    collector_targets: Iterable[str] = (),
    alertmanager_targets: Iterable[str] = (),
) -> Prometheus:
    """Prometheus with the repository's prometheus.yml (a symlink: relative paths resolve here)."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "targets").mkdir(exist_ok=True)
    for name in ("prometheus.yml", "rules"):
        link = workdir / name
        if not link.exists():
            link.symlink_to(PROMETHEUS_DIR / name)
    port = port or free_port()
    prometheus = Prometheus(
        process=Process(
            name=f"prometheus:{port}",
            argv=[
                str(binaries.prometheus),
                f"--config.file={workdir / 'prometheus.yml'}",
                f"--storage.tsdb.path={workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                *PROMETHEUS_FLAGS,
            ],
            env={},
            cwd=workdir,
            log_path=workdir / "prometheus.log",
        ),
        port=port,
        workdir=workdir,
    )
    prometheus.set_targets("otel-collector", collector_targets)
    prometheus.set_targets("alertmanager", alertmanager_targets)
    prometheus.process.start()
    prometheus.process.wait_ready(f"{prometheus.url}/-/ready")
    return prometheus


# --- Alertmanager ------------------------------------------------------------------------------


@dataclass
class Alertmanager:
    process: Process
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def post_alerts(self, alerts: Sequence[dict[str, Any]]) -> None:
        status, body = http_post(
            f"{self.url}/api/v2/alerts", json.dumps(list(alerts)).encode(), "application/json"
        )
        assert status == 200, f"Alertmanager refused alerts: {status} {body[:300]!r}"

    def alerts(self, **filters: str) -> list[dict[str, Any]]:
        query = urllib.parse.urlencode(filters)
        status, body = http_get(f"{self.url}/api/v2/alerts?{query}")
        assert status == 200, body
        result: list[dict[str, Any]] = json.loads(body)
        return result

    def stop(self) -> None:
        self.process.stop()


class WebhookReceiver:
    """A stdlib HTTP server recording the JSON bodies Alertmanager posts to it."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", 0))
                receiver.received.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def start_alertmanager(binaries: Binaries, workdir: Path, webhook_url: str) -> Alertmanager:
    """Alertmanager with the repository's alertmanager.yml; the webhook URL as a secret file."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "alertmanager.yml"
    if not config.exists():
        config.symlink_to(PROMETHEUS_DIR / "alertmanager.yml")
    (workdir / "secrets").mkdir(exist_ok=True)
    (workdir / "secrets" / "webhook-url").write_text(webhook_url + "\n")
    port = free_port()
    alertmanager = Alertmanager(
        process=Process(
            name=f"alertmanager:{port}",
            argv=[
                str(binaries.alertmanager),
                f"--config.file={config}",
                f"--storage.path={workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                # No gossip cluster (it would listen on 0.0.0.0:9094).
                "--cluster.listen-address=",
            ],
            env={},
            # url_file paths are relative to the working directory.
            cwd=workdir,
            log_path=workdir / "alertmanager.log",
        ),
        port=port,
    )
    alertmanager.process.start()
    alertmanager.process.wait_ready(f"{alertmanager.url}/-/ready")
    return alertmanager


# --- collector ---------------------------------------------------------------------------------


@dataclass
class Collector:
    process: Process
    configs: tuple[str, ...]
    grpc_port: int
    http_port: int
    health_port: int
    metrics_port: int
    env: dict[str, str] = field(default_factory=dict)

    @property
    def http_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def grpc_endpoint(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def metrics_target(self) -> str:
        """host:port of its own metrics, as Prometheus's instance label shows it."""
        return f"127.0.0.1:{self.metrics_port}"

    def own_metrics(self) -> dict[str, float]:
        """The collector's own metrics, read directly from its :8888-style endpoint."""
        status, body = http_get(f"http://{self.metrics_target}/metrics")
        assert status == 200, f"{self.process.name} /metrics answered {status}"
        return parse_prometheus_text(body.decode())

    def start(self) -> Collector:
        self.process.start()
        self.process.wait_ready(f"http://127.0.0.1:{self.health_port}/")
        return self

    def kill(self) -> None:
        self.process.kill()

    def stop(self) -> None:
        self.process.stop()


def start_collector(
    binaries: Binaries,
    workdir: Path,
    name: str,
    *,
    configs: Sequence[str] = ("otelcol-config.yaml",),
    prometheus: Prometheus | None = None,
    env: dict[str, str] | None = None,
    start: bool = True,
) -> Collector:
    """The built collector with collector/<configs> layered in order, on free ports."""
    workdir.mkdir(parents=True, exist_ok=True)
    grpc_port, http_port, health_port, metrics_port = (free_port() for _ in range(4))
    full_env = {
        "OTELCOL_OTLP_GRPC_ENDPOINT": f"127.0.0.1:{grpc_port}",
        "OTELCOL_OTLP_HTTP_ENDPOINT": f"127.0.0.1:{http_port}",
        "OTELCOL_HEALTH_ENDPOINT": f"127.0.0.1:{health_port}",
        "OTELCOL_METRICS_HOST": "127.0.0.1",
        "OTELCOL_METRICS_PORT": str(metrics_port),
        "OTELCOL_DEPLOYMENT_ENVIRONMENT": "e2e",
    }
    if prometheus is not None:
        full_env["OTELCOL_PROMETHEUS_OTLP_ENDPOINT"] = prometheus.otlp_endpoint
    full_env.update(env or {})
    argv = [str(binaries.otelcol)]
    for config in configs:
        argv += ["--config", str(COLLECTOR_DIR / config)]
    collector = Collector(
        process=Process(
            name=f"collector {name}",
            argv=argv,
            env=full_env,
            cwd=workdir,
            log_path=workdir / f"otelcol-{name}.log",
        ),
        configs=tuple(configs),
        grpc_port=grpc_port,
        http_port=http_port,
        health_port=health_port,
        metrics_port=metrics_port,
        env=full_env,
    )
    return collector.start() if start else collector


# --- the instrumented app ----------------------------------------------------------------------


@dataclass
class App:
    process: Process
    port: int
    service_name: str
    instance_id: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str) -> tuple[int, float]:
        """GET path -> (status, seconds the client waited)."""
        started = time.perf_counter()
        status, _ = http_get(self.url + path)
        return status, time.perf_counter() - started

    def stop(self) -> None:
        self.process.stop()


def start_app(
    workdir: Path,
    collector: Collector,
    *,
    service_name: str,
    instance_id: str,
    export_interval_ms: int = 1000,
    protocol: str = "http/protobuf",
    extra_env: Mapping[str, str] | None = None,
) -> App:
    """tests/e2e/app.py (otelmetrics-instrumented Flask) pushing OTLP to ``collector``.

    ``extra_env`` adds settings (``OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE``, ...).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {
        "PYTHONPATH": str(REPO),
        "OTEL_SERVICE_NAME": service_name,
        "OTEL_RESOURCE_ATTRIBUTES": f"service.instance.id={instance_id}",
        "OTEL_EXPORTER_OTLP_ENDPOINT": (
            f"http://{collector.grpc_endpoint}" if protocol == "grpc" else collector.http_endpoint
        ),
        "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
        "OTEL_METRIC_EXPORT_INTERVAL": str(export_interval_ms),
        # A short per-request timeout, so an export to a dead collector gives up quickly and
        # the next interval's export (cumulative totals) goes out on time.
        "OTEL_EXPORTER_OTLP_TIMEOUT": "2000",
        **(extra_env or {}),
    }
    app = App(
        process=Process(
            name=f"app {service_name}/{instance_id}",
            argv=[sys.executable, str(REPO / "tests" / "e2e" / "app.py"), str(port)],
            env=env,
            cwd=REPO,
            log_path=workdir / f"app-{instance_id}.log",
        ),
        port=port,
        service_name=service_name,
        instance_id=instance_id,
    )
    app.process.start()

    def listening() -> None:
        app.process.assert_running()
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            pass

    poll_until(listening, f"{app.process.name} to listen on {port}", timeout=30)
    return app


# --- the scrape path -----------------------------------------------------------------------------

# prometheus.yml's job that scrapes apps' /metrics, and its target files (targets/otelmetrics*.yml).
APPS_JOB = "otelmetrics"


def set_metrics_token(prometheus: Prometheus, token: str) -> None:
    """Write the bearer token job otelmetrics sends (prometheus.yml's credentials_file,
    ``secrets/metrics-token`` next to the config; read on every scrape)."""
    secrets_dir = prometheus.workdir / "secrets"
    secrets_dir.mkdir(exist_ok=True)
    (secrets_dir / "metrics-token").write_text(token + "\n")
