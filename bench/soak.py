"""Soak: the trading demo under its own load generator, watched for growth.

Runs ``otelmetrics demo`` in this process (``otelmetrics.demo.service.run`` in a thread: both
apps, the simulation and the load generator, on free ports) for ``--duration`` seconds, and every
``--interval`` seconds samples the process: RSS, the Python heap as tracemalloc traces it,
threads and open file descriptors. After ``--warmup`` seconds it takes a tracemalloc baseline;
every ``--report-every`` seconds and at the end it prints the heap growth since the baseline
by file, then the slope of each series (least squares after the warm-up, and per half, so a
plateau shows as a second half flatter than the first).

Not a test: a measurement (see bench/README.md, "Soak"). Usage::

    .venv/bin/python bench/soak.py                      # 10 minutes
    nice -n 10 .venv/bin/python bench/soak.py --duration 3900 > soak.log 2>&1 &
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import sys
import sysconfig
import threading
import time
import tracemalloc
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results" / "soak.json"
SERIES = ("rss_mb", "heap_mb", "threads", "fds")


@dataclass(frozen=True)
class Sample:
    t: float  # seconds since the demo started
    rss_mb: float
    heap_mb: float  # tracemalloc's traced size (0 when tracing is off)
    threads: int
    fds: int


def sample(process: psutil.Process, started: float) -> Sample:
    heap = tracemalloc.get_traced_memory()[0] if tracemalloc.is_tracing() else 0
    return Sample(
        t=round(time.monotonic() - started, 1),
        rss_mb=round(process.memory_info().rss / 2**20, 2),
        heap_mb=round(heap / 2**20, 2),
        threads=process.num_threads(),
        fds=process.num_fds(),
    )


def slope_per_min(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of ``(seconds, value)`` points, per minute."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_v = sum(v for _, v in points) / n
    var = sum((t - mean_t) ** 2 for t, _ in points)
    cov = sum((t - mean_t) * (v - mean_v) for t, v in points)
    return 60 * cov / var if var else 0.0


def _portable(path: str) -> str:
    """A file as the report shows it: relative to the repository or to its site-packages or
    standard library, never this machine's absolute path."""
    for root, shown in (
        (str(ROOT) + "/", ""),
        (sysconfig.get_path("purelib") + "/", "<site>/"),
        (sysconfig.get_path("stdlib") + "/", "<stdlib>/"),
    ):
        if path.startswith(root):
            return shown + path[len(root) :]
    return path


def growth_by_file(baseline: tracemalloc.Snapshot | None, top: int) -> list[str]:
    if baseline is None or not tracemalloc.is_tracing():
        return []
    ignore = (tracemalloc.Filter(False, tracemalloc.__file__),)
    now = tracemalloc.take_snapshot().filter_traces(ignore)
    stats = now.compare_to(baseline.filter_traces(ignore), "filename")
    return [
        f"  {s.size_diff / 1024:+9.1f} KiB {s.count_diff:+8d} blocks  "
        f"{_portable(s.traceback[0].filename)}"
        for s in stats[:top]
    ]


class Sampler(threading.Thread):
    """Samples every ``interval`` s until ``done`` is set; baseline after ``warmup`` s."""

    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__(name="soak-sampler", daemon=True)
        self.args = args
        self.done = threading.Event()
        self.samples: list[Sample] = []
        self.baseline: tracemalloc.Snapshot | None = None
        self.reports: list[dict[str, object]] = []

    def run(self) -> None:
        process, started = psutil.Process(), time.monotonic()
        next_report = self.args.warmup + self.args.report_every
        while True:
            s = sample(process, started)
            self.samples.append(s)
            print(
                f"t={s.t:7.0f}s rss={s.rss_mb:7.2f}MB heap={s.heap_mb:7.2f}MB "
                f"threads={s.threads:3d} fds={s.fds:4d}",
                flush=True,
            )
            if self.baseline is None and s.t >= self.args.warmup and tracemalloc.is_tracing():
                self.baseline = tracemalloc.take_snapshot()
            elif self.baseline is not None and s.t >= next_report:
                next_report += self.args.report_every
                self.report(f"heap growth by file since t={self.args.warmup:.0f}s, at t={s.t:.0f}s")
            if self.done.wait(self.args.interval):
                return

    def report(self, title: str) -> None:
        lines = growth_by_file(self.baseline, self.args.top)
        self.reports.append({"title": title, "lines": lines})
        print(title, *lines, sep="\n", flush=True)


