"""Scrape cost in one process: ms per /metrics at 200, 2,000 and 10,000 route series.

Run:  .venv/bin/python bench/scrape_series.py        (about three minutes; --quick for a smoke run)

One process, process metrics off, so a scrape holds only the HTTP request series: N routes,
each served ``PER_ROUTE`` times through the real recording calls (``HttpServerMetrics.start``
and ``finish``, as the adapters make them), so each route is one series of the duration and of
the response-size histogram (and the request-size one stays empty). Timed, interleaved in
rounds (the start rotated), each ask the median of ``reps`` scrapes:

- **otelmetrics**: ``pipeline.prometheus.render`` over the handle's reader, what ``/metrics``
  runs (the lean tables rendered straight from their series, the SDK's collection for the rest);
- **SDK path**: the way ``/metrics`` rendered before: the reader's collection with a
  ``LeanProducer`` over the same tables (an OpenTelemetry data point per series), then
  ``pipeline.exposition.render``;
- **prometheus_client**: one ``Histogram`` (the duration bounds; labels method, route, status,
  scheme) observed with the same durations per route, then ``generate_latest``, what
  prometheus-flask-exporter's /metrics does.

Also: gzip of the otelmetrics body (levels 1 and 6: time and size), and the memory the kept
label texts take. Check (exit status 1 when it fails): the otelmetrics and the SDK-path texts
hold the same lines (family order aside), and count exactly N x PER_ROUTE requests.
Writes bench/results/scrape_series.json.
"""

from __future__ import annotations

import argparse
import gzip
import random
import sys
import time
from collections.abc import Callable
from typing import Any

import _common
from _common import markdown, median, rotated

SIZES = (200, 2_000, 10_000)
PER_ROUTE = 3
VARIANTS = ("otelmetrics", "SDK path", "prometheus_client")
LABELS = ("http_request_method", "http_route", "http_response_status_code", "url_scheme")


def route(i: int) -> str:
    return f"/api/v1/resource{i}/{{item_id}}"


def requests(n: int) -> list[tuple[str, float, int]]:
    """(route, duration, response size) of every request, the same for each implementation."""
    rnd = random.Random(7)
    return [
        (route(i), rnd.lognormvariate(-4.0, 1.2), rnd.randrange(64, 65536))
        for i in range(n)
        for _ in range(PER_ROUTE)
    ]


def ours(n: int, served: list[tuple[str, float, int]]) -> tuple[Any, Callable[[], bytes]]:
    """A handle that served ``served``, and its /metrics render."""
    from otelmetrics.pipeline import prometheus
    from otelmetrics.pipeline.handle import MetricsHandle
    from otelmetrics.settings import Settings

    settings = Settings.from_env(
        {},
        service_name="bench-scrape",
        exporters=("prometheus",),
        process_metrics=False,
        cardinality_limit=n + 16,
        snapshot_interval=0,
    )
    handle = MetricsHandle(settings)
    http = handle.http
    for path, duration, size in served:
        started = http.start("GET", "https")
        http.finish(started - duration, "GET", path, 200, "https", None, None, size)
    reader = handle.prometheus_reader
    return handle, lambda: prometheus.render(reader, None)[1]


def sdk_path(handle: Any) -> Callable[[], bytes]:
    """The render of /metrics through OpenTelemetry data points (the way before)."""
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope

    from otelmetrics.core.producer import LeanProducer, merge
    from otelmetrics.pipeline.exposition import render

    reader = handle.prometheus_reader
    scope = InstrumentationScope("otelmetrics", "bench")
    producer = LeanProducer(handle._tables, scope=scope, start_ns=handle.start_ns)
    return lambda: render(merge(reader.collect_own(), producer, handle.resource))


def theirs(served: list[tuple[str, float, int]]) -> Callable[[], bytes]:
    from prometheus_client import CollectorRegistry, Histogram, generate_latest

    from otelmetrics.instruments.http import DURATION_BOUNDS

    registry = CollectorRegistry()
    histogram = Histogram(
        "http_server_request_duration_seconds",
        "Duration of HTTP server requests.",
        LABELS,
        buckets=DURATION_BOUNDS,
        registry=registry,
    )
    for path, duration, _ in served:
        histogram.labels("GET", path, "200", "https").observe(duration)
    return lambda: generate_latest(registry)


def timed(render: Callable[[], bytes], reps: int) -> tuple[float, bytes]:
    ms, body = [], b""
    for _ in range(reps):
        t0 = time.perf_counter()
        body = render()
        ms.append((time.perf_counter() - t0) * 1e3)
    return median(ms), body


