"""Micro-benchmarks: the cost of recording one request's metrics, and of one collection.

Run:  .venv/bin/python bench/micro.py            (about a minute; --quick for a smoke run)

Part 1, recording (ns per call): otelmetrics' hot path (``HttpServerMetrics.start()`` +
``finish()`` for one request, over a realistic mix of 4-5 attribute series), next to the OTel
SDK's ``Histogram.record`` / ``UpDownCounter.add``, prometheus_client's ``observe`` and the
CPython floor primitives. timeit with gc enabled, a warm-up pass, then ``--repeats`` rounds in
which every benchmark runs once, in a rotated order (so machine drift hits all alike); the
median of the rounds is reported, net of the loop + argument fetch, with the ratio
SDK ``Histogram.record`` (3 attributes) / the row.

Part 2, collection (ms per collection, µs per series) at 100 and 1000 series: otelmetrics'
producer -> ``MetricsData`` (what an SDK reader gets), its OTLP protobuf encoding and its
Prometheus text; the same for an SDK histogram, and prometheus_client's ``generate_latest``.

To measure a patched copy of the package, run ``PYTHONPATH=DIR .venv/bin/python
bench/micro.py`` (DIR holds the ``otelmetrics/`` copy): the ratios are within one run.

Prints Markdown tables and writes bench/results/micro.json. Exit status 1 when a benchmark
fails (a target missed is reported, not failed: this is a noisy shared machine).
"""

from __future__ import annotations

import argparse
import bisect
import gc
import itertools
import random
import sys
import threading
import time
import timeit
from collections.abc import Callable
from typing import Any

import _common
from _common import markdown, median, rotated

SEMCONV_BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]
ATTRS3 = {"http.request.method": "GET", "http.route": "/hello", "http.response.status_code": 200}
ACTIVE_ATTRS = {"http.request.method": "GET", "url.scheme": "http"}
# One request's arguments to finish(): method, route, status, scheme, error.type, request and
# response body sizes. 4 attributes each (5 for the 5xx, whose error.type is the status).
REQUEST_MIX = [
    ("GET", "/items/{item_id}", 200, "https", None, None, 512),
    ("GET", "/items/{item_id}", 200, "https", None, None, 2048),
    ("GET", "/items", 200, "https", None, None, 16384),
    ("POST", "/orders", 201, "https", None, 256, 128),
    ("GET", "/items/{item_id}", 404, "https", None, None, 22),
    ("GET", "/healthz", 200, "http", None, None, 2),
    ("PUT", "/orders/{order_id}", 200, "https", None, 300, 64),
    ("POST", "/orders", 500, "https", None, 256, 21),
]
REFERENCE = "sdk.Histogram.record(3 attrs)"
OURS = "otelmetrics: start()+finish() one request, mix"
SAME_WORK = "sdk: same work as one otelmetrics request, mix"
STORE_ONE = "otelmetrics store: one histogram measurement (lookup+lock+add)"


class MiniHist:
    """The floor: a thread-safe labelled histogram in the fewest Python operations."""

    __slots__ = ("bounds", "series", "lock")

    def __init__(self, bounds: list[float]) -> None:
        self.bounds = bounds
        self.series: dict[Any, list[float]] = {}
        self.lock = threading.Lock()

    def record(self, value: float, key: Any, _bisect: Any = bisect.bisect_left) -> None:
        s = self.series.get(key)
        if s is None:
            s = self.series.setdefault(key, [0] * (len(self.bounds) + 3))
        i = _bisect(self.bounds, value)
        with self.lock:
            s[i] += 1
            s[-2] += value
            s[-1] += 1


def _sdk_meter() -> Any:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    return provider, provider.get_meter("bench")


def _sdk_request_args() -> list[tuple[dict[str, Any], dict[str, Any], int]]:
    """The same mix as SDK attribute dicts (what an SDK-based middleware builds per request)."""
    out = []
    for method, route, status, scheme, _, _, size in REQUEST_MIX:
        attrs: dict[str, Any] = {
            "http.request.method": method,
            "http.route": route,
            "http.response.status_code": status,
            "url.scheme": scheme,
        }
        if status >= 500:
            attrs["error.type"] = str(status)
        out.append((attrs, {"http.request.method": method, "url.scheme": scheme}, size))
    return out