def summary(samples: list[Sample], warmup: float, end: float) -> dict[str, dict[str, float]]:
    """Each series between the warm-up and ``end`` (the demo's shutdown is not growth)."""
    after = [s for s in samples if warmup <= s.t <= end] or samples
    half = len(after) // 2
    out = {}
    for name in SERIES:
        points = [(s.t, float(getattr(s, name))) for s in after]
        out[name] = {
            "first": points[0][1],
            "last": points[-1][1],
            "slope_per_min": round(slope_per_min(points), 4),
            "first_half_slope_per_min": round(slope_per_min(points[:half]), 4),
            "second_half_slope_per_min": round(slope_per_min(points[half:]), 4),
        }
    return out


def print_summary(table: dict[str, dict[str, float]], warmup: float) -> None:
    print(f"\nslopes after the {warmup:.0f} s warm-up (per minute):")
    print("| series | at warm-up | at end | slope | 1st half | 2nd half |")
    print("|---|---|---|---|---|---|")
    for name, row in table.items():
        print(
            f"| {name} | {row['first']:g} | {row['last']:g} | {row['slope_per_min']:+.4f} "
            f"| {row['first_half_slope_per_min']:+.4f} | {row['second_half_slope_per_min']:+.4f} |"
        )


def run_demo(duration: float, seed: int) -> None:
    from otelmetrics.demo.options import DemoOptions
    from otelmetrics.demo.service import run

    options = DemoOptions(dashboard_port=0, api_port=0, seed=seed, duration=duration)
    banner = io.StringIO()
    run(options, out=banner)
    print(banner.getvalue(), file=sys.stderr)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--duration", type=float, default=600.0, help="seconds of demo (default 600)")
    add("--interval", type=float, default=10.0, help="seconds between samples (default 10)")
    add("--warmup", type=float, default=120.0, help="seconds before the baseline (default 120)")
    add("--report-every", type=float, default=600.0, help="heap growth report every N s")
    add("--top", type=int, default=12, help="files in each heap growth report")
    add("--frames", type=int, default=1, help="tracemalloc frames; 0 turns tracing off")
    add("--seed", type=int, default=7, help="the demo's seed (default 7)")
    add("--results", type=Path, default=RESULTS, help=f"raw samples (default {RESULTS})")
    add("--quick", action="store_true", help="a 60 s smoke run (warm-up 20 s)")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.warmup, args.report_every = 60.0, 20.0, 30.0
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    if args.frames > 0:
        tracemalloc.start(args.frames)
    sampler = Sampler(args)
    sampler.start()
    wall = time.monotonic()
    # In a thread of its own, so run() neither takes over SIGTERM nor arms its exit timer for
    # this process; Ctrl-C here ends the soak early and still prints what was measured.
    demo = threading.Thread(target=run_demo, args=(args.duration, args.seed), daemon=True)
    demo.start()
    try:
        while demo.is_alive():
            demo.join(1.0)
    except KeyboardInterrupt:
        print("interrupted: reporting what was measured", file=sys.stderr)
    sampler.done.set()
    sampler.join()
    sampler.report(f"heap growth by file since t={args.warmup:.0f}s, at the end")
    table = summary(sampler.samples, args.warmup, args.duration)
    print_summary(table, args.warmup)
    args.results.parent.mkdir(exist_ok=True)
    args.results.write_text(
        json.dumps(
            {
                "args": {**vars(args), "results": str(args.results)},
                "wall_s": round(time.monotonic() - wall, 1),
                "pid": os.getpid(),
                "summary": table,
                "reports": sampler.reports,
                "samples": [asdict(s) for s in sampler.samples],
            },
            indent=1,
        )
    )
    print(f"raw samples: {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