def gzip_cost(body: bytes) -> dict[str, float]:
    out: dict[str, float] = {}
    for level in (1, 6):
        t0 = time.perf_counter()
        size = len(gzip.compress(body, compresslevel=level))
        out[f"gzip{level}_ms"] = (time.perf_counter() - t0) * 1e3
        out[f"gzip{level}_bytes"] = size
    return out


def kept_bytes(handle: Any) -> int:
    """Memory of the label texts the reader keeps (the strings and their dicts)."""
    kept = handle.prometheus_reader._text._labels
    return sys.getsizeof(kept) + sum(
        sys.getsizeof(texts) + sum(sys.getsizeof(text) for text in texts.values())
        for texts in kept.values()
    )


def counted(body: bytes) -> float:
    return sum(
        float(line.rsplit(b" ", 1)[1])
        for line in body.split(b"\n")
        if line.startswith(b"http_server_request_duration_seconds_count")
    )


def measure(n: int, rounds: int, reps: int) -> dict[str, Any]:
    """One size: every variant timed in interleaved rounds, the checks, gzip and memory."""
    served = requests(n)
    handle, render = ours(n, served)
    renders = {"otelmetrics": render, "SDK path": sdk_path(handle), "prometheus_client": None}
    renders["prometheus_client"] = theirs(served)
    ms: dict[str, list[float]] = {name: [] for name in VARIANTS}
    bodies: dict[str, bytes] = {}
    for turn in range(rounds):
        for name in rotated(VARIANTS, turn):
            took, bodies[name] = timed(renders[name], reps)  # type: ignore[arg-type]
            ms[name].append(took)
    same = sorted(bodies["otelmetrics"].split(b"\n")) == sorted(bodies["SDK path"].split(b"\n"))
    row: dict[str, Any] = {"series": n, "same_lines": same}
    for name in VARIANTS:
        body = bodies[name]
        lines = body.count(b"\n")
        row[name] = {"ms": median(ms[name]), "lines": lines, "bytes": len(body)}
        row[name]["ns_per_line"] = row[name]["ms"] * 1e6 / lines
        row[name]["counted"] = counted(body)
    row["expected"] = n * PER_ROUTE
    row["kept_label_bytes"] = kept_bytes(handle)
    row.update(gzip_cost(bodies["otelmetrics"]))
    handle.shutdown()
    return row


def ok(row: dict[str, Any]) -> bool:
    return bool(row["same_lines"]) and all(
        row[name]["counted"] == row["expected"] for name in VARIANTS
    )


def table(rows: list[dict[str, Any]]) -> str:
    out = []
    for row in rows:
        ours_, sdk, prom = (row[name] for name in VARIANTS)
        out.append(
            [
                f"{row['series']:,}",
                ours_["ms"],
                sdk["ms"],
                sdk["ms"] / ours_["ms"],
                f"{ours_['lines']:,} / {ours_['bytes'] / 1e6:.1f} MB",
                prom["ms"],
                f"{prom['lines']:,} / {prom['bytes'] / 1e6:.1f} MB",
                prom["ns_per_line"] / ours_["ns_per_line"],
                f"{row['gzip1_ms']:,.0f} ms / {row['gzip1_bytes'] / 1e6:.2f} MB",
                f"{row['kept_label_bytes'] / 1e6:.2f} MB",
            ]
        )
    headers = (
        "route series",
        "otelmetrics ms",
        "SDK path ms",
        "speed-up",
        "lines / size",
        "prometheus_client ms",
        "its lines / size",
        "per line vs prometheus_client",
        "gzip -1 of ours",
        "label texts kept",
    )
    return markdown(headers, out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: 2 rounds, 1 rep")
    parser.add_argument("--out", help="the results file (default bench/results/<script>.json)")
    args = parser.parse_args()
    rounds = 2 if args.quick else 5
    rows = []
    for n in SIZES:
        reps = 1 if args.quick else (3 if n >= 10_000 else 9)
        rows.append(measure(n, rounds, reps))
        print(f"{n:,} series done", file=sys.stderr, flush=True)
    env = _common.environment()
    print(_common.describe(env))
    print(table(rows))
    passed = all(ok(row) for row in rows)
    print(f"check (same lines as the SDK path, exact counts): {'pass' if passed else 'FAIL'}")
    data = {"environment": env, "rows": rows, "check": passed}
    out = _common.save("scrape_series", data, args.out)
    print(f"wrote {out}")
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
