"""In-process cost per request: the bench apps called directly as WSGI / ASGI callables.

Run:  .venv/bin/python bench/inproc.py            (about three minutes; --quick for a smoke run)

No sockets and no server. Every variant of ``bench/apps`` runs in its own worker process
(global state such as the OpenTelemetry MeterProvider stays apart, as it would in production),
all pinned to one CPU; the parent asks them in turn to serve ``--n`` calls of ``GET /hello``,
round-robin over ``--rounds`` rounds with the start variant rotated, so only one works at a
time and drift hits all alike. This isolates the CPU the instrumentation adds to a request
from HTTP-server and loopback noise. Reported per variant: µs per request (median of rounds),
the ratio to bare and the added µs per request (medians of the per-round values).

Checks (exit status 1 when one fails): every response is 200; the otelmetrics variants'
``/metrics`` (fetched in-process as a loopback client) counts exactly the requests served, and
no other instrumentation scope records ``http.server.request.duration`` a second time.
Exporters never fire during timing (OTLP points at a closed port with a 10-minute interval).
``--candidate DIR`` adds ``otelmetrics-candidate``, the otelmetrics app importing the patched
``otelmetrics/`` copy in DIR. Writes bench/results/inproc.json.

Worker mode (the series of a pre-fork server's worker, kept in a memory-mapped arena so a
scrape can add up every worker): the variant ``otelmetrics-arena`` is the otelmetrics app
whose worker calls ``otelmetrics.core.shared.use(Arena(...))`` before its first request, so
every series it creates lives in the arena, as under gunicorn or ``uvicorn --workers``. And a
recording section, in its own process on the same CPU: ns per request for the hot path
(``handle.http.start()`` + ``finish()`` over micro.py's 8-request mix) with plain series and with
arena series, and ns per ``add`` of one histogram and one counter, plain and arena-backed,
interleaved rounds, net of the loop (``--no-recording`` skips it).

Launchers (the bare app, unmodified, in a worker that first does what a launcher's start-up
does): ``launcher`` calls ``otelmetrics.launcher.patches.boot_in_process()`` (what the
``otelmetrics-instrument`` sitecustomize runs), so the app instruments itself on its first
call and must count exactly like ``otelmetrics``; ``distro`` runs
``opentelemetry.instrumentation.auto_instrumentation.initialize()`` (what the
``opentelemetry-instrument`` sitecustomize runs) with the OpenTelemetry distro and
configurator (``_common.distro_env``: metrics only, spans not sampled). Both are printed next
to ``otelmetrics``: the launcher's added µs/req minus the one-call API's.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
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
DISCARD = "http://127.0.0.1:9"  # nothing listens on the discard port
WORKER_ENV = {
    "OTEL_SERVICE_NAME": "bench-inproc",
    "OTEL_EXPORTER_OTLP_ENDPOINT": DISCARD,
    "OTEL_METRIC_EXPORT_INTERVAL": "600000",
    "BENCH_OTLP_ENDPOINT": DISCARD + "/v1/metrics",
    "BENCH_EXPORT_MS": "600000",
}
Caller = tuple[Callable[[int], list[str]], Callable[[str], bytes]]


CANDIDATE = "otelmetrics-candidate"  # the otelmetrics app on --candidate's package copy
ARENA = "otelmetrics-arena"  # the otelmetrics app with its series in a worker's arena


def python_path(candidate: str = "") -> str:
    """The apps, a candidate package copy if any, then the caller's PYTHONPATH."""
    return os.pathsep.join(p for p in (str(APPS), candidate, os.environ.get("PYTHONPATH")) if p)


def flask_caller(app: Any) -> Caller:
    """``batch(k)`` serves k requests and returns their statuses; ``get(path)`` one body."""
    from werkzeug.test import EnvironBuilder

    def environ(path: str) -> dict[str, Any]:
        env = EnvironBuilder(path=path, base_url="http://127.0.0.1:8000/").get_environ()
        env["REMOTE_ADDR"] = "127.0.0.1"
        return env

    hello = environ("/hello")

    def serve(env: dict[str, Any], statuses: list[str]) -> bytes:
        body = app(env, lambda status, headers, exc_info=None: statuses.append(status[:3]))
        try:
            return b"".join(body)
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()

    def batch(k: int) -> list[str]:
        statuses: list[str] = []
        for _ in range(k):
            serve(dict(hello), statuses)
        return statuses

    return batch, lambda path: serve(environ(path), [])


