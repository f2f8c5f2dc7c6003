"""Real HTTP throughput over loopback: bare vs otelmetrics vs the peers, same wrk load.

Run:  .venv/bin/python bench/http_bench.py        (about 10 minutes; --quick for a smoke run)
Needs wrk (apt-get install wrk) and taskset (util-linux).

Flask on gunicorn (gthread, 1 worker, 4 threads) and FastAPI on uvicorn (uvloop + httptools,
1 process, access log off), serving ``GET /hello`` from ``bench/apps``. Variants: ``bare``;
``floor`` (``apps/floor.py``: a middleware that reads the clock twice and adds the duration to
one total under a lock, the least any request-timing middleware pays; not counted, like bare);
``otelmetrics`` (``otelmetrics.instrument(app)``, configured from the environment: the
embedded /metrics endpoint plus OTLP/HTTP to a local sink every 5 s); ``otel`` (the official
instrumentor, SDK MeterProvider + PeriodicExportingMetricReader -> OTLP/HTTP to the same
sink every 5 s); ``prom`` (prometheus-flask-exporter / prometheus-fastapi-instrumentator
defaults); for FastAPI with native telemetry also ``otelmetrics-native-off`` (see the app).

Method: all variants of a framework run at once on their own ports, servers pinned to CPU 1,
wrk (``-t1 -c4``) and the sink to CPU 0. After a warm-up, ``--rounds`` rounds run every
variant for ``--duration`` s, the start variant rotated each round. Reported: req/s (median),
the ratio to bare (median of the per-round ratios), latency, and the CPU added per request
(1e6/rps - 1e6/rps_bare: the server CPU is saturated).

Checks (exit status 1 when one fails): every response was 2xx (counted by a wrk Lua script);
each otelmetrics server's /metrics, scraped from 127.0.0.1 at the end, counts exactly the
requests wrk wrote (warm-ups and readiness probes included) and no second scope records
``http.server.request.duration``; its last OTLP export, received after the load, agrees.
With ``--candidate DIR`` (a directory holding a patched ``otelmetrics/`` copy) the run also
serves the otelmetrics app on that copy as ``otelmetrics-candidate``: a change is measured
against the committed code and the peers in one run. Writes bench/results/http_bench.json.

Several workers (``--workers 2``): the same load on ``gunicorn -w 2`` (gthread, 4 threads each)
and ``uvicorn --workers 2``, both workers pinned to the server CPU, for ``bare``,
``otelmetrics`` (each worker's counters and histograms in its memory-mapped arena, /metrics
adds up every worker) and ``prom-multiproc``: prometheus-flask-exporter's
``GunicornPrometheusMetrics`` (the master serves the merged metrics on its own port; the
``child_exit`` hook of ``apps/gunicorn_prom_multiproc.py``) and prometheus-fastapi-instrumentator
in its multiprocess mode, each with a fresh, empty ``PROMETHEUS_MULTIPROC_DIR``. The check
scrapes every instrumented server ``SCRAPES`` times: each scrape, whichever worker answers it,
must count exactly the requests sent to ``/hello`` (ours: ``http.server.request.duration``;
the exporter: ``flask_http_request_duration_seconds{path="/hello"}``; the instrumentator:
``http_requests_total{handler="/hello"}``). OTLP goes on per worker and is not checked here
(the sink keeps one body per variant). Writes bench/results/http_bench_workers.json.

Launchers (1 worker): the bare app, unmodified, started as ``otelmetrics-instrument python -m
gunicorn ...`` / ``otelmetrics-instrument python -m uvicorn ...`` (``launcher``: the same
settings as ``otelmetrics``, checked the same way, /metrics and OTLP exact) and as
``opentelemetry-instrument python -m gunicorn ...`` with the OpenTelemetry distro and
configurator (``distro``: ``_common.distro_env``, metrics over OTLP/HTTP to the sink every 5 s,
spans not sampled; checked to have exported). Printed next to ``otelmetrics``: the launcher's
ratio to bare minus the one-call API's.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import _common
from _common import (
    BENCH,
    DISTRO,
    LAUNCHER,
    counted_by_otelmetrics,
    duration_counts,
    markdown,
    median,
    rotated,
)

APPS = BENCH / "apps"
SERVER_CPU, CLIENT_CPU = "1", "0"
EXPORT_MS = 5000
TARGETS = {"fastapi": 0.93, "flask": 0.97}  # issue 17 (FastAPI was 0.90 before it)
MULTIPROC = "prom-multiproc"  # the peers' multiprocess modes (--workers N only)
UNCOUNTED = ("bare", "floor")  # no metrics to check: the reference and the floor
SCRAPES = 4  # scrapes per server in the --workers check: whichever worker answers, exact
CANDIDATE = "otelmetrics-candidate"  # the otelmetrics app on --candidate's package copy
# Counts what wrk wrote and the non-2xx answers; prints one line wrk leaves alone.
WRK_SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) sent = 0; bad = 0 end
function request() sent = sent + 1; return wrk.format() end
function response(status, headers, body)
  if status < 200 or status > 299 then bad = bad + 1 end
end
function done(summary, latency, requests)
  local s, b = 0, 0
  for _, t in ipairs(threads) do s = s + t:get("sent"); b = b + t:get("bad") end
  io.write(string.format("BENCH sent=%d bad=%d\\n", s, b))
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env() -> dict[str, str]:
    """The caller's environment without OTEL_*/OTELMETRICS_*/FASTAPI_OTEL_* settings."""
    prefixes = ("OTEL_", "OTELMETRICS_", "FASTAPI_OTEL_", "BENCH_")
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


