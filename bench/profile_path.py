"""Where the microseconds of an instrumented request go, on Flask and on FastAPI.

Run:  .venv/bin/python bench/profile_path.py            (about two minutes; --quick for a smoke run)

Three parts, each in this one process pinned to CPU 1 (the bench apps' own CPU):

1. **Whole requests, interleaved**: the bench app called directly as a WSGI / ASGI callable
   (as ``inproc.py`` does) bare; behind a pass-through middleware (one layer, no work); behind
   the *floor* (a middleware that reads the clock twice and adds the duration to one total
   under a lock); and instrumented by ``otelmetrics.instrument(app)`` with everything a user
   gets by default (JSON API, statistics window, per-route windows, users, events).
   ``--rounds`` rounds of ``--n`` requests, start rotated; medians of the per-round values.
2. **Steps, one by one**: each thing the adapter does per request, timed with ``timeit`` in
   rotated rounds on the live objects of an instrumented app (the recording pieces on a handle
   built the same way), net of the empty loop. The sum is what the steps explain; what is left
   of the measured whole is the indirect cost (allocator, caches, the garbage collector).
3. **A profile** of a process serving the instrumented app flat out for ``--load`` seconds,
   sampled by py-spy (``record --gil --threads`` at 1 kHz, if installed): the share of the
   samples in each otelmetrics function (with the standard library it calls), turned into
   µs per request, and each thread's share of the GIL; and the **background threads' CPU**:
   each thread's own ``pthread`` CPU clock per second of a load run, in this process.

Writes bench/results/profile_path.json.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import inspect
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _common
from _common import BENCH, markdown, median, rotated

sys.path.insert(0, str(BENCH / "apps"))  # the floor, shared with the HTTP bench's apps

from floor import AsgiFloor, AsgiPass, WsgiFloor, WsgiPass  # noqa: E402

ENV = {
    "OTEL_SERVICE_NAME": "bench-profile",
    "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9",  # never fires: 10-minute interval
    "OTEL_METRIC_EXPORT_INTERVAL": "600000",
}
FLASK_HEADERS = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", "5")]
ASGI_START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-length", b"5"), (b"content-type", b"text/plain; charset=utf-8")],
}
ASGI_BODY = {"type": "http.response.body", "body": b"hello"}


# -- the apps ------------------------------------------------------------------------------


def flask_apps(ablations: bool = True) -> dict[str, Any]:
    from flask import Flask

    import otelmetrics

    def make() -> Flask:
        app = Flask("bench")
        app.add_url_rule("/hello", "hello", lambda: "hello")
        return app

    apps = {name: make() for name in ("bare", "pass-through", "floor", "otelmetrics")}
    apps["pass-through"].wsgi_app = WsgiPass(apps["pass-through"].wsgi_app)  # type: ignore[method-assign]
    apps["floor"].wsgi_app = WsgiFloor(apps["floor"].wsgi_app)  # type: ignore[method-assign]
    otelmetrics.instrument(apps["otelmetrics"])
    for name, without in ABLATIONS.items() if ablations else ():
        app = apps[name] = make()
        handle = otelmetrics.configure(set_global=False)
        otelmetrics.instrument(app, handle=handle)
        ablate(handle, app.wsgi_app, without)
    return apps


def fastapi_apps(ablations: bool = True) -> dict[str, Any]:
    from fastapi import FastAPI
    from fastapi.responses import PlainTextResponse
    from starlette.middleware import Middleware

    import otelmetrics

    # FastAPI >= 0.165 records its own request metrics once a global MeterProvider exists (the
    # instrumented app's configure() sets one): off in the others, as instrument() does in its
    native = "telemetry" in inspect.signature(FastAPI).parameters
    options: dict[str, Any] = {"telemetry": {"metrics": False}} if native else {}

    def make() -> FastAPI:
        app = FastAPI(**options)

        @app.get("/hello", response_class=PlainTextResponse)
        async def hello() -> PlainTextResponse:
            return PlainTextResponse("hello")

        return app

    apps = {name: make() for name in ("bare", "pass-through", "floor", "otelmetrics")}
    apps["pass-through"].user_middleware.insert(0, Middleware(AsgiPass))
    apps["floor"].user_middleware.insert(0, Middleware(AsgiFloor))
    otelmetrics.instrument(apps["otelmetrics"])
    for name, without in ABLATIONS.items() if ablations else ():
        app = apps[name] = make()
        handle = otelmetrics.configure(set_global=False)
        otelmetrics.instrument(app, handle=handle)
        app.middleware_stack = app.build_middleware_stack()
        ablate(handle, _find_asgi_middleware(app.middleware_stack), without)
    return apps


# otelmetrics with parts taken out (each on a handle of its own): what each part costs in a
# whole request, where caches and the allocator see it
ABLATIONS = {
    "otelmetrics without windows": ("windows",),
    "otelmetrics without users": ("users",),
    "adapter only (no recording, no users)": ("recording", "users"),
}


def ablate(handle: Any, middleware: Any, without: tuple[str, ...]) -> None:
    """Take parts out of an instrumented app before its first request."""
    http = middleware._resolve()  # resolved now, so what is set below stays
    handle.stats.stop()
    if "windows" in without:
        if hasattr(http, "_pending"):
            http._pending = None  # series made from now on wait in no list
        else:
            http.window = None
    if "users" in without:
        middleware.users = None
    if "recording" in without:
        http.start = lambda method, scheme: time.perf_counter()
        http.finish = lambda *args: None


def wsgi_environ(path: str = "/hello") -> dict[str, Any]:
    from werkzeug.test import EnvironBuilder

    env = EnvironBuilder(path=path, base_url="http://127.0.0.1:8000/").get_environ()
    env["REMOTE_ADDR"] = "127.0.0.1"
    return env


def asgi_scope(path: str = "/hello") -> dict[str, Any]:
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


def wsgi_batch(app: Any) -> Callable[[int], None]:
    hello = wsgi_environ()

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        pass

    def batch(k: int) -> None:
        for _ in range(k):
            body = app(dict(hello), start_response)
            b"".join(body)
            body.close()

    return batch


def asgi_batch(app: Any, loop: asyncio.AbstractEventLoop) -> Callable[[int], None]:
    hello = asgi_scope()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        pass

    async def many(k: int) -> None:
        for _ in range(k):
            await app(dict(hello), receive, send)

    return lambda k: loop.run_until_complete(many(k))


def whole(batches: dict[str, Callable[[int], None]], rounds: int, n: int) -> dict[str, Any]:
    """µs per request of each variant, interleaved rounds; ratio and added µs vs bare."""
    for batch in batches.values():
        batch(max(200, n // 5))  # warm-up; configures otelmetrics on its first request
    us: dict[str, list[float]] = {name: [] for name in batches}
    for turn in range(rounds):
        for name in rotated(list(batches), turn):
            t0 = time.perf_counter()
            batches[name](n)
            us[name].append((time.perf_counter() - t0) / n * 1e6)
    bare = us["bare"]
    return {
        name: {
            "us": median(xs),
            "ratio": median([x / b for x, b in zip(xs, bare, strict=True)]),
            "added_us": median([x - b for x, b in zip(xs, bare, strict=True)]),
            "samples": xs,
        }
        for name, xs in us.items()
    }


# -- steps ---------------------------------------------------------------------------------


def recording_steps(http: Any) -> list[tuple[str, str]]:
    """The pieces of ``start()`` + ``finish()`` for one GET /hello 200, on ``http``."""
    return [
        ("perf_counter() (one clock read; start and finish take one each)", "perf_counter()"),
        ("lock acquire + release (start and finish take it once each)", "acq(); rel()"),
        ("start(): the active-requests +1 under the lock, and its clock read", "start(M, S)"),
        (
            "start() + finish(): the whole recording",
            "finish(start(M, S), M, ROUTE, 200, S, None, None, 5, None)",
        ),
        ("finish(): series lookup (dict.get of the 5-tuple key)", "sget(KEY)"),
        ("finish(): duration histogram add", "dur.add(0.0005)"),
        ("finish(): response-size histogram add", "size.add(5)"),
        ("finish(): active-requests add(-1)", "active.add(-1)"),
        *_window_steps(http),
    ]


def _window_steps(http: Any) -> list[tuple[str, str]]:
    if not hasattr(http, "_pending"):  # the windows fed one request at a time
        return [
            ("finish(): service window add", "window.add(0.0005, 200, perf_counter())"),
            ("finish(): route window add", "rwindow.add(0.0005, 200, perf_counter())"),
        ]
    return [
        ("finish(): the duration appended to the list it waits in", "waiting.append(0.0005)"),
        (
            f"windows: one request's share of a batch add ({BATCH:,} waiting, both windows)",
            "flush_batch()",
        ),
    ]


BATCH = 1000  # durations per flush in the batch step (a second at 1,000 requests/s)


def _flush_batch() -> Callable[[], None]:
    """Adds BATCH waiting durations to a service and a route window, as a flush does."""
    import random

    from otelmetrics.core.pending import PendingWindows
    from otelmetrics.core.routes import RouteWindows
    from otelmetrics.core.window import RollingWindow

    rng = random.Random(5)
    durations = [rng.lognormvariate(-7.0, 0.5) for _ in range(BATCH)]
    pending = PendingWindows(RollingWindow(300), RouteWindows(300))
    waiting = pending.durations("/hello", 200)
    clock = [0.0]

    def flush() -> None:
        waiting.extend(durations)
        clock[0] += 0.001
        pending.flush(clock[0])

    return flush


def recording_globals(http: Any) -> dict[str, Any]:
    method, route, scheme = "GET", "/hello", "http"
    http.finish(http.start(method, scheme), method, route, 200, scheme, None, None, 5, None)
    key = (method, route, 200, scheme, None)
    series = http._series[key]
    lock = http.requests.lock
    return {
        "perf_counter": time.perf_counter,
        "acq": lock.acquire,
        "rel": lock.release,
        "start": http.start,
        "finish": http.finish,
        "M": method,
        "S": scheme,
        "ROUTE": route,
        "KEY": key,
        "sget": http._series.get,
        "dur": series[0],
        "size": series[2],
        "active": series[3],
        "window": http.window,
        "rwindow": series[4],
        "waiting": [],  # a list of its own: the live one is flushed by the requests
        "flush_batch": _flush_batch() if hasattr(http, "_pending") else None,
    }


def flask_steps(app: Any) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """The WSGI adapter's steps, inside a live request context of the instrumented app."""
    from otelmetrics.adapters import wsgi

    middleware = app.wsgi_app
    http = middleware.http
    env = wsgi_environ()
    ctx = app.request_context(env)
    ctx.push()  # the matched rule is at hand, as in start_response
    steps = [
        ("is_excluded(PATH_INFO)", "is_excluded(env.get('PATH_INFO', ''))"),
        (
            "method, scheme and request Content-Length from the environ",
            "norm(env['REQUEST_METHOD']); env['wsgi.url_scheme']; "
            "n = env.get('CONTENT_LENGTH'); n = int(n) if n and n.isdigit() else None",
        ),
        ("the per-request start_response wrapper (allocated)", "wrap(sr, env)"),
        ("route: the matched rule from the request context", "route()"),
        ("status: int(status[:3])", "int('200 OK'[:3])"),
        ("response Content-Length from the headers", "clen(HEADERS)"),
        ("users: an anonymous request (no cookie, no X-User-Id)", "users_wsgi(env, current)"),
        ("error check: environ.get(ERROR_KEY), status >= 500", "env.get(EK); 200 >= 500"),
        *recording_steps(http),
    ]
    names = {
        "is_excluded": http.is_excluded,
        "norm": wsgi.normalize_method,
        "env": env,
        "sr": lambda status, headers, exc_info=None: None,
        "wrap": _wsgi_wrapper(wsgi, middleware),
        "route": _wsgi_route(wsgi, env),
        "clen": wsgi._content_length,
        "HEADERS": FLASK_HEADERS,
        "users_wsgi": middleware.users.wsgi,
        "current": wsgi._current_request,
        "EK": wsgi.ERROR_KEY,
        **recording_globals(http),
    }
    return steps, names


