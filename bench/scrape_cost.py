"""Scrape cost under several workers: ms per /metrics at 1, 4 and 16 workers × 500 series each.

Run:  .venv/bin/python bench/scrape_cost.py       (about two minutes; --quick for a smoke run)

What a scrape of a pre-fork server costs when every worker's series must be added up, next to
prometheus_client's multiprocess mode doing the same, in one run. No HTTP: the scrape's work
only (reading the workers' files, summing, rendering the text a /metrics response carries).

- **otelmetrics**: a server directory (``otelmetrics.pipeline.multiprocess.ServerDirectory``)
  holding N workers' arenas, each written through ``otelmetrics.core.store.arena_values`` and
  the arena-backed histogram the request path uses (``SharedExplicitBuckets``), 500 series of
  ``http.server.request.duration`` (its semconv bounds, 4 attributes: method, route, status,
  scheme), 3 requests each. The workers are N live child processes of the timing process (the
  "master"), so the liveness check a real scrape makes (psutil: parent, not a zombie) runs for
  each. Timed: ``WorkerScrape`` (``ServerDirectory.tables()``, the server's resource) and
  ``pipeline.exposition.render`` of the merged tables' series, as /metrics does.
- **prometheus_client**: the same histogram (same bounds and labels, 3 observations per
  series) written by N workers into ``PROMETHEUS_MULTIPROC_DIR`` (one ``histogram_<id>.db``
  each; set before import, as it requires), then ``MultiProcessCollector`` +
  ``generate_latest``, what prometheus-flask-exporter's and prometheus-fastapi-instrumentator's
  /metrics do.
- **churn**: 16 live workers plus 50 that exited (``--max-requests``-style recycling). Ours folds
  the exited arenas into one on the first scrape after they pile up (timed separately, a fresh
  directory each time: "first scrape, folding 50"), then reads 16 + 1; prometheus_client reads
  all 66 files on every scrape (it never compacts).

Each variant runs in its own process pinned to one CPU; rounds interleave them (start rotated),
each ask times ``--reps`` scrapes and keeps their median (and times the read+merge step alone
once); reported are the medians over rounds.
Check (exit status 1 when it fails): every scrape's text counts exactly N x 500 x 3 requests.
Writes bench/results/scrape_cost.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _common
from _common import markdown, median, rotated

SERIES = 500  # per worker
PER_SERIES = 3  # requests each worker counted per series
EXITED = 50  # the churn case: workers that exited
WORKERS = (1, 4, 16)
METHODS_STATUSES = (("GET", 200), ("GET", 404), ("POST", 201), ("POST", 500))
SCRAPE_CPU = 1


def label_sets() -> list[tuple[str, str, int, str]]:
    """500 (method, route, status, scheme): 125 routes x 4 method/status pairs."""
    routes = [f"/api/v1/resource{i}/{{item_id}}" for i in range(SERIES // 4)]
    return [(m, route, s, "https") for route in routes for m, s in METHODS_STATUSES][:SERIES]


def _workers(n: int) -> str:
    return "1 worker" if n == 1 else f"{n} workers"


def durations() -> Callable[[], float]:
    rnd = random.Random(7)
    values = [rnd.lognormvariate(-4.0, 1.2) for _ in range(4096)]
    state = {"i": 0}

    def next_value() -> float:
        state["i"] = (state["i"] + 1) % len(values)
        return values[state["i"]]

    return next_value


def counted(text: bytes, name: str) -> float:
    """Requests the ``<name>_count`` samples of a scrape add up to."""
    from prometheus_client.parser import text_string_to_metric_families

    return sum(
        sample.value
        for family in text_string_to_metric_families(text.decode())
        for sample in family.samples
        if sample.name == name + "_count"
    )


# -- otelmetrics ----------------------------------------------------------------------------


class OursDriver:
    """Server directories for every configuration, and the scrape that /metrics runs."""

    def __init__(self, root: Path, live: int) -> None:
        self.root = root
        # the workers: live children of this process (the master)
        self.children = [subprocess.Popen(["sleep", "3600"]) for _ in range(live)]
        self.next_value = durations()
        self.labels = label_sets()
        self.scrapes: dict[str, tuple[Any, Any, int]] = {}
        for n in WORKERS:
            self.scrapes[_workers(n)] = self._server(f"w{n}", n, 0)
        self.scrapes[f"16 workers + {EXITED} exited"] = self._server("churn", 16, EXITED)
        self._folds = 0

    def _server(self, name: str, live: int, exited: int) -> tuple[Any, Any, int]:
        from opentelemetry.sdk.resources import Resource

        from otelmetrics.pipeline.server_directory import ServerDirectory
        from otelmetrics.pipeline.worker_scrape import WorkerScrape

        directory = self.root / name
        directory.mkdir()
        # the scraping worker's own arena is one of the N below: a reader of the directory
        server = ServerDirectory(directory, os.getpid(), worker=False)
        self._fill(directory, live, exited)
        resource = Resource.create({"service.name": "bench-scrape"})
        scrape = WorkerScrape(server, set, lambda: resource)
        return server, scrape, live + exited

    def _fill(self, directory: Path, live: int, exited: int) -> None:
        from otelmetrics.core.aggregators import SharedExplicitBuckets
        from otelmetrics.core.shared import Arena
        from otelmetrics.core.store import arena_values
        from otelmetrics.instruments.http import DURATION, DURATION_BOUNDS

        pids = [child.pid for child in self.children[:live]]
        pids += [9_000_000 + i for i in range(exited)]  # above any pid_max: exited
        for pid in pids:
            arena = Arena(directory / f"{pid}.arena")
            for method, route, status, scheme in self.labels:
                attributes = {
                    "http.request.method": method,
                    "http.route": route,
                    "http.response.status_code": status,
                    "url.scheme": scheme,
                }
                histogram = SharedExplicitBuckets(
                    DURATION_BOUNDS, arena_values(arena, DURATION, attributes)
                )
                for _ in range(PER_SERIES):
                    histogram.add(self.next_value())
            arena.close()

    def scrape(self, config: str, reps: int) -> dict[str, Any]:
        from otelmetrics.pipeline.exposition import render

        if config == "fold":
            return self._fold()
        server, scrape, workers = self.scrapes[config]
        ms = []
        body = b""
        for _ in range(reps):
            t0 = time.perf_counter()
            data, lean = scrape(None)
            body = render(data, lean=lean)
            ms.append((time.perf_counter() - t0) * 1e3)
        t0 = time.perf_counter()
        server.tables()  # the read and sum alone, once
        merge_ms = [(time.perf_counter() - t0) * 1e3]
        return self._result(ms, merge_ms, body, workers)

    def _fold(self) -> dict[str, Any]:
        """The first scrape after 50 workers exited: it folds their arenas into one."""
        from otelmetrics.pipeline.exposition import render

        self._folds += 1
        server, scrape, workers = self._server(f"fold{self._folds}", 16, EXITED)
        t0 = time.perf_counter()
        data, lean = scrape(None)
        body = render(data, lean=lean)
        ms = (time.perf_counter() - t0) * 1e3
        left = len(list(server.directory.glob("*.arena")))
        shutil.rmtree(server.directory, ignore_errors=True)
        return {**self._result([ms], [], body, workers), "arenas_after": left}

    def _result(
        self, ms: list[float], merge_ms: list[float], body: bytes, workers: int
    ) -> dict[str, Any]:
        return {
            "ms": median(ms),
            "merge_ms": median(merge_ms) if merge_ms else None,
            "bytes": len(body),
            "counted": counted(body, "http_server_request_duration_seconds"),
            "expected": workers * SERIES * PER_SERIES,
        }

    def close(self) -> None:
        for child in self.children:
            child.kill()
            child.wait()


# -- prometheus_client ----------------------------------------------------------------------


class PromDriver:
    """prometheus_client's multiprocess files for every configuration, and its scrape."""

    def __init__(self, root: Path) -> None:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(root)  # before the import, as required
        from prometheus_client import CollectorRegistry
        from prometheus_client.multiprocess import MultiProcessCollector

        from otelmetrics.instruments.http import DURATION_BOUNDS

        self.bounds = DURATION_BOUNDS
        self.next_value = durations()
        self.labels = label_sets()
        self.scrapes: dict[str, tuple[Any, Any, int]] = {}
        configs = [(_workers(n), n) for n in WORKERS]
        configs.append((f"16 workers + {EXITED} exited", 16 + EXITED))
        for name, workers in configs:
            directory = root / name.replace(" ", "_")
            directory.mkdir()
            self._fill(directory, workers)
            registry = CollectorRegistry()
            collector = MultiProcessCollector(registry, path=str(directory))  # type: ignore[no-untyped-call]
            self.scrapes[name] = (registry, collector, workers)

    def _fill(self, directory: Path, workers: int) -> None:
        """Each worker writes its own ``histogram_<id>.db``, as under gunicorn (one id each)."""
        from prometheus_client import Histogram, values

        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
        for worker in range(workers):
            ident = 1000 + worker
            values.ValueClass = values.MultiProcessValue(  # type: ignore[no-untyped-call]
                process_identifier=lambda i=ident: i
            )
            histogram = Histogram(
                "http_server_request_duration_seconds",
                "Duration of HTTP server requests.",
                ["http_request_method", "http_route", "http_response_status_code", "url_scheme"],
                buckets=self.bounds,
                registry=None,
            )
            for method, route, status, scheme in self.labels:
                child = histogram.labels(method, route, str(status), scheme)
                for _ in range(PER_SERIES):
                    child.observe(self.next_value())
        values.close_all_multiprocess_files()  # type: ignore[no-untyped-call]

    def scrape(self, config: str, reps: int) -> dict[str, Any]:
        from prometheus_client import generate_latest

        registry, collector, workers = self.scrapes[config]
        ms = []
        body = b""
        for _ in range(reps):
            t0 = time.perf_counter()
            body = generate_latest(registry)
            ms.append((time.perf_counter() - t0) * 1e3)
        t0 = time.perf_counter()
        list(collector.collect())  # the read and merge alone, once
        return {
            "ms": median(ms),
            "merge_ms": (time.perf_counter() - t0) * 1e3,
            "bytes": len(body),
            "counted": counted(body, "http_server_request_duration_seconds"),
            "expected": workers * SERIES * PER_SERIES,
        }

    def close(self) -> None:
        pass


