"""Request latency while /metrics is scraped: p99 with and without a scrape loop, 10,000 series.

Run:  .venv/bin/python bench/scrape_latency.py      (about three minutes; --quick for a smoke run)

A FastAPI app on uvicorn (one process, pinned to CPU 1) holds 10,000 route series
(``bench/apps/scrape_app.py``) and serves ``GET /hello`` at a steady ``RATE`` requests per
second: an open-loop client process on CPU 0 (``CONNECTIONS`` keep-alive connections, each
sending on its own schedule) records every request's start and latency. Rounds alternate two
phases of ``--seconds`` each: **quiet** (no scrape) and **scraped** (a scrape loop in the client
process asks /metrics with ``Accept-Encoding: gzip`` (``--encoding``), as Prometheus does,
every ``--every`` s, recording each scrape's start and end; a process of its own, as
Prometheus is, so reading a scrape's body never holds the senders' GIL). Reported, over every
round:

- p50 and p99 of the requests of the quiet phases;
- p99 of the requests served while a scrape ran (their interval overlaps a scrape's), and the
  ratio to the quiet p99 (the target: within 10 %);
- p99 of every request of the scraped phases, and the scrapes' median duration.

``--floor`` scrapes ``/floor-metrics`` instead: the same gzipped body, rendered once and then
only sent (``bench/apps/scrape_series_fill.py``), so the ratio left is what moving the body
through the server and the client costs the requests, with no rendering at all.

``--idle-burner`` runs a process on the server's core for the whole run, at ``SCHED_IDLE``,
compressing in a loop: what CPU work at the lowest priority next to the server costs its
requests (compare the quiet p99 with a run without it).

``--server gunicorn`` serves a Flask app on gunicorn (``-w 1 -k gthread --threads 4``,
``bench/apps/scrape_app_flask.py``) instead: a pre-fork server, whose scrape adds up the
workers' arenas. Writes bench/results/scrape_latency.json. The server imports ``otelmetrics``
from PYTHONPATH, so ``PYTHONPATH=/other/checkout ... --out FILE`` measures another version the
same way.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import _common
from _common import BENCH, markdown, median

RATE = 200.0  # requests per second, all connections together
CONNECTIONS = 4
SERIES = 10_000
SERVER_CPU, CLIENT_CPU = "1", "0"
ENCODING = "gzip"  # what the scrapes accept (--encoding)
SERVER = "uvicorn"  # or gunicorn (--server)
PATH = "/metrics"  # or /floor-metrics (--floor)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def sender(port: int, until: float, rate: float, out: list[tuple[float, float]]) -> None:
    """Requests on one keep-alive connection at ``rate`` per second, each on its schedule."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    interval = 1 / rate
    due = time.perf_counter()
    while due < until:
        now = time.perf_counter()
        if now < due:
            time.sleep(due - now)
        start = time.perf_counter()
        connection.request("GET", "/hello")
        connection.getresponse().read()
        out.append((start, time.perf_counter() - start))
        due += interval


def scraper(port: int, until: float, every: float, out: list[tuple[float, float]]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Accept-Encoding": ENCODING}
    due = time.perf_counter() + every / 2
    while due < until:
        time.sleep(max(0.0, due - time.perf_counter()))
        start = time.perf_counter()
        connection.request("GET", PATH, headers=headers)
        response = connection.getresponse()
        body = response.read()
        assert response.status == 200 and len(body) > 100_000, (response.status, len(body))
        out.append((start, time.perf_counter()))
        due += every


def _scrapes(port: int, until: float, every: float, out: Any) -> None:
    """:func:`scraper` in its own process; its (start, end) pairs sent back through ``out``."""
    found: list[tuple[float, float]] = []
    scraper(port, until, every, found)
    out.put(found)


def phase(port: int, seconds: float, every: float | None) -> dict[str, Any]:
    """One phase: the senders, and the scrape loop (another process) when ``every`` is given."""
    until = time.perf_counter() + seconds  # CLOCK_MONOTONIC: the same in every process
    requests: list[tuple[float, float]] = []
    scrapes: list[tuple[float, float]] = []
    results: Any = None
    if every is not None:  # forked before the senders' threads start
        context = multiprocessing.get_context("fork")
        results = context.Queue()
        loop = context.Process(target=_scrapes, args=(port, until, every, results))
        loop.start()
    threads = [
        threading.Thread(target=sender, args=(port, until, RATE / CONNECTIONS, requests))
        for _ in range(CONNECTIONS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if results is not None:
        scrapes = results.get(timeout=120)  # a scrape loop that died fails the phase
        loop.join()
    during = [
        latency
        for start, latency in requests
        if any(start < end and start + latency > begin for begin, end in scrapes)
    ]
    return {
        "latencies": [latency for _, latency in requests],
        "during": during,
        "scrape_s": [end - begin for begin, end in scrapes],
    }


def client(port: int, rounds: int, seconds: float, every: float) -> dict[str, Any]:
    quiet: list[float] = []
    scraped: list[float] = []
    during: list[float] = []
    scrape_s: list[float] = []
    for _ in range(rounds):
        quiet += phase(port, seconds, None)["latencies"]
        found = phase(port, seconds, every)
        scraped += found["latencies"]
        during += found["during"]
        scrape_s += found["scrape_s"]
    ms = 1e3
    return {
        "quiet_p50_ms": percentile(quiet, 0.5) * ms,
        "quiet_p99_ms": percentile(quiet, 0.99) * ms,
        "during_p99_ms": percentile(during, 0.99) * ms,
        "during_p50_ms": percentile(during, 0.5) * ms,
        "scraped_p99_ms": percentile(scraped, 0.99) * ms,
        "scrape_ms": median(scrape_s) * ms if scrape_s else None,
        "requests": {"quiet": len(quiet), "scraped": len(scraped), "during": len(during)},
        "scrapes": len(scrape_s),
    }


def start_server(port: int, settings: dict[str, str]) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "OTELMETRICS_"))}
    env.update(
        SCRAPE_BENCH_SERIES=str(SERIES),
        OTEL_METRICS_EXPORTER="prometheus",
        PYTHONPATH=os.pathsep.join([str(BENCH / "apps"), env.get("PYTHONPATH", "")]),
        **settings,
    )
    if SERVER == "gunicorn":
        command = [sys.executable, "-m", "gunicorn", "-w", "1", "-k", "gthread", "--threads", "4"]
        command += ["-b", f"127.0.0.1:{port}", "scrape_app_flask:app"]
    else:
        command = [sys.executable, "-m", "uvicorn", "scrape_app:app", "--no-access-log"]
        command += ["--port", str(port), "--host", "127.0.0.1", "--log-level", "warning"]
    apps = str(BENCH / "apps")  # the working directory: not this checkout, first on sys.path
    return subprocess.Popen(["taskset", "-c", SERVER_CPU, *command], env=env, cwd=apps)