def launcher_command(variant: str) -> list[str]:
    """The launcher the variant's server is started under (none: [])."""
    scripts = Path(sys.executable).parent  # the venv's console scripts
    if variant == LAUNCHER:
        return [str(scripts / "otelmetrics-instrument")]
    if variant == DISTRO:
        return [str(scripts / "opentelemetry-instrument")]
    return []


def server_command(framework: str, port: int, workers: int = 1, variant: str = "") -> list[str]:
    py = sys.executable
    pinned = ("taskset", "-c", SERVER_CPU, *launcher_command(variant), py)
    if framework == "flask":
        hooks = ("-c", "gunicorn_prom_multiproc.py") if variant == MULTIPROC else ()
        return [
            *pinned,
            *("-m", "gunicorn", *hooks, "-w", str(workers)),
            *("-k", "gthread", "--threads", "4", "--no-control-socket"),
            *("-b", f"127.0.0.1:{port}", "--log-level", "warning", "flask_app:app"),
        ]
    several = ("--workers", str(workers)) if workers > 1 else ()
    return [
        *pinned,
        *("-m", "uvicorn", "fastapi_app:app", *several),
        *("--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop", "--http", "httptools"),
        *("--no-access-log", "--log-level", "warning"),
    ]


def variant_env(framework: str, variant: str, sink: int, candidate: str) -> dict[str, str]:
    app_variant = "otelmetrics" if variant == CANDIDATE else variant
    path = os.pathsep.join(p for p in (str(APPS), candidate, os.environ.get("PYTHONPATH")) if p)
    env = {**clean_env(), "BENCH_VARIANT": app_variant, "PYTHONPATH": path}
    base = f"http://127.0.0.1:{sink}/{framework}-{variant}"
    if counted_by_otelmetrics(variant):  # launcher: the same settings
        env["OTEL_SERVICE_NAME"] = f"bench-{framework}-{variant}"
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = base  # the embedded default, plus OTLP
        env["OTEL_METRIC_EXPORT_INTERVAL"] = str(EXPORT_MS)
    elif variant == DISTRO:
        env["OTEL_SERVICE_NAME"] = f"bench-{framework}-{variant}"
        env.update(_common.distro_env(base, EXPORT_MS))
    elif variant == "otel":
        env["BENCH_OTLP_ENDPOINT"] = base + "/v1/metrics"
        env["BENCH_EXPORT_MS"] = str(EXPORT_MS)
    return env


