"""Shared helpers of the bench scripts: medians, Markdown tables, the environment, scrapes.

Not a benchmark itself; ``micro.py``, ``inproc.py`` and ``http_bench.py`` import it.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
PACKAGES = (
    "otelmetrics",
    "opentelemetry-sdk",
    "opentelemetry-instrumentation-flask",
    "opentelemetry-instrumentation-fastapi",
    "opentelemetry-instrumentation",
    "opentelemetry-distro",
    "prometheus-client",
    "prometheus-flask-exporter",
    "prometheus-fastapi-instrumentator",
    "flask",
    "fastapi",
    "starlette",
    "gunicorn",
    "uvicorn",
    "uvloop",
)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def rotated(items: Sequence[Any], turn: int) -> list[Any]:
    """``items`` starting at position ``turn`` (so each round starts with another one)."""
    k = turn % len(items)
    return [*items[k:], *items[:k]]


def markdown(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table; numbers right-aligned, text left-aligned."""
    cells = [[_cell(v) for v in row] for row in rows]
    numeric = [
        all(isinstance(row[i], int | float) for row in rows) if rows else False
        for i in range(len(headers))
    ]
    lines = ["| " + " | ".join(headers) + " |"]
    lines.append("|" + "|".join("---:" if n else "---" for n in numeric) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:.2f}" if abs(value) >= 1 else f"{value:.3f}"
    return str(value)


def environment() -> dict[str, Any]:
    """Date, interpreter, CPU count and the versions of the packages compared."""
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "versions": versions,
    }


def describe(env: dict[str, Any]) -> str:
    pkgs = ", ".join(f"{k} {v}" for k, v in env["versions"].items() if v)
    return f"{env['date']}; Python {env['python']}; {env['cpus']} CPUs; {pkgs}"


def save(name: str, data: dict[str, Any], path: str | None = None) -> Path:
    """Write ``data`` as JSON to ``path`` (default ``bench/results/<name>.json``)."""
    out = Path(path) if path else RESULTS / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=1, default=str) + "\n")
    return out


def verdict(ok: bool) -> str:
    return "MET" if ok else "MISSED"


DURATION_METRIC = "http_server_request_duration_seconds"


def duration_counts(text: str) -> dict[str, float]:
    """Requests counted by ``http.server.request.duration`` in Prometheus text, as
    ``{"otelmetrics": total}``.

    /metrics carries no scope label (as Prometheus's OTLP receiver stores none), so a second
    scope recording the same metric (a framework's native instrumentation) shows as a total
    above the requests served; the OTLP export still tells the scopes apart.
    """
    from prometheus_client.parser import text_string_to_metric_families

    counts: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name != DURATION_METRIC:
            continue
        for sample in family.samples:
            if sample.name == DURATION_METRIC + "_count":
                counts["otelmetrics"] = counts.get("otelmetrics", 0.0) + sample.value
    return counts


# -- launchers: the bare app, unmodified, run under one --------------------------------------

LAUNCHER = "launcher"  # otelmetrics-instrument (in-process: patches.boot_in_process())
DISTRO = "distro"  # opentelemetry-instrument with the OpenTelemetry distro


def counted_by_otelmetrics(variant: str) -> bool:
    """Whether the variant's app serves otelmetrics' /metrics (and must count exactly)."""
    return "otelmetrics" in variant or variant == LAUNCHER


def distro_env(endpoint: str, interval_ms: int) -> dict[str, str]:
    """What ``opentelemetry-instrument`` is run with for the ``distro`` variant: the
    OpenTelemetry distro and configurator named (otelmetrics' own entry points are installed
    too), metrics over OTLP/HTTP to ``endpoint`` every ``interval_ms``; traces and logs not
    exported and spans not sampled, so the row is the metrics' cost (the instrumentors still
    start a non-recording span per request, as the ``otel`` variant's do)."""
    return {
        "OTEL_PYTHON_DISTRO": "distro",
        "OTEL_PYTHON_CONFIGURATOR": "configurator",
        "OTEL_METRICS_EXPORTER": "otlp",
        "OTEL_TRACES_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_TRACES_SAMPLER": "always_off",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_METRIC_EXPORT_INTERVAL": str(interval_ms),
    }


def launcher_vs_api(rows: Sequence[dict[str, Any]], key: str, unit: str) -> dict[str, float]:
    """Print and return, per framework, the launcher's ``key`` minus the one-call API's."""
    out = {}
    for framework in dict.fromkeys(r["framework"] for r in rows):
        value = {r["variant"]: r[key] for r in rows if r["framework"] == framework}
        if LAUNCHER in value and "otelmetrics" in value:
            out[framework] = diff = value[LAUNCHER] - value["otelmetrics"]
            print(
                f"{framework}: launcher {value[LAUNCHER]:.3f} vs otelmetrics.instrument(app) "
                f"{value['otelmetrics']:.3f} {unit}: launcher - one-call API = {diff:+.3f}"
            )
    return out