def build_env() -> dict[str, Any]:
    import prometheus_client as pc
    from opentelemetry import context, trace

    import otelmetrics
    from otelmetrics.instruments.http import HttpServerMetrics, current_trace

    rnd = random.Random(42)
    values = [rnd.lognormvariate(-4.0, 0.8) for _ in range(4096)]  # ~18 ms median, seconds
    env: dict[str, Any] = {
        "nxt": itertools.cycle(values).__next__,
        "nxt_req": itertools.cycle(REQUEST_MIX).__next__,
        "nxt_sdk": itertools.cycle(_sdk_request_args()).__next__,
        "ATTRS": dict(ATTRS3),
        "ACTIVE": dict(ACTIVE_ATTRS),
        "perf_counter": time.perf_counter,
        "bisect_left": bisect.bisect_left,
        "bounds": SEMCONV_BOUNDS,
        "lock": threading.Lock(),
        "d": {k[:5]: k for k in REQUEST_MIX},
        "key": REQUEST_MIX[0][:5],
        "mini": MiniHist(SEMCONV_BOUNDS),
        "current_trace": current_trace,
    }
    # otelmetrics: the store the adapters record into, as configure() builds it
    handle = otelmetrics.configure(
        exporters=("none",), process_metrics=False, set_global=False, cardinality_limit=2000
    )
    env["http"] = handle.http
    env["table"] = handle.http.requests
    env["http_exp"] = HttpServerMetrics(limit=2000, layout="exponential")
    env["started"] = time.perf_counter()
    # the OTel SDK, instruments as an SDK-based middleware would create them
    provider, meter = _sdk_meter()
    env["sdk_hist"] = meter.create_histogram(
        "http.server.request.duration", unit="s", explicit_bucket_boundaries_advisory=SEMCONV_BOUNDS
    )
    env["sdk_size"] = meter.create_histogram("http.server.response.body.size", unit="By")
    env["sdk_active"] = meter.create_up_down_counter("http.server.active_requests")
    # prometheus_client
    registry = pc.CollectorRegistry()
    env["prom_hist"] = pc.Histogram(
        "req_duration_seconds", "d", ["method", "route", "status"], registry=registry
    )
    env["prom_child"] = env["prom_hist"].labels("GET", "/hello", "200")
    # a sampled span in context, for the exemplar benchmark (attached around it only)
    span_context = trace.SpanContext(
        0x1234, 0x5678, is_remote=False, trace_flags=trace.TraceFlags(trace.TraceFlags.SAMPLED)
    )
    env["sampled_context"] = trace.set_span_in_context(trace.NonRecordingSpan(span_context))
    env["_attach"] = context.attach
    env["_detach"] = context.detach
    env["_keep"] = (handle, provider, registry)
    return env


# name, statement, calls per timing, the baseline row subtracted from it (loop + arguments)
RECORD_BENCHES: list[tuple[str, str, int, str | None]] = [
    ("loop: nxt()", "nxt()", 1_000_000, None),
    ("loop: k = nxt_req()", "k = nxt_req()", 1_000_000, None),
    ("loop: k = nxt_sdk()", "k = nxt_sdk()", 1_000_000, None),
    ("floor: 2x perf_counter()", "perf_counter(); perf_counter()", 1_000_000, None),
    ("floor: dict.get(5-tuple key)", "d.get(key)", 2_000_000, None),
    ("floor: with lock: pass", "with lock: pass", 1_000_000, None),
    ("floor: bisect_left(14 bounds)", "bisect_left(bounds, nxt())", 1_000_000, "loop: nxt()"),
    ("floor: MiniHist.record (locked)", "mini.record(nxt(), key)", 1_000_000, "loop: nxt()"),
    (
        "floor: 2x perf_counter + MiniHist.record",
        "t0 = perf_counter(); mini.record(perf_counter() - t0, key)",
        500_000,
        None,
    ),
    (
        OURS,
        "k = nxt_req(); http.finish(http.start(k[0], k[3]), *k)",
        200_000,
        "loop: k = nxt_req()",
    ),
    (
        "otelmetrics: start()+finish(), one series",
        "http.finish(http.start('GET', 'http'), 'GET', '/hello', 200, 'http', None, None, 5)",
        200_000,
        None,
    ),
    ("otelmetrics: start() only", "http.start('GET', 'https')", 500_000, None),
    (
        STORE_ONE,
        "with table.lock:\n    table.get(key)[0].add(nxt())",
        500_000,
        "loop: nxt()",
    ),
    (
        "otelmetrics: finish() only (the record), mix",
        "k = nxt_req(); http.finish(started, *k)",
        200_000,
        "loop: k = nxt_req()",
    ),
    (
        "otelmetrics: start()+finish(), exponential layout, mix",
        "k = nxt_req(); http_exp.finish(http_exp.start(k[0], k[3]), *k)",
        100_000,
        "loop: k = nxt_req()",
    ),
    (
        "otelmetrics: start()+finish()+exemplar, sampled span, mix",
        "k = nxt_req(); s = http.start(k[0], k[3]); http.finish(s, *k, current_trace())",
        100_000,
        "loop: k = nxt_req()",
    ),
    (REFERENCE, "sdk_hist.record(nxt(), ATTRS)", 20_000, "loop: nxt()"),
    (
        "sdk.UpDownCounter.add(+1)+add(-1) (2 attrs)",
        "sdk_active.add(1, ACTIVE); sdk_active.add(-1, ACTIVE)",
        10_000,
        None,
    ),
    (
        SAME_WORK,
        "k = nxt_sdk(); sdk_active.add(1, k[1]); sdk_hist.record(0.01, k[0]); "
        "sdk_size.record(k[2], k[0]); sdk_active.add(-1, k[1])",
        5_000,
        "loop: k = nxt_sdk()",
    ),
    (
        "prometheus_client: Histogram.labels(3).observe",
        "prom_hist.labels('GET', '/hello', '200').observe(nxt())",
        100_000,
        "loop: nxt()",
    ),
    (
        "prometheus_client: bound child .observe",
        "prom_child.observe(nxt())",
        200_000,
        "loop: nxt()",
    ),
]
NEEDS_SAMPLED_SPAN = "otelmetrics: start()+finish()+exemplar, sampled span, mix"