class Server:
    """One variant's server process, its port, and the requests it was sent."""

    def __init__(
        self,
        framework: str,
        variant: str,
        sink: int,
        logs: Path,
        candidate: str = "",
        workers: int = 1,
    ) -> None:
        self.framework, self.variant = framework, variant
        self.port = free_port()
        self.log = logs / f"{framework}-{variant}.log"
        env = variant_env(framework, variant, sink, candidate)
        self.metrics_port = self.port  # where its merged metrics are scraped
        if variant == MULTIPROC:
            # a fresh directory, empty before the server starts (as prometheus_client requires)
            multiproc = logs / f"{framework}-multiproc"
            shutil.rmtree(multiproc, ignore_errors=True)
            multiproc.mkdir()
            env["PROMETHEUS_MULTIPROC_DIR"] = str(multiproc)
            if framework == "flask":  # GunicornPrometheusMetrics: the master's own port
                self.metrics_port = free_port()
                env["BENCH_METRICS_PORT"] = str(self.metrics_port)
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                server_command(framework, self.port, workers, variant),
                cwd=APPS,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.sent = 0  # requests written to it, readiness probes included

    @property
    def name(self) -> str:
        return f"{self.framework}/{self.variant}"

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(self.url("/hello"), timeout=5) as response:
                    response.read()
                    self.sent += 1
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not start; log:\n{self.log.read_text()[-3000:]}")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()


def wrk(server: Server, seconds: float, connections: int, script: Path) -> dict[str, Any]:
    cmd = [
        *("taskset", "-c", CLIENT_CPU, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s"),
        *("--latency", "--timeout", "5s", "-s", str(script), server.url("/hello")),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    out = done.stdout
    found = re.search(r"BENCH sent=(\d+) bad=(\d+)", out)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if done.returncode != 0 or not found or not rps:
        raise RuntimeError(f"wrk failed on {server.name}:\n{out}\n{done.stderr}")
    # wrk calls request() once more, in thread 0 before the run, to verify it (nothing is sent)
    sent = int(found.group(1)) - 1
    server.sent += sent
    errors = re.search(r"Socket errors: (.*)", out)
    result = {
        "rps": float(rps.group(1)),
        "sent": sent,
        "non_2xx": int(found.group(2)),
        "socket_errors": errors.group(1) if errors else "",
    }
    for q in ("50", "99"):
        m = re.search(rf"^\s+{q}%\s+([\d.]+)(us|ms|s)$", out, re.M)
        if m:
            result[f"p{q}_ms"] = float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]
    return result


def exported_counts(path: Path) -> dict[str, int]:
    """http.server.request.duration counts per scope in one OTLP export body."""
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
        ExportMetricsServiceRequest,
    )

    request = ExportMetricsServiceRequest.FromString(path.read_bytes())
    counts: dict[str, int] = {}
    for resource in request.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name == "http.server.request.duration":
                    points = getattr(metric, metric.WhichOneof("data")).data_points
                    total = sum(point.count for point in points)
                    counts[scope.scope.name] = counts.get(scope.scope.name, 0) + total
    return counts


def scrape(server: Server) -> dict[str, float]:
    with urllib.request.urlopen(server.url("/metrics"), timeout=10) as response:
        return duration_counts(response.read().decode())