def _wsgi_wrapper(wsgi: Any, middleware: Any) -> Callable[..., Any]:
    """How the adapter builds its per-request ``start_response`` (whichever form it has)."""
    if hasattr(wsgi, "_capturing"):
        return lambda sr, env: wsgi._capturing(sr, [], False, middleware.users, env)
    return lambda sr, env: wsgi._Capture(sr, middleware, env)


def _wsgi_route(wsgi: Any, env: dict[str, Any]) -> Callable[[], Any]:
    """The adapter's route lookup as a call without arguments (whichever form it has)."""
    if inspect.signature(wsgi._route).parameters:
        return lambda: wsgi._route(env)
    return wsgi._route  # type: ignore[no-any-return]


def fastapi_steps(app: Any) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """The ASGI adapter's steps, on the instrumented app's middleware and a routed scope."""
    from starlette.requests import Request

    from otelmetrics.adapters import asgi

    middleware = _find_asgi_middleware(app.middleware_stack)
    http = middleware.http
    scope = asgi_scope()
    scope["route"] = next(r for r in app.router.routes if getattr(r, "path", "") == "/hello")
    extra = (_async_noop,) if "send" in inspect.signature(asgi._Exchange).parameters else ()
    exchange = asgi._Exchange(http, scope, middleware.users, False, None, *extra)
    exchange.send = _async_noop
    exchange.started = time.perf_counter()
    steps = [
        ("scope type check, is_excluded(path)", "scope['type'] != 'http'; excluded(scope['path'])"),
        ("the per-request exchange (allocated; method, scheme, Content-Length)", "exch(scope)"),
        ("send wrapper: bound method allocated", "exchange.wrapped_send"),
        (
            "wrapped send of http.response.start, driven (less an empty coroutine)",
            "drive(ws(START))",
        ),
        ("route: the template of the matched route", "route(scope, '')"),
        ("users: an anonymous request (scope state and headers)", "users_asgi(scope, Request)"),
        ("one more coroutine layer (an await of a pass-through)", "drive(passthru(scope, 0, 0))"),
        ("(an empty coroutine driven: subtracted from the driven rows)", "drive(empty())"),
        *recording_steps(http),
    ]
    names = {
        "scope": scope,
        "excluded": http.is_excluded,
        "exch": lambda sc: type(exchange)(http, sc, middleware.users, False, None, *extra),
        "exchange": exchange,
        "ws": _unfinishing(exchange),
        "START": ASGI_START,
        "drive": _drive,
        "route": asgi._route,
        "users_asgi": middleware.users.asgi,
        "Request": Request,
        "passthru": AsgiPass(_async_app_noop),
        "empty": _async_noop_0,
        **recording_globals(http),
    }
    return steps, names