BURNER = """
import os, zlib
os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
data = os.urandom(1 << 20) * 8
while True:
    zlib.compress(data, 1)
"""


def idle_burner() -> subprocess.Popen[bytes]:
    """A process compressing in a loop on the server's core, at the lowest CPU priority."""
    return subprocess.Popen(["taskset", "-c", SERVER_CPU, sys.executable, "-c", BURNER])


def wait_ready(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.time() + 120
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/hello")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not answer within 120 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1 round of 5 s")
    parser.add_argument("--seconds", type=float, default=20.0, help="per phase")
    parser.add_argument("--every", type=float, default=2.0, help="seconds between scrapes")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", help="the results file (default bench/results/<script>.json)")
    parser.add_argument("--encoding", default="gzip", help="the scrapes' Accept-Encoding")
    parser.add_argument("--server", choices=("uvicorn", "gunicorn"), default="uvicorn")
    parser.add_argument("--floor", action="store_true", help="scrape the body rendered once")
    parser.add_argument("--idle-burner", action="store_true", help="SCHED_IDLE work on its core")
    parser.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE", help="a server setting"
    )
    args = parser.parse_args()
    settings = dict(item.split("=", 1) for item in args.set)
    global ENCODING, SERVER, PATH
    ENCODING, SERVER = args.encoding, args.server
    if args.floor:
        PATH = "/floor-metrics"
        settings["SCRAPE_BENCH_FLOOR"] = "1"
    rounds, seconds = (1, 5.0) if args.quick else (args.rounds, args.seconds)
    from http_bench import free_port

    port = free_port()
    server = start_server(port, settings)
    burner = idle_burner() if args.idle_burner else None
    try:
        wait_ready(port, server)
        if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
            os.sched_setaffinity(0, {int(CLIENT_CPU)})
        phase(port, 2.0, args.every)  # warm-up: the first scrape keeps the label texts
        result = client(port, rounds, seconds, args.every)
    finally:
        server.terminate()
        server.wait()
        if burner is not None:
            burner.kill()
            burner.wait()
    result["ratio"] = result["during_p99_ms"] / result["quiet_p99_ms"]
    env = _common.environment()
    print(_common.describe(env))
    print(report(result, args.every))
    data = {"environment": env, "every_s": args.every, "encoding": ENCODING, "server": SERVER}
    data["settings"] = settings
    data["path"] = PATH
    data["idle_burner"] = args.idle_burner
    data.update(result)
    out = _common.save("scrape_latency", data, args.out)
    print(f"wrote {Path(out)}")


def report(result: dict[str, Any], every: float) -> str:
    headers = (
        "series",
        "quiet p50 ms",
        "quiet p99 ms",
        f"while a scrape runs (every {every:g} s): p99 ms",
        "ratio",
        "all requests of the scraped phases: p99 ms",
        "scrape ms",
    )
    row = [
        f"{SERIES:,}",
        result["quiet_p50_ms"],
        result["quiet_p99_ms"],
        result["during_p99_ms"],
        result["ratio"],
        result["scraped_p99_ms"],
        result["scrape_ms"],
    ]
    return markdown(headers, [row])


if __name__ == "__main__":
    main()