def hello_count(server: Server) -> float | None:
    """Requests to /hello that one scrape of ``server``'s merged metrics counts (None: not
    instrumented)."""
    from prometheus_client.parser import text_string_to_metric_families

    if server.variant in UNCOUNTED:
        return None
    url = f"http://127.0.0.1:{server.metrics_port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    if counted_by_otelmetrics(server.variant):
        return duration_counts(text).get("otelmetrics", 0.0)
    # the peers: prometheus-flask-exporter / prometheus-fastapi-instrumentator defaults
    name, label = (
        ("flask_http_request_duration_seconds_count", "path")
        if server.framework == "flask"
        else ("http_requests_total", "handler")
    )
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and sample.labels.get(label) == "/hello"
    )


def check_workers(servers: list[Server]) -> tuple[list[str], dict[str, Any]]:
    """Scrape each instrumented server ``SCRAPES`` times: each must count what was sent."""
    problems: list[str] = []
    checks: dict[str, Any] = {}
    for server in servers:
        try:
            counts = [hello_count(server) for _ in range(SCRAPES)]
        except OSError as exc:
            problems.append(f"{server.name}: scrape failed: {exc}")
            checks[server.variant] = {"sent": server.sent, "counts": [], "exact": False}
            continue
        if counts[0] is None:
            continue
        exact = all(count == server.sent for count in counts)
        checks[server.variant] = {"sent": server.sent, "counts": counts, "exact": exact}
        line = (
            f"{server.name}: {SCRAPES} scrapes count "
            + ", ".join(f"{c:.0f}" for c in counts if c is not None)
            + f"; {server.sent} were sent"
        )
        if exact:
            print(f"check: {line} (exact: PASS)")
        else:
            problems.append("COUNT MISMATCH (FAIL): " + line)
    return problems, checks


def check_counts(servers: list[Server], dump: Path, load_end: float) -> list[str]:
    """Compare each otelmetrics server's /metrics and newest OTLP export with what was sent."""
    problems = []
    ours = [s for s in servers if counted_by_otelmetrics(s.variant)]
    for server in ours:
        counts = scrape(server)
        got = counts.pop("otelmetrics", 0.0)
        line = f"{server.name}: /metrics counts {got:.0f} requests; {server.sent} were sent"
        if got != server.sent:
            problems.append("COUNT MISMATCH: " + line)
        else:
            print(f"check: {line} (exact)")
        for scope, count in counts.items():
            problems.append(
                f"DOUBLE COUNT: {server.name}: scope {scope!r} also records "
                f"http.server.request.duration ({count:.0f} requests)"
            )
    deadline = time.time() + EXPORT_MS / 1000 * 2 + 5
    for server in ours:
        body = dump / f"{server.framework}-{server.variant}_v1_metrics.pb"
        while time.time() < deadline and not (body.exists() and body.stat().st_mtime > load_end):
            time.sleep(0.2)
        if not body.exists() or body.stat().st_mtime <= load_end:
            problems.append(f"{server.name}: no OTLP export arrived after the load")
            continue
        exported = exported_counts(body).get("otelmetrics", 0)
        line = f"{server.name}: last OTLP export counts {exported}; {server.sent} were sent"
        if exported != server.sent:
            problems.append("OTLP COUNT MISMATCH: " + line)
        else:
            print(f"check: {line} (exact)")
    return problems