def driver(impl: str) -> None:
    """Serve ``scrape <config> <reps>`` lines from stdin, one JSON line each."""
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {SCRAPE_CPU})
    root = Path(tempfile.mkdtemp(prefix=f"bench-scrape-{impl}-"))
    try:
        found: OursDriver | PromDriver = (
            OursDriver(root, max(WORKERS)) if impl == "otelmetrics" else PromDriver(root)
        )
        try:
            print("ready", flush=True)
            for line in sys.stdin:
                _, config, reps = line.rstrip("\n").split("\t")
                print(json.dumps(found.scrape(config, int(reps))), flush=True)
        finally:
            found.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)


class Driver:
    """One implementation's driver process, asked line by line."""

    def __init__(self, impl: str) -> None:
        self.impl = impl
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--driver", impl],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        if self._line() != "ready":
            raise RuntimeError(f"{impl} driver did not start")

    def ask(self, config: str, reps: int) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(f"scrape\t{config}\t{reps}\n")
        self.process.stdin.flush()
        result: dict[str, Any] = json.loads(self._line())
        return result

    def _line(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.impl} driver exited ({self.process.wait()})")
        return line.strip()

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(60)


def measure(rounds: int, reps: int) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    configs = [_workers(n) for n in WORKERS] + [f"16 workers + {EXITED} exited"]
    cases = [(impl, config) for config in configs for impl in ("otelmetrics", "prometheus_client")]
    cases.append(("otelmetrics", "fold"))
    drivers = {impl: Driver(impl) for impl in ("otelmetrics", "prometheus_client")}
    samples: dict[str, list[dict[str, Any]]] = {f"{i}\t{c}": [] for i, c in cases}
    problems: list[str] = []
    try:
        for impl, config in cases:  # warm-up
            drivers[impl].ask(config, 1)
        for turn in range(rounds):
            for impl, config in rotated(cases, turn):
                result = drivers[impl].ask(config, reps)
                samples[f"{impl}\t{config}"].append(result)
                if result["counted"] != result["expected"]:
                    problems.append(
                        f"COUNT MISMATCH: {impl} {config}: the scrape counts "
                        f"{result['counted']:.0f} requests, {result['expected']} were recorded"
                    )
            print(f"round {turn} done", flush=True)
    finally:
        for d in drivers.values():
            d.close()
    return samples, problems


