"""The trading demo (``python -m otelmetrics demo``) as an e2e process, pushing or scraped.

Each demo gets its own service name, its own free ports and random API tokens, and starts
scenarios through its admin endpoint (``POST /api/demo/scenarios/{name}?duration=SECONDS``).
Given a collector, it pushes OTLP to it every second; without one it exports nothing itself and
waits to be scraped at :attr:`Demo.target` ``/metrics`` with the bearer token ``metrics_token``.
"""

from __future__ import annotations

import json
import secrets
import socket
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.harness import REPO, Collector, Process, free_port, poll_until


@dataclass
class Demo:
    process: Process
    service_name: str
    dashboard_port: int
    api_port: int
    read_token: str
    admin_token: str
    metrics_token: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.dashboard_port}"

    @property
    def target(self) -> str:
        """host:port of its /metrics, as a Prometheus target."""
        return f"127.0.0.1:{self.dashboard_port}"

    def request(self, method: str, path: str, token: str | None) -> tuple[int, bytes]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        request = urllib.request.Request(self.url + path, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status), response.read()
        except urllib.error.HTTPError as error:
            with error:
                return int(error.code), error.read()

    def trigger(self, scenario: str, seconds: float) -> dict[str, object]:
        """Start ``scenario`` now for ``seconds`` (its window on the simulation clock)."""
        path = f"/api/demo/scenarios/{scenario}?duration={seconds:g}"
        status, body = self.request("POST", path, self.admin_token)
        assert status == 202, f"{self.service_name}: {scenario} answered {status}: {body[:300]!r}"
        window: dict[str, object] = json.loads(body)
        return window

    def wait_listening(self) -> None:
        def listening() -> None:
            self.process.assert_running()
            for port in (self.dashboard_port, self.api_port):
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    pass

        poll_until(listening, f"{self.process.name} to listen", timeout=60)

    def restart(self) -> None:
        """Stop and start again: same service, ports and tokens; a new instance id."""
        self.process.stop()
        self.process.start()
        self.wait_listening()

    def stop(self) -> None:
        self.process.stop()


def start_demo(
    workdir: Path,
    collector: Collector | None,
    service_name: str,
    *,
    seed: int = 6,
    traffic: bool = True,
    wait: bool = True,
    metrics_token: str | None = None,
    env: dict[str, str] | None = None,
) -> Demo:
    """The demo (with its load generator unless ``traffic`` is off), pushing OTLP to
    ``collector`` every second, or with ``collector=None`` serving only /metrics (for
    ``metrics_token``); ``env`` overrides; ``wait`` for it to listen, or call
    :meth:`Demo.wait_listening`.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    dashboard_port, api_port = free_port(), free_port()
    read_token, admin_token = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    env = {
        **_export_env(collector, metrics_token),
        "PYTHONPATH": str(REPO),
        "OTEL_SERVICE_NAME": service_name,
        "OTELMETRICS_API_TOKEN": read_token,
        "OTELMETRICS_API_ADMIN_TOKEN": admin_token,
        **(env or {}),
    }
    argv = [sys.executable, "-m", "otelmetrics", "demo", "--seed", str(seed)]
    argv += ["--flask-port", str(dashboard_port), "--api-port", str(api_port)]
    if not traffic:
        argv.append("--no-traffic")
    demo = Demo(
        process=Process(
            name=f"demo {service_name}",
            argv=argv,
            env=env,
            cwd=REPO,
            log_path=workdir / f"demo-{service_name}.log",
        ),
        service_name=service_name,
        dashboard_port=dashboard_port,
        api_port=api_port,
        read_token=read_token,
        admin_token=admin_token,
        metrics_token=metrics_token,
    )
    demo.process.start()
    if wait:
        demo.wait_listening()
    return demo


def _export_env(collector: Collector | None, metrics_token: str | None) -> dict[str, str]:
    if collector is None:  # scraped: /metrics only, for the token's bearer
        return {
            "OTEL_METRICS_EXPORTER": "prometheus",
            "OTELMETRICS_METRICS_TOKEN": metrics_token or "",
        }
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.http_endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_METRIC_EXPORT_INTERVAL": "1000",
        "OTEL_EXPORTER_OTLP_TIMEOUT": "2000",
    }