def _timer(stmt: str, env: dict[str, Any]) -> timeit.Timer:
    return timeit.Timer(stmt, setup="gc.enable()", globals={**env, "gc": gc})


def bench_recording(env: dict[str, Any], repeats: int, scale: float) -> list[dict[str, Any]]:
    timers = {name: _timer(stmt, env) for name, stmt, _, _ in RECORD_BENCHES}
    numbers = {name: max(100, int(n * scale)) for name, _, n, _ in RECORD_BENCHES}
    samples: dict[str, list[float]] = {name: [] for name in timers}

    def once(name: str, number: int) -> float:
        token = env["_attach"](env["sampled_context"]) if name == NEEDS_SAMPLED_SPAN else None
        try:
            return timers[name].timeit(number) / number * 1e9
        finally:
            if token is not None:
                env["_detach"](token)

    for name in timers:  # warm-up
        once(name, max(100, numbers[name] // 10))
    names = list(timers)
    for turn in range(repeats):
        for name in rotated(names, turn * 3):
            samples[name].append(once(name, numbers[name]))
    rows = []
    medians = {name: median(xs) for name, xs in samples.items()}
    for name, stmt, _, base in RECORD_BENCHES:
        net = medians[name] - (medians[base] if base else 0.0)
        rows.append(
            {
                "name": name,
                "stmt": stmt,
                "median_ns": medians[name],
                "min_ns": min(samples[name]),
                "max_ns": max(samples[name]),
                "net_ns": net,
                "samples_ns": samples[name],
            }
        )
    reference = next(r["net_ns"] for r in rows if r["name"] == REFERENCE)
    for row in rows:
        row["sdk_over_row"] = reference / row["net_ns"] if row["net_ns"] > 0 else None
    return rows


def _fill_otelmetrics(n: int) -> tuple[Any, Any]:
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    import otelmetrics

    reader = InMemoryMetricReader()
    handle = otelmetrics.configure(
        exporters=("prometheus",),
        process_metrics=False,
        set_global=False,
        cardinality_limit=n + 10,
        metric_readers=[reader],
    )
    http, value = handle.http, iter(itertools.cycle([0.003, 0.02, 0.2, 1.5]))
    for i in range(n):
        for _ in range(4):
            started = http.start("GET", "http") - next(value)
            http.finish(started, "GET", f"/r{i}", 200, "http", None, None, None)
    return handle, reader


def _fill_sdk(n: int) -> tuple[Any, Any]:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    hist = provider.get_meter("bench").create_histogram(
        "http.server.request.duration", unit="s", explicit_bucket_boundaries_advisory=SEMCONV_BOUNDS
    )
    for i in range(n):
        attrs = {"http.request.method": "GET", "http.route": f"/r{i}", "url.scheme": "http"}
        for value in (0.003, 0.02, 0.2, 1.5):
            hist.record(value, {**attrs, "http.response.status_code": 200})
    return provider, reader


def _fill_prometheus_client(n: int) -> Any:
    import prometheus_client as pc

    registry = pc.CollectorRegistry()
    hist = pc.Histogram(
        "http_server_request_duration_seconds",
        "d",
        ["http_request_method", "http_route", "http_response_status_code", "url_scheme"],
        registry=registry,
        buckets=SEMCONV_BOUNDS,
    )
    for i in range(n):
        child = hist.labels("GET", f"/r{i}", "200", "http")
        for value in (0.003, 0.02, 0.2, 1.5):
            child.observe(value)
    return registry


def bench_collection(sizes: list[int], repeats: int) -> list[dict[str, Any]]:
    from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
    from prometheus_client import generate_latest

    from otelmetrics.pipeline import prometheus

    def otlp_bytes(reader: Any) -> bytes:
        return bytes(encode_metrics(reader.get_metrics_data()).SerializeToString())

    rows = []
    for n in sizes:
        handle, om_reader = _fill_otelmetrics(n)
        provider, sdk_reader = _fill_sdk(n)
        registry = _fill_prometheus_client(n)
        ops: dict[tuple[str, str], Callable[[], Any]] = {
            ("otelmetrics", "collect -> MetricsData"): om_reader.get_metrics_data,
            ("otelmetrics", "collect + OTLP encode"): lambda r=om_reader: otlp_bytes(r),
            ("otelmetrics", "Prometheus text (/metrics render)"): (
                lambda h=handle: prometheus.render(h.prometheus_reader, None)[1]
            ),
            ("OTel SDK histogram", "collect -> MetricsData"): sdk_reader.get_metrics_data,
            ("OTel SDK histogram", "collect + OTLP encode"): lambda r=sdk_reader: otlp_bytes(r),
            ("prometheus_client", "Prometheus text (generate_latest)"): (
                lambda reg=registry: generate_latest(reg)
            ),
        }
        sizes_out = {key: len(out) for key, op in ops.items() if isinstance(out := op(), bytes)}
        times: dict[tuple[str, str], list[float]] = {key: [] for key in ops}
        keys = list(ops)
        for turn in range(repeats):
            for key in rotated(keys, turn):
                t0 = time.perf_counter()
                ops[key]()
                times[key].append((time.perf_counter() - t0) * 1e3)
        for (impl, op), ms in times.items():
            rows.append(
                {
                    "impl": impl,
                    "series": n,
                    "op": op,
                    "ms_median": median(ms),
                    "us_per_series": median(ms) * 1e3 / n,
                    "bytes": sizes_out.get((impl, op)),
                    "samples_ms": ms,
                }
            )
        handle.shutdown(1.0)
        provider.shutdown()
    return rows


def print_recording(rows: list[dict[str, Any]]) -> tuple[bool, bool]:
    table = [
        (
            r["name"],
            r["median_ns"],
            f"{r['min_ns']:.0f}-{r['max_ns']:.0f}",
            r["net_ns"],
            f"{r['sdk_over_row']:.1f}x" if r["sdk_over_row"] else "",
        )
        for r in rows
    ]
    headers = ["benchmark", "median ns", "min-max ns", "net ns", "SDK record / row"]
    print(markdown(headers, table))
    by_name = {r["name"]: r for r in rows}
    ours = by_name[OURS]
    fast, ratio = ours["net_ns"] <= 2000, ours["sdk_over_row"] or 0.0
    same_work = by_name[SAME_WORK]["net_ns"] / ours["net_ns"]
    one = by_name[STORE_ONE]["sdk_over_row"] or 0.0
    print(
        f"\ntarget: one request recorded (start+finish) <= 2 us: {ours['net_ns'] / 1e3:.2f} us"
        f" -> {_common.verdict(fast)}"
    )
    print(
        f"target: one request recorded >= 8x faster than one {REFERENCE}: {ratio:.1f}x"
        f" -> {_common.verdict(ratio >= 8)}"
    )
    print(f"  like for like, the SDK recording the same request's metrics: {same_work:.1f}x")
    print(f"  one histogram measurement, lean store vs SDK record: {one:.1f}x")
    return fast, ratio >= 8


def print_collection(rows: list[dict[str, Any]]) -> None:
    table = [
        (r["impl"], r["series"], r["op"], r["ms_median"], r["us_per_series"], r["bytes"] or "")
        for r in rows
    ]
    print(markdown(["impl", "series", "operation", "ms", "µs/series", "bytes"], table))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--sizes", default="100,1000", help="series counts for the collection")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1/20 of the calls")
    parser.add_argument("--no-collection", action="store_true")
    parser.add_argument("--out", help="JSON results path (default bench/results/micro.json)")
    args = parser.parse_args()
    env_info = _common.environment()
    print(f"# micro.py — {_common.describe(env_info)}\n")
    env = build_env()
    scale = 0.05 if args.quick else 1.0
    repeats = 3 if args.quick else args.repeats
    recording = bench_recording(env, repeats, scale)
    print(f"## Recording one measurement (ns per call, median of {repeats} interleaved rounds)\n")
    fast, ratio_ok = print_recording(recording)
    collection: list[dict[str, Any]] = []
    if not args.no_collection:
        sizes = [int(s) for s in args.sizes.split(",")]
        collection = bench_collection(sizes, 3 if args.quick else 5)
        print("\n## Collection (one collection; median of interleaved rounds)\n")
        print_collection(collection)
    env["_keep"][0].shutdown(1.0)
    out = _common.save(
        "micro",
        {
            "environment": env_info,
            "args": vars(args),
            "recording": recording,
            "collection": collection,
            "targets": {"le_2us": fast, "ge_8x_sdk": ratio_ok},
        },
        args.out,
    )
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