def bench_framework(framework: str, args: argparse.Namespace, sink: int, dump: Path) -> Any:
    sys.path.insert(0, str(APPS))
    module = __import__(f"{framework}_app")
    offered = module.VARIANTS if args.workers == 1 else module.MULTIWORKER_VARIANTS
    variants = [v for v in offered if not args.variants or v in args.variants]
    logs = Path(tempfile.mkdtemp(prefix=f"bench-{framework}-"))
    servers = [Server(framework, v, sink, logs, workers=args.workers) for v in variants]
    if args.candidate:
        variants.append(CANDIDATE)
        servers.append(Server(framework, CANDIDATE, sink, logs, args.candidate, args.workers))
    script = logs / "count.lua"
    script.write_text(WRK_SCRIPT)
    runs: dict[str, list[dict[str, Any]]] = {v: [] for v in variants}
    problems: list[str] = []
    try:
        for server in servers:
            server.wait_ready()
        for server in servers:
            warm = wrk(server, args.warmup, args.connections, script)
            problems += _response_problems(server, warm)
        for turn in range(args.rounds):
            for server in rotated(servers, turn):
                result = wrk(server, args.duration, args.connections, script)
                runs[server.variant].append(result)
                problems += _response_problems(server, result)
            print(
                f"{framework} round {turn}: "
                + " ".join(f"{v}={runs[v][-1]['rps']:.0f}" for v in variants),
                flush=True,
            )
        load_end = time.time()
        checks: dict[str, Any] = {}
        if args.workers == 1:
            problems += check_counts(servers, dump, load_end)
        else:
            found, checks = check_workers(servers)
            problems += found
        exports = {
            s.variant: _read_int(dump / f"{framework}-{s.variant}_v1_metrics.count")
            for s in servers
        }
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(logs, ignore_errors=True)
    print(f"{framework}: OTLP exports received per variant: {exports}")
    if DISTRO in exports and not exports[DISTRO]:
        problems.append(f"{framework}/{DISTRO}: no OTLP export arrived (not instrumented?)")
    return runs, problems, exports, checks


def _response_problems(server: Server, result: dict[str, Any]) -> list[str]:
    out = []
    if result["non_2xx"]:
        out.append(f"{server.name}: {result['non_2xx']} responses were not 2xx")
    if result["socket_errors"]:
        out.append(f"{server.name}: socket errors {result['socket_errors']}")
    return out


def _read_int(path: Path) -> int:
    return int(path.read_text()) if path.exists() else 0


