"""The rolling window's cost: recording with it, querying it, and the memory it holds.

Run:  .venv/bin/python bench/window.py            (about 30 s; --quick for a smoke run)

1. Recording: ``start()+finish()`` for one request with the window on (the default) and off,
   over micro.py's request mix; timeit medians of ``--repeats`` rotated rounds.
2. A snapshot query: ``RollingWindow.view()`` (counts + p50/p95/p99) and ``Stats.current()``
   (the whole seed-001 dict, psutil included) on a full 300 s window, next to what the hand-made
   monitors did per query: sort 10,000 raw samples, or ``numpy.percentile`` of that list.
3. Memory per tracked series at 10, 100 and 1000 requests/s: the window's latency counts
   (``nbytes``) and tracemalloc's view of the whole window, next to a deque of 10,000 raw
   (timestamp, latency) samples; and the per-route windows at their cap (100 routes).

Prints Markdown tables and writes bench/results/window.json.
"""

from __future__ import annotations

import argparse
import gc
import random
import timeit
import tracemalloc
from collections import deque
from collections.abc import Callable
from typing import Any

import _common
import numpy
from _common import markdown, median, rotated
from micro import REQUEST_MIX

from otelmetrics.core.routes import ROUTE_LIMIT, RouteWindows
from otelmetrics.core.window import RollingWindow
from otelmetrics.insights.routes import route_rows

QUERY_TARGET_US = 50.0
MEMORY_TARGET_BYTES = 8 * 1024
RAW_SAMPLES = 10_000


def _handle(window: bool, routes: bool = True) -> Any:
    import otelmetrics

    handle = otelmetrics.configure(exporters=("none",), process_metrics=False, set_global=False)
    if not window:
        handle.stats.stop()  # its sampler reads the window
        handle.http.window = None
    if not routes:
        handle.http.routes = None  # before the first request: no series holds a route window
    return handle


def _recorder(http: Any) -> Callable[[], None]:
    mix = [REQUEST_MIX[i % len(REQUEST_MIX)] for i in range(1024)]
    position = [0]

    def one() -> None:
        args = mix[position[0] & 1023]
        position[0] += 1
        http.finish(http.start(args[0], args[3]), *args)

    return one


def bench_recording(repeats: int, number: int) -> list[list[Any]]:
    cases = {
        "window and route windows on (the default)": _handle(True),
        "window on, route windows off": _handle(True, routes=False),
        "window off": _handle(False),
    }
    timers = {name: timeit.Timer(_recorder(h.http)) for name, h in cases.items()}
    samples: dict[str, list[float]] = {name: [] for name in timers}
    for timer in timers.values():
        timer.timeit(number // 10)
    for turn in range(repeats):
        for name in rotated(list(timers), turn):
            gc.collect()
            samples[name].append(timers[name].timeit(number) / number * 1e9)
    for handle in cases.values():
        handle.shutdown()
    off = median(samples["window off"])
    return [
        [f"start()+finish(), {name}", median(xs), median(xs) - off] for name, xs in samples.items()
    ]


def _full_window(per_second: int, seed: int = 3) -> RollingWindow:
    rng = random.Random(seed)
    window, now = RollingWindow(300), 0.0
    for i in range(300 * per_second):
        now += 1 / per_second
        window.add(rng.lognormvariate(-4.0, 0.7), 500 if i % 40 == 0 else 200, now)
    return window


def _full_routes(routes: int, per_second: int) -> RouteWindows:
    table = RouteWindows(300, limit=routes + 1)
    for route in range(routes):
        table.windows[f"/route/{route}"] = _full_window(per_second, seed=route)
    return table


def bench_queries(repeats: int) -> list[list[Any]]:
    routes = _full_routes(ROUTE_LIMIT, 10)
    window = _full_window(100)
    now = 300.0
    rng = random.Random(5)
    raw = [rng.lognormvariate(-4.0, 0.7) for _ in range(RAW_SAMPLES)]
    handle = _handle(True)
    handle.http.window = window
    handle.stats._monotonic = lambda: now
    cases: dict[str, Callable[[], Any]] = {
        "RollingWindow.view(): counts + p50/p95/p99": lambda: window.view(now),
        "Stats.current(): the seed-001 snapshot": handle.stats.current,
        f"route_rows(): the /routes table of {ROUTE_LIMIT} routes": lambda: route_rows(
            routes.views(now)
        ),
        "raw samples: sorted() + 3 ranks (10,000)": lambda: sorted(raw)[9899],
        "raw samples: numpy.percentile of the list (10,000)": lambda: numpy.percentile(
            raw, [50, 95, 99]
        ),
    }
    results = {}
    for name, call in cases.items():
        timer = timeit.Timer(call)
        timer.timeit(20)
        results[name] = median([timer.timeit(200) / 200 * 1e6 for _ in range(repeats)])
    handle.shutdown()
    ours = results["RollingWindow.view(): counts + p50/p95/p99"]
    return [[name, us, us / ours] for name, us in results.items()]


def _traced(build: Callable[[], Any]) -> int:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = build()
    size = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    del kept
    return size


def bench_memory() -> list[list[Any]]:
    rows = []
    for per_second in (10, 100, 1000):
        window = _full_window(per_second)
        whole = _traced(lambda ps=per_second: _full_window(ps))
        rows.append([f"rolling window, {per_second} req/s", window.nbytes(), whole])
    rng = random.Random(9)
    raw = _traced(
        lambda: deque(
            ((float(i), rng.lognormvariate(-4.0, 0.7)) for i in range(RAW_SAMPLES)),
            maxlen=RAW_SAMPLES,
        )
    )
    rows.append([f"deque of {RAW_SAMPLES:,} raw (ts, latency) samples", raw, raw])
    table = _full_routes(ROUTE_LIMIT, 10)
    whole = _traced(lambda: _full_routes(ROUTE_LIMIT, 10))
    rows.append([f"route windows: {ROUTE_LIMIT} routes at 10 req/s each", table.nbytes(), whole])
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run, not a measurement")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    repeats, number = (2, 5_000) if args.quick else (args.repeats, 100_000)
    env = _common.environment()
    print(f"# Rolling window ({_common.describe(env)})\n")
    recording = bench_recording(repeats, number)
    print(markdown(["recording", "ns per request", "ns added by the window"], recording))
    queries = bench_queries(repeats)
    print()
    print(markdown(["snapshot query", "µs", "× view()"], queries))
    view_us = queries[0][1]
    print(f"\nview() ≤ {QUERY_TARGET_US:.0f} µs: {_common.verdict(view_us <= QUERY_TARGET_US)}")
    memory = bench_memory()
    print()
    print(markdown(["memory per tracked series", "latency counts (B)", "tracemalloc (B)"], memory))
    worst = max(row[1] for row in memory[:3])
    print(f"\ncounts ≤ 8 KB at every rate: {_common.verdict(worst <= MEMORY_TARGET_BYTES)}")
    _common.save(
        "window", {"env": env, "recording": recording, "queries": queries, "memory": memory}
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