def summarize(samples: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    rows = []
    prom = {
        key.split("\t")[1]: median([s["ms"] for s in xs])
        for key, xs in samples.items()
        if key.startswith("prometheus_client")
    }
    for key, xs in samples.items():
        impl, config = key.split("\t")
        ms = [s["ms"] for s in xs]
        merge = [s["merge_ms"] for s in xs if s["merge_ms"] is not None]
        label = f"16 workers + {EXITED} exited, first scrape (folds {EXITED})"
        rows.append(
            {
                "impl": impl,
                "config": label if config == "fold" else config,
                "ms_median": median(ms),
                "ms_min": min(ms),
                "ms_max": max(ms),
                "merge_ms": median(merge) if merge else None,
                "bytes": xs[-1]["bytes"],
                "vs_prometheus_client": (
                    median(ms) / prom[config] if config in prom and impl == "otelmetrics" else None
                ),
                "counted": xs[-1]["counted"],
                "arenas_after": xs[-1].get("arenas_after"),
            }
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--reps", type=int, default=3, help="scrapes per ask (median kept)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 rounds of 2")
    parser.add_argument("--driver", help=argparse.SUPPRESS)
    parser.add_argument("--out", help="JSON results path (default bench/results/scrape_cost.json)")
    args = parser.parse_args()
    if args.driver:
        driver(args.driver)
        return 0
    if args.quick:
        args.rounds, args.reps = 2, 2
    env_info = _common.environment()
    print(f"# scrape_cost.py — {_common.describe(env_info)}\n")
    started = time.perf_counter()
    samples, problems = measure(args.rounds, args.reps)
    rows = summarize(samples)
    headers = [
        "impl",
        "workers",
        "ms/scrape",
        "min-max",
        "read+merge ms",
        "ours / prometheus_client",
        "bytes",
    ]
    table = [
        (
            r["impl"],
            r["config"],
            r["ms_median"],
            f"{r['ms_min']:.1f}-{r['ms_max']:.1f}",
            "" if r["merge_ms"] is None else round(r["merge_ms"], 2),
            "" if r["vs_prometheus_client"] is None else f"{r['vs_prometheus_client']:.2f}x",
            r["bytes"],
        )
        for r in rows
    ]
    print(
        f"\n## One scrape of N workers x {SERIES} histogram series ({args.rounds} interleaved "
        f"rounds x {args.reps} scrapes; medians)\n"
    )
    print(markdown(headers, table) + "\n")
    print(f"wall time {time.perf_counter() - started:.0f} s")
    data = {"environment": env_info, "args": vars(args), "summary": rows, "raw": samples}
    out = _common.save("scrape_cost", {**data, "problems": problems}, args.out)
    print(f"\nwrote {out}")
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