def summarize(framework: str, runs: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    bare = runs["bare"]
    rows = []
    for variant, results in runs.items():
        rps = [r["rps"] for r in results]
        pairs = list(zip(results, bare, strict=True))
        rows.append(
            {
                "framework": framework,
                "variant": variant,
                "rps_median": median(rps),
                "rps_min": min(rps),
                "rps_max": max(rps),
                "ratio_to_bare": median([r["rps"] / b["rps"] for r, b in pairs]),
                "ratios": [round(r["rps"] / b["rps"], 3) for r, b in pairs],
                "p50_ms": median([r.get("p50_ms", 0.0) for r in results]),
                "p99_ms": median([r.get("p99_ms", 0.0) for r in results]),
                "added_us": median([1e6 / r["rps"] - 1e6 / b["rps"] for r, b in pairs]),
            }
        )
    return rows


def verdicts(rows: list[dict[str, Any]]) -> dict[str, bool]:
    out = {}
    for framework, target in TARGETS.items():
        ratio = {r["variant"]: r["ratio_to_bare"] for r in rows if r["framework"] == framework}
        if "floor" in ratio:  # what any timing middleware pays: not a target, the bar under it
            print(f"floor: {framework} floor {ratio['floor']:.3f}x bare (target {target})")
        for ours in ("otelmetrics", CANDIDATE, LAUNCHER):
            if ours not in ratio:
                continue
            name = f"{framework} {ours}"
            out[f"{name} >= {target}x bare"] = ok = ratio[ours] >= target
            print(f"target: {name} {ratio[ours]:.3f}x bare (>= {target}) -> {_verdict(ok)}")
            for peer in ("otel", "prom", MULTIPROC, DISTRO):
                if peer in ratio:
                    out[f"{name} ahead of {peer}"] = ok = ratio[ours] > ratio[peer]
                    print(
                        f"target: {name} {ratio[ours]:.3f}x vs {peer} {ratio[peer]:.3f}x "
                        f"-> {'ahead' if ok else 'NOT AHEAD'}"
                    )
    return out


def _verdict(ok: bool) -> str:
    return _common.verdict(ok)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frameworks", default="flask,fastapi")
    parser.add_argument(
        "--variants",
        default="",
        help="comma list (bare, floor, otelmetrics, otel, prom, launcher, distro, ...); "
        "default: all the apps offer, bare first",
    )
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of wrk per variant")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server worker processes; above 1: gunicorn -w N / uvicorn --workers N with the "
        f"variants bare, otelmetrics and {MULTIPROC} (the peers' multiprocess modes)",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 rounds of 2 s")
    parser.add_argument(
        "--candidate",
        default="",
        help="a directory holding a patched otelmetrics/ package: adds the variant "
        f"{CANDIDATE} (the otelmetrics app importing that copy) to the same run",
    )
    parser.add_argument(
        "--out",
        help="JSON results path (default bench/results/http_bench.json, "
        "http_bench_workers.json with --workers N)",
    )
    args = parser.parse_args()
    args.variants = [v for v in args.variants.split(",") if v]
    args.candidate = os.path.abspath(args.candidate) if args.candidate else ""
    if args.variants and args.variants[0] != "bare":
        parser.error("--variants must start with bare (the reference)")
    if args.quick:
        args.rounds, args.duration, args.warmup = 2, 2, 1
    for tool in ("wrk", "taskset"):
        if not shutil.which(tool):
            print(f"{tool} not found: apt-get install {tool}", file=sys.stderr)
            return 2
    env_info = _common.environment()
    print(f"# http_bench.py — {_common.describe(env_info)}; {args.workers} worker(s)\n")
    dump = Path(tempfile.mkdtemp(prefix="bench-otlp-"))
    sink_port = free_port()
    sink = subprocess.Popen(
        [
            *("taskset", "-c", CLIENT_CPU, sys.executable, str(BENCH / "otlp_sink.py")),
            *("--port", str(sink_port), "--dump", str(dump)),
        ]
    )
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    raw: dict[str, Any] = {}
    try:
        for framework in args.frameworks.split(","):
            runs, found, exports, checks = bench_framework(framework, args, sink_port, dump)
            raw[framework] = {"runs": runs, "otlp_exports": exports, "count_checks": checks}
            rows += summarize(framework, runs)
            problems += found
    except RuntimeError as exc:
        problems.append(str(exc))
    finally:
        sink.terminate()
        sink.wait(10)
        shutil.rmtree(dump, ignore_errors=True)
    if rows:
        report(rows, args)
    targets = verdicts(rows)
    data = {"environment": env_info, "args": vars(args), "summary": rows, "raw": raw}
    data["launcher_minus_api_ratio"] = _common.launcher_vs_api(rows, "ratio_to_bare", "x bare")
    data["launcher_minus_api_us"] = _common.launcher_vs_api(rows, "added_us", "added µs/req")
    name = "http_bench" if args.workers == 1 else "http_bench_workers"
    out = _common.save(name, {**data, "targets": targets, "problems": problems}, args.out)
    print(f"\nwrote {out}")
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


def report(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    headers = [
        "framework",
        "variant",
        "req/s",
        "min-max",
        "ratio to bare",
        "per-round ratios",
        "p50 ms",
        "p99 ms",
        "added µs/req",
    ]
    table = [
        (
            r["framework"],
            r["variant"],
            r["rps_median"],
            f"{r['rps_min']:.0f}-{r['rps_max']:.0f}",
            round(r["ratio_to_bare"], 3),
            " ".join(f"{x:.2f}" for x in r["ratios"]),
            r["p50_ms"],
            r["p99_ms"],
            r["added_us"],
        )
        for r in rows
    ]
    servers = "1 worker" if args.workers == 1 else f"{args.workers} workers"
    print(
        f"\n## HTTP over loopback, {servers} (wrk -t1 -c{args.connections}, {args.rounds} "
        f"interleaved rounds x {args.duration} s; medians)\n"
    )
    print(markdown(headers, table) + "\n")


if __name__ == "__main__":
    sys.exit(main())