def asgi_caller(app: Any) -> Caller:
    import uvloop

    loop = uvloop.new_event_loop()

    def scope(path: str) -> dict[str, Any]:
        return {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"127.0.0.1:8000")],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }

    hello = scope("/hello")

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def serve(sc: dict[str, Any], statuses: list[str], body: list[bytes]) -> None:
        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(str(message["status"]))
            elif message["type"] == "http.response.body":
                body.append(message.get("body", b""))

        await app(sc, receive, send)

    async def many(k: int, statuses: list[str]) -> None:
        sink: list[bytes] = []
        for _ in range(k):
            await serve(dict(hello), statuses, sink)
            sink.clear()

    def batch(k: int) -> list[str]:
        statuses: list[str] = []
        loop.run_until_complete(many(k, statuses))
        return statuses

    def get(path: str) -> bytes:
        body: list[bytes] = []
        loop.run_until_complete(serve(scope(path), [], body))
        return b"".join(body)

    return batch, get


def worker(framework: str, variant: str, warmup: int) -> None:
    """Serve commands from stdin: ``run N`` -> one JSON line; ``scrape`` -> one JSON line."""
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})
    arena = None
    if variant == ARENA:  # as a pre-fork server's worker: its series in a shared arena
        from otelmetrics.core import shared

        directory = Path(tempfile.mkdtemp(prefix="bench-arena-"))
        arena = shared.Arena(directory / f"{os.getpid()}.arena")
        shared.use(arena)
        variant = "otelmetrics"
    elif variant == LAUNCHER:  # what otelmetrics-instrument's sitecustomize runs
        from otelmetrics.launcher.patches import boot_in_process

        boot_in_process()
    elif variant == DISTRO:  # what opentelemetry-instrument's sitecustomize runs
        os.environ.update(_common.distro_env(DISCARD, 600000))
        from opentelemetry.instrumentation.auto_instrumentation import initialize

        initialize()
    os.environ["BENCH_VARIANT"] = variant  # launcher, distro: the bare app
    app = importlib.import_module(f"{framework}_app").app  # bench/apps, on the path
    batch, get = flask_caller(app) if framework == "flask" else asgi_caller(app)
    served, bad = 0, 0

    def run(k: int) -> float:
        nonlocal served, bad
        t0 = time.perf_counter()
        statuses = batch(k)
        elapsed = time.perf_counter() - t0
        served += k
        bad += sum(status != "200" for status in statuses) + k - len(statuses)
        return elapsed / k * 1e6

    run(warmup)  # also configures otelmetrics (lazily, on the first request)
    print("ready", flush=True)
    for line in sys.stdin:
        command, *arg = line.split()
        if command == "run":
            print(json.dumps({"us": run(int(arg[0]))}), flush=True)
        elif command == "scrape":
            counted = counted_by_otelmetrics(variant)
            counts = duration_counts(get("/metrics").decode()) if counted else {}
            stats = {
                "served": served,
                "non_200": bad,
                "counts": counts,
                "app_class": type(app).__name__,  # distro: the instrumentor's subclass
            }
            if arena is not None:  # what the other workers' scrapes would read
                stats["arena_counts"] = _arena_count(arena.path)
            print(json.dumps(stats), flush=True)
    if arena is not None:
        shutil.rmtree(arena.path.parent, ignore_errors=True)


def _arena_count(path: Path) -> float:
    """Requests the arena's ``http.server.request.duration`` series count (their count slots)."""
    from otelmetrics.core.merge import merge_arenas

    return sum(
        values[-1]
        for table in merge_arenas([path], [])
        if table.specs[0].name == "http.server.request.duration"
        for _, values in table.rows()
    )