def _find_asgi_middleware(stack: Any) -> Any:
    while stack is not None:
        if type(stack).__name__ == "OtelMetricsMiddleware":
            return stack
        stack = getattr(stack, "app", None)
    raise RuntimeError("OtelMetricsMiddleware is not in the app's middleware stack")


def _unfinishing(exchange: Any) -> Callable[[Any], Any]:
    return exchange.wrapped_send


async def _async_noop(message: Any) -> None:
    return None


async def _async_noop_0() -> None:
    return None


async def _async_app_noop(scope: Any, receive: Any, send: Any) -> None:
    return None


def _drive(coroutine: Any) -> None:
    try:
        coroutine.send(None)
    except StopIteration:
        pass


def time_steps(
    steps: list[tuple[str, str]], names: dict[str, Any], rounds: int, number: int
) -> dict[str, float]:
    """Median ns of each step, net of the empty loop, in rotated rounds (gc on)."""
    timers = {
        label: timeit.Timer(stmt, setup="gc.enable()", globals={**names, "gc": gc})
        for label, stmt in [("loop", "pass"), *steps]
    }
    per = {label: BATCH if "batch add" in label else 1 for label in timers}  # ns per request
    samples: dict[str, list[float]] = {label: [] for label in timers}
    for label, timer in timers.items():
        timer.timeit(max(1, number // 10 // per[label]))
    for turn in range(rounds):
        for label in rotated(list(timers), turn):
            calls = max(1, number // per[label])
            samples[label].append(timers[label].timeit(calls) / (calls * per[label]) * 1e9)
    loop = median(samples.pop("loop"))
    return {label: median(xs) - loop for label, xs in samples.items()}


# -- profile and threads -------------------------------------------------------------------


def serve(framework: str, seconds: float) -> None:
    """Serve GET /hello flat out on the instrumented app for ``seconds`` (run under py-spy);
    print the µs per request as the last line."""
    if framework == "flask":
        app = flask_apps()["otelmetrics"]
        batch = wsgi_batch(app)
    else:
        import uvloop

        batch = asgi_batch(fastapi_apps()["otelmetrics"], uvloop.new_event_loop())
    batch(2000)
    t0, served = time.perf_counter(), 0
    while time.perf_counter() - t0 < seconds:
        batch(500)
        served += 500
    print(json.dumps({"us": (time.perf_counter() - t0) / served * 1e6, "threads": {}}), flush=True)
    os._exit(0)  # no shutdown export: the samples are of serving only


def py_spy(framework: str, seconds: float) -> dict[str, Any]:
    """Sample a process serving the instrumented app with py-spy (``--gil --threads``, 1 kHz):
    the share of samples in each otelmetrics function (with the stdlib it calls), of all
    samples, and each thread's share of the GIL. Empty when py-spy is not installed."""
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not os.path.exists(exe):
        return {}
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.txt"
        cmd = [exe, "record", "--gil", "--threads", "--nonblocking", "-r", "1000", "-f", "raw"]
        cmd += ["-o", str(raw)]
        serve_cmd = [sys.executable, __file__, "--serve", framework, str(seconds)]
        done = subprocess.run(cmd + ["--", *serve_cmd], capture_output=True, text=True)
        if done.returncode != 0 or not raw.exists():
            return {"error": done.stderr[-2000:]}
        served = _last_json(done.stdout)
        folded = fold(raw.read_text(), served["threads"])
        return {"us_per_request": served["us"], **folded}


def _last_json(stdout: str) -> Any:
    return json.loads([line for line in stdout.splitlines() if line.startswith("{")][-1])


def fold(text: str, names: dict[str, str]) -> dict[str, Any]:
    """Shares of the samples: each thread's, and each otelmetrics function's among the samples
    taken while a request was served."""
    threads: dict[str, int] = {}
    ours: dict[str, int] = {}
    total = serving = 0
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        frames = stack.split(";")
        label = frames[0]  # "thread (TID): name", or "thread (TID)" before it has one
        thread = label.partition("): ")[2] or names.get(label, "unnamed")
        threads[thread] = threads.get(thread, 0) + n
        total += n
        if not any(frame.split(" (")[0].endswith((".batch", ".many")) for frame in frames):
            continue  # start-up, warm-up
        serving += n
        owner = _owner(frames[1:])
        if owner:
            ours[owner] = ours.get(owner, 0) + n
    by_share = sorted(ours.items(), key=lambda kv: -kv[1])
    return {
        "samples": total,
        "serving_samples": serving,
        "threads": {name: n / total for name, n in threads.items()},
        "ours": {name: n / serving for name, n in by_share},
    }


def _owner(frames: list[str]) -> str:
    """The otelmetrics function a sample is in: its innermost frame, or the innermost frame
    before it when that one is in the standard library (``Counter``, ``threading``)."""
    for frame in reversed(frames):
        name, _, where = frame.partition(" (")
        path = where.split(":")[0]  # py-spy prints paths relative to their sys.path entry
        if path.startswith("otelmetrics/"):
            return f"{path}:{name}"
        root = path.split("/")[0].removesuffix(".py")
        if root not in sys.stdlib_module_names and not root.startswith("<frozen"):
            return ""
    return ""


def thread_share(batch: Callable[[int], None], seconds: float) -> dict[str, Any]:
    """CPU ms per second of each thread while the main thread serves requests flat out."""

    def cpu() -> dict[str, float]:
        out = {}
        for thread in threading.enumerate():
            try:
                clock = time.pthread_getcpuclockid(thread.ident or 0)
                out[f"{thread.name} ({thread.native_id})"] = time.clock_gettime(clock)
            except OSError:
                continue
        return out

    before, t0, served = cpu(), time.perf_counter(), 0
    while time.perf_counter() - t0 < seconds:
        batch(500)
        served += 500
    elapsed = time.perf_counter() - t0
    after = cpu()
    return {
        "seconds": elapsed,
        "requests_per_s": served / elapsed,
        "ms_per_s": {name: (after[name] - before.get(name, 0.0)) / elapsed * 1e3 for name in after},
    }


# -- main ----------------------------------------------------------------------------------


def run_framework(framework: str, args: argparse.Namespace) -> dict[str, Any]:
    loop = None
    if framework == "flask":
        apps = flask_apps(ablations=not args.threads_only)
        batches = {name: wsgi_batch(app) for name, app in apps.items()}
    else:
        import uvloop

        loop = uvloop.new_event_loop()
        apps = fastapi_apps(ablations=not args.threads_only)
        batches = {name: asgi_batch(app, loop) for name, app in apps.items()}
    if args.threads_only:
        batches["otelmetrics"](2000)
        return {"threads": thread_share(batches["otelmetrics"], args.load)}
    result: dict[str, Any] = {"whole": whole(batches, args.rounds, args.n)}
    steps, names = (flask_steps if framework == "flask" else fastapi_steps)(apps["otelmetrics"])
    result["steps"] = time_steps(steps, names, args.step_rounds, args.number)
    result["threads"] = thread_share(batches["otelmetrics"], args.load)
    result["py_spy"] = py_spy(framework, args.load)
    return result


def start_sink(interval_ms: int) -> subprocess.Popen[bytes]:
    """The OTLP sink of http_bench.py on a free port (CPU 0); the exporter points at it."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("otlp_sink.py")), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=lambda: os.sched_setaffinity(0, {0}),
    )
    time.sleep(1.0)
    ENV["OTEL_EXPORTER_OTLP_ENDPOINT"] = f"http://127.0.0.1:{port}"
    ENV["OTEL_METRIC_EXPORT_INTERVAL"] = str(interval_ms)
    return sink


def report(framework: str, result: dict[str, Any]) -> None:
    if "whole" not in result:
        report_threads(framework, result["threads"])
        return
    rows = [(name, r["us"], r["ratio"], r["added_us"]) for name, r in result["whole"].items()]
    print(f"\n## {framework}: whole requests (µs, interleaved)\n")
    print(markdown(["variant", "µs/req", "ratio to bare", "added µs/req"], rows))
    print(f"\n## {framework}: steps (ns, net of the loop)\n")
    print(markdown(["step", "ns"], list(result["steps"].items())))
    spied = result["py_spy"]
    if "ours" in spied:
        us = result["whole"]["otelmetrics"]["us"]  # unprofiled; py-spy slows what it samples
        rows = [(name, share * 100, share * us) for name, share in spied["ours"].items()]
        total = ("all of otelmetrics", sum(r[1] for r in rows), sum(r[2] for r in rows))
        rows = [*(r for r in rows if r[1] >= 0.1), total]  # 0.1 % and more
        print(f"\n## {framework}: py-spy, samples in otelmetrics (x {us:.1f} µs/req)\n")
        print(markdown(["function (with the stdlib it calls)", "% of samples", "µs/req"], rows))
        print(
            "\nGIL share by thread (py-spy --gil): "
            + ", ".join(f"{name} {share * 100:.3f} %" for name, share in spied["threads"].items())
        )
    report_threads(framework, result["threads"])


def report_threads(framework: str, threads: dict[str, Any]) -> None:
    print(f"\n## {framework}: background threads, CPU ms per second of load\n")
    print(markdown(["thread", "ms/s"], list(threads["ms_per_s"].items())))
    print(f"({threads['requests_per_s']:.0f} requests/s over {threads['seconds']:.0f} s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frameworks", default="flask,fastapi")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--step-rounds", type=int, default=7)
    parser.add_argument("--number", type=int, default=100_000)
    parser.add_argument("--load", type=float, default=30.0, help="seconds of the thread run")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", help="JSON results path (default bench/results/profile_path.json)")
    parser.add_argument(
        "--threads-only",
        type=int,
        metavar="EXPORT_MS",
        help="only the background threads' CPU, exporting OTLP to a local sink every EXPORT_MS",
    )
    parser.add_argument("--serve", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        os.environ.update(ENV)
        if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
            os.sched_setaffinity(0, {1})
        serve(args.serve[0], float(args.serve[1]))
        return 0
    if args.quick:
        args.rounds, args.n, args.step_rounds, args.number, args.load = 3, 300, 3, 10_000, 3.0
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})
    env_info = _common.environment()
    print(f"# profile_path.py — {_common.describe(env_info)}")
    sink = start_sink(args.threads_only) if args.threads_only else None
    os.environ.update(ENV)
    results = {}
    try:
        for framework in args.frameworks.split(","):
            results[framework] = run_framework(framework, args)
            report(framework, results[framework])
    finally:
        if sink is not None:
            sink.terminate()
    out = _common.save("profile_path", {"environment": env_info, "results": results}, args.out)
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