class Worker:
    """One variant's worker process, driven line by line."""

    def __init__(self, framework: str, variant: str, warmup: int, candidate: str = "") -> None:
        self.name = f"{framework}/{variant}"
        app_variant = "otelmetrics" if variant == CANDIDATE else variant  # ARENA: in the worker
        cmd = [sys.executable, __file__, "--worker", framework, app_variant, "--n", str(warmup)]
        self.process = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, **WORKER_ENV, "PYTHONPATH": python_path(candidate)},
        )

    def ask(self, command: str) -> str:
        assert self.process.stdin is not None and self.process.stdout is not None
        if command:
            self.process.stdin.write(command + "\n")
            self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.name} worker exited ({self.process.wait()})")
        return line.strip()

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def measure(
    framework: str, variants: list[str], rounds: int, n: int, candidate: str
) -> dict[str, Any]:
    warmup = max(200, n // 5)
    workers = {v: Worker(framework, v, warmup) for v in variants}
    if candidate:
        workers[CANDIDATE] = Worker(framework, CANDIDATE, warmup, candidate)
        variants = [*variants, CANDIDATE]
    try:
        for w in workers.values():
            if w.ask("") != "ready":
                raise RuntimeError(f"{w.name} did not start")
        us: dict[str, list[float]] = {v: [] for v in variants}
        for turn in range(rounds):
            for v in rotated(variants, turn):
                us[v].append(json.loads(workers[v].ask(f"run {n}"))["us"])
            print(f"{framework} round {turn}: " + " ".join(f"{v}={us[v][-1]:.1f}" for v in us))
        stats = {v: json.loads(w.ask("scrape")) for v, w in workers.items()}
    finally:
        for w in workers.values():
            w.close()
    return {"us": us, "stats": stats}


def summarize(framework: str, data: dict[str, Any]) -> list[dict[str, Any]]:
    bare = data["us"]["bare"]
    rows = []
    for v, xs in data["us"].items():
        rows.append(
            {
                "framework": framework,
                "variant": v,
                "us_median": median(xs),
                "us_min": min(xs),
                "us_max": max(xs),
                "ratio_to_bare": median([x / b for x, b in zip(xs, bare, strict=True)]),
                "added_us": median([x - b for x, b in zip(xs, bare, strict=True)]),
                "added_per_round": [round(x - b, 1) for x, b in zip(xs, bare, strict=True)],
                "requests": data["stats"][v]["served"],
            }
        )
    return rows


def check(framework: str, stats: dict[str, Any]) -> list[str]:
    """Problems found: non-200 responses, a count that differs, a second recording scope."""
    problems = []
    for v, s in stats.items():
        name = f"{framework}/{v}"
        if s["non_200"]:
            problems.append(f"{name}: {s['non_200']} responses were not 200")
        if v == DISTRO and not s["app_class"].startswith("_Instrumented"):
            problems.append(f"{name}: the distro did not instrument the app ({s['app_class']})")
        if not counted_by_otelmetrics(v):
            continue
        ours = s["counts"].pop("otelmetrics", 0.0)
        line = f"{name}: /metrics counts {ours:.0f} requests, {s['served']} were served"
        if ours != s["served"]:
            problems.append("COUNT MISMATCH: " + line)
        else:
            print(f"check: {line} (exact)")
        for scope, count in s["counts"].items():
            problems.append(
                f"DOUBLE COUNT: {name}: scope {scope!r} also records "
                f"http.server.request.duration ({count:.0f} requests)"
            )
        if "arena_counts" in s:
            line = f"{name}: its arena counts {s['arena_counts']:.0f}, {s['served']} were served"
            if s["arena_counts"] != s["served"]:
                problems.append("ARENA COUNT MISMATCH: " + line)
            else:
                print(f"check: {line} (exact)")
    return problems


def ahead(rows: list[dict[str, Any]]) -> dict[str, bool]:
    """Whether otelmetrics adds less per request than each peer, per framework."""
    out = {}
    for framework in dict.fromkeys(r["framework"] for r in rows):
        added = {r["variant"]: r["added_us"] for r in rows if r["framework"] == framework}
        for ours in ("otelmetrics", CANDIDATE, LAUNCHER):
            for peer in ("otel", "prom", DISTRO):
                if ours in added and peer in added:
                    ok = added[ours] < added[peer]
                    out[f"{framework}: {ours} vs {peer}"] = ok
                    print(
                        f"{framework}: {ours} adds {added[ours]:.1f} µs/req, {peer} "
                        f"{added[peer]:.1f} -> {'ahead' if ok else 'NOT AHEAD'}"
                    )
    return out


def variants_for(framework: str, wanted: list[str]) -> list[str]:
    sys.path.insert(0, str(APPS))
    variants: tuple[str, ...] = importlib.import_module(f"{framework}_app").VARIANTS
    offered = [*variants, ARENA] if "otelmetrics" in variants else list(variants)
    return [v for v in wanted if v in offered] if wanted else offered


# -- recording: plain series vs a worker's arena series, ns per request ---------------------

RECORDING = (
    # (name, statement, calls per round, baseline subtracted)
    ("loop: k = nxt_req()", "k = nxt_req()", 400_000, None),
    ("loop: v = nxt()", "v = nxt()", 400_000, None),
    (
        "single process: start()+finish(), mix",
        "k = nxt_req(); plain.finish(plain.start(k[0], k[3]), *k)",
        100_000,
        "loop: k = nxt_req()",
    ),
    (
        "worker (arena): start()+finish(), mix",
        "k = nxt_req(); arena.finish(arena.start(k[0], k[3]), *k)",
        100_000,
        "loop: k = nxt_req()",
    ),
    ("single process: histogram add", "v = nxt(); hist.add(v)", 300_000, "loop: v = nxt()"),
    ("worker (arena): histogram add", "v = nxt(); shist.add(v)", 300_000, "loop: v = nxt()"),
    ("single process: counter add", "v = nxt(); total.add(v)", 300_000, "loop: v = nxt()"),
    ("worker (arena): counter add", "v = nxt(); stotal.add(v)", 300_000, "loop: v = nxt()"),
)


def recording_env(directory: str) -> dict[str, Any]:
    """Two handles as ``configure()`` builds them: one's series in plain memory, the other's
    created while an arena is in use (as in a pre-fork server's worker)."""
    import itertools
    import random

    import otelmetrics
    from otelmetrics.core import shared
    from otelmetrics.core.aggregators import (
        ExplicitBuckets,
        SharedExplicitBuckets,
        SharedTotal,
        Total,
    )
    from otelmetrics.core.store import arena_values
    from otelmetrics.instruments.http import ACTIVE, DURATION, DURATION_BOUNDS

    mix: list[tuple[Any, ...]] = importlib.import_module("micro").REQUEST_MIX  # micro.py's

    def handle() -> Any:
        made = otelmetrics.configure(
            exporters=("none",), process_metrics=False, set_global=False, cardinality_limit=2000
        )
        for k in mix:  # create every series of the mix now
            made.http.finish(made.http.start(k[0], k[3]), *k)
        return made.http

    plain = handle()
    arena = shared.Arena(Path(directory) / f"{os.getpid()}.arena")
    shared.use(arena)
    try:
        in_arena = handle()
    finally:
        shared.use(None)
    kinds = {type(a).__name__ for aggs in in_arena.requests.series.values() for a in aggs}
    if kinds != {"SharedExplicitBuckets"}:
        raise RuntimeError(f"the arena handle's series are {kinds}, not in the arena")
    rnd = random.Random(42)
    values = [rnd.lognormvariate(-4.0, 0.8) for _ in range(4096)]
    attributes = {"http.request.method": "GET", "url.scheme": "https"}
    return {
        "nxt": itertools.cycle(values).__next__,
        "nxt_req": itertools.cycle(mix).__next__,
        "plain": plain,
        "arena": in_arena,
        "hist": ExplicitBuckets(DURATION_BOUNDS),
        "shist": SharedExplicitBuckets(
            DURATION_BOUNDS, arena_values(arena, DURATION, {"bench": "hist"})
        ),
        "total": Total(),
        "stotal": SharedTotal(arena_values(arena, ACTIVE, attributes)),
    }


def recording(rounds: int, scale: float) -> None:
    """In its own process on the apps' CPU: print the recording samples as one JSON line."""
    import gc
    import timeit

    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})
    directory = tempfile.mkdtemp(prefix="bench-arena-")
    try:
        env = recording_env(directory)
        timers = {
            name: timeit.Timer(stmt, setup="gc.enable()", globals={**env, "gc": gc})
            for name, stmt, _, _ in RECORDING
        }
        numbers = {name: max(1000, int(n * scale)) for name, _, n, _ in RECORDING}
        samples: dict[str, list[float]] = {name: [] for name in timers}
        for name, timer in timers.items():  # warm-up
            timer.timeit(numbers[name] // 10)
        for turn in range(rounds):
            for name in rotated(list(timers), turn):
                samples[name].append(timers[name].timeit(numbers[name]) / numbers[name] * 1e9)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    print(json.dumps(samples))


def measure_recording(rounds: int, scale: float) -> list[dict[str, Any]]:
    cmd = [sys.executable, __file__, "--recording", str(rounds), "--scale", str(scale)]
    done = subprocess.run(
        cmd, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": python_path()}
    )
    if done.returncode != 0:
        raise RuntimeError(f"the recording process failed:\n{done.stderr[-3000:]}")
    samples: dict[str, list[float]] = json.loads(done.stdout.splitlines()[-1])
    medians = {name: median(xs) for name, xs in samples.items()}
    rows: list[dict[str, Any]] = []
    for name, stmt, _, base in RECORDING:
        net = [x - (medians[base] if base else 0.0) for x in samples[name]]
        rows.append(
            {
                "name": name,
                "stmt": stmt,
                "median_ns": medians[name],
                "min_ns": min(samples[name]),
                "max_ns": max(samples[name]),
                "net_ns": median(net),
                "samples_ns": samples[name],
            }
        )
    net_of = {row["name"]: row["net_ns"] for row in rows}
    for row in rows:
        if row["name"].startswith("worker (arena): "):
            single = net_of["single process: " + row["name"].removeprefix("worker (arena): ")]
            row["added_ns"] = row["net_ns"] - single
            row["ratio"] = row["net_ns"] / single
    return rows


def report_recording(rows: list[dict[str, Any]], rounds: int) -> None:
    headers = ["benchmark", "median ns", "min-max ns", "net ns", "worker - single ns", "ratio"]
    table = [
        (
            r["name"],
            r["median_ns"],
            f"{r['min_ns']:.0f}-{r['max_ns']:.0f}",
            r["net_ns"],
            round(r["added_ns"], 1) if "added_ns" in r else "",
            f"{r['ratio']:.2f}x" if "ratio" in r else "",
        )
        for r in rows
    ]
    print(f"\n## Recording: single process vs worker arena, ns ({rounds} interleaved rounds)\n")
    print(markdown(headers, table) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frameworks", default="flask,fastapi")
    parser.add_argument("--variants", default="", help="default: all the app offers, bare first")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--n", type=int, default=2000, help="requests per variant per round")
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 rounds of 300")
    parser.add_argument(
        "--candidate",
        default="",
        help="a directory holding a patched otelmetrics/ package: adds the variant "
        f"{CANDIDATE} (the otelmetrics app importing that copy) to the same run",
    )
    parser.add_argument(
        "--no-recording", action="store_true", help="skip the recording section (arena vs plain)"
    )
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--recording", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--scale", type=float, default=1.0, help=argparse.SUPPRESS)
    parser.add_argument("--out", help="JSON results path (default bench/results/inproc.json)")
    args = parser.parse_args()
    if args.worker:
        framework, variant = args.worker
        worker(framework, variant, warmup=args.n)
        return 0
    if args.recording:
        recording(args.recording, args.scale)
        return 0
    rounds, n = (3, 300) if args.quick else (args.rounds, args.n)
    args.candidate = os.path.abspath(args.candidate) if args.candidate else ""
    env_info = _common.environment()
    print(f"# inproc.py — {_common.describe(env_info)}\n")
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    raw = {}
    for framework in args.frameworks.split(","):
        variants = variants_for(framework, [v for v in args.variants.split(",") if v])
        if not variants or variants[0] != "bare":
            parser.error("the variants must start with bare (the reference)")
        raw[framework] = measure(framework, variants, rounds, n, args.candidate)
        rows += summarize(framework, raw[framework])
        problems += check(framework, raw[framework]["stats"])
    headers = ["framework", "variant", "µs/req", "min-max", "ratio to bare", "added µs/req"]
    table = [
        (
            r["framework"],
            r["variant"],
            r["us_median"],
            f"{r['us_min']:.0f}-{r['us_max']:.0f}",
            r["ratio_to_bare"],
            r["added_us"],
        )
        for r in rows
    ]
    print(f"\n## In-process, µs per request ({rounds} interleaved rounds x {n} requests)\n")
    print(markdown(headers, table) + "\n")
    verdicts = ahead(rows)
    launcher_diff = _common.launcher_vs_api(rows, "added_us", "added µs/req")
    record_rows: list[dict[str, Any]] = []
    if not args.no_recording:
        record_rounds = 3 if args.quick else 9
        record_rows = measure_recording(record_rounds, 0.1 if args.quick else 1.0)
        report_recording(record_rows, record_rounds)
    data = {
        "environment": env_info,
        "args": vars(args),
        "summary": rows,
        "recording": record_rows,
        "raw": raw,
    }
    data["launcher_minus_api_us"] = launcher_diff
    out = _common.save("inproc", {**data, "ahead": verdicts}, args.out)
    print(f"\nwrote {out}")
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
