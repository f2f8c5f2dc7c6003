"""Push OTLP at rising rates through the shipped collector config and see where it stops keeping up.

The real pipeline on this machine: the built collector (scripts/build-binaries) running
collector/otelcol-config.yaml, exporting into a real Prometheus 3 (OTLP receiver), fed by this
script over OTLP/HTTP from several threads. For each offered rate (data points per second) it
reports what the collector accepted and exported, what it refused, its sending queue, RSS and
CPU, and Prometheus's CPU. A second scenario (``backlog``) keeps Prometheus away and measures
how the sending queue and memory grow until the collector drops or refuses data.

    .venv/bin/python bench/collector_load.py            # ramp + backlog, about 4 minutes
    .venv/bin/python bench/collector_load.py --quick    # a smoke run, under a minute

Not a test: it reports, never asserts timings. It exits non-zero only when the measurement
itself broke (a process died, nothing arrived). Results: bench/results/collector_load.json.
All processes share this machine's CPUs with the load generator: read the numbers as "this
pipeline on N cores", not as the collector alone (docs/collector-tuning.md).
"""

from __future__ import annotations

import argparse
import http.client
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo, for tests.e2e

from _common import environment, markdown, save  # noqa: E402
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (  # noqa: E402
    ExportMetricsServiceRequest,
)

from tests.e2e.harness import (  # noqa: E402
    Collector,
    Prometheus,
    build_binaries,
    free_port,
    start_collector,
    start_prometheus,
    sum_samples,
)
from tests.e2e.otlp import sum_request  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Sender:
    """Threads posting OTLP metric requests at a target rate of data points per second.

    Each thread owns ``slots`` resources (SDK instances) of ``points`` series each and sends
    them round-robin with fresh timestamps and growing cumulative values, like SDKs exporting
    on an interval. Counts 200s and the rest.
    """

    def __init__(self, endpoint: str, threads: int, points: int, slots: int) -> None:
        self.host, _, port = endpoint.removeprefix("http://").partition(":")
        self.port = int(port)
        self.threads = threads
        self.points = points
        self.slots = slots
        self.lock = threading.Lock()
        self.accepted = 0
        self.refused = 0
        self.errors = 0
        self.requests: list[list[ExportMetricsServiceRequest]] = [
            [
                sum_request(
                    service_name="bench",
                    instance_id=f"bench-{t}-{s}",
                    metric="bench_points",
                    value=0.0,
                    start_ns=time.time_ns(),
                    time_ns=time.time_ns(),
                    series=points,
                )
                for s in range(slots)
            ]
            for t in range(threads)
        ]

    def run(self, rate: float, seconds: float) -> None:
        stop = time.monotonic() + seconds
        interval = self.threads * self.points / rate
        workers = [
            threading.Thread(target=self._worker, args=(t, interval, stop))
            for t in range(self.threads)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    def _worker(self, thread: int, interval: float, stop: float) -> None:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
        turn = 0
        next_send = time.monotonic() + interval * thread / self.threads
        try:
            while next_send < stop:
                delay = next_send - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                request = self.requests[thread][turn % self.slots]
                now = time.time_ns()
                value = float(turn // self.slots + 1)
                for point in (
                    request.resource_metrics[0].scope_metrics[0].metrics[0].sum.data_points
                ):
                    point.time_unix_nano = now
                    point.as_double = value
                status = self._post(connection, request.SerializeToString())
                with self.lock:
                    if status == 200:
                        self.accepted += self.points
                    elif status:
                        self.refused += self.points
                    else:
                        self.errors += self.points
                turn += 1
                next_send += interval
                if next_send < time.monotonic() - 1:  # fell behind by > 1s: do not burst
                    next_send = time.monotonic()
        finally:
            connection.close()

    def _post(self, connection: http.client.HTTPConnection, body: bytes) -> int:
        try:
            connection.request(
                "POST", "/v1/metrics", body, {"Content-Type": "application/x-protobuf"}
            )
            response = connection.getresponse()
            response.read()
            return response.status
        except (OSError, http.client.HTTPException):
            connection.close()
            return 0

    def take(self) -> tuple[int, int, int]:
        with self.lock:
            counts = self.accepted, self.refused, self.errors
            self.accepted = self.refused = self.errors = 0
        return counts


def collector_counters(collector: Collector) -> dict[str, float]:
    own = collector.own_metrics()
    prom = 'exporter="otlp_http/prometheus"'
    return {
        "accepted": sum_samples(own, "otelcol_receiver_accepted_metric_points"),
        "refused": sum_samples(own, "otelcol_receiver_refused_metric_points"),
        "sent": sum_samples(own, "otelcol_exporter_sent_metric_points", prom),
        "send_failed": sum_samples(own, "otelcol_exporter_send_failed_metric_points", prom),
        "enqueue_failed": sum_samples(own, "otelcol_exporter_enqueue_failed_metric_points", prom),
        "queue": sum_samples(own, "otelcol_exporter_queue_size", prom),
        "capacity": sum_samples(own, "otelcol_exporter_queue_capacity", prom),
        "limiter_refused": sum_samples(
            own, "otelcol_processor_memory_limiter_refused_metric_points"
        ),
        "heap_mib": sum_samples(own, "otelcol_process_runtime_heap_alloc_bytes") / 2**20,
    }


def pid(process: Any) -> int:
    return int(process.process.popen.pid)


def measure_step(
    sender: Sender,
    collector: Collector,
    prometheus: Prometheus | None,
    rate: float,
    seconds: float,
) -> dict[str, Any]:
    """Offer ``rate`` points/s for ``seconds``; sample queue and RSS every second."""
    before = collector_counters(collector)
    cpu_before = cpu_seconds(pid(collector))
    prom_cpu_before = cpu_seconds(pid(prometheus)) if prometheus else 0.0
    sender.take()
    samples: list[dict[str, float]] = []
    load = threading.Thread(target=sender.run, args=(rate, seconds))
    started = time.monotonic()
    load.start()
    while load.is_alive():
        load.join(timeout=1.0)
        counters = collector_counters(collector)
        counters["rss_mib"] = rss_mib(pid(collector))
        samples.append(counters)
    elapsed = time.monotonic() - started
    accepted, refused, errors = sender.take()
    # Count what the step's data did once the exporter caught up (batches still in flight at
    # the end of the step belong to it), without holding the next step up for long.
    if prometheus is not None:
        drain(collector)
    after = collector_counters(collector)

    def per_second(key: str) -> float:
        return (after[key] - before[key]) / elapsed

    return {
        "offered_pps": rate,
        "client_accepted_pps": accepted / elapsed,
        "client_refused_pps": refused / elapsed,
        "client_errors_pps": errors / elapsed,
        # Below the offered rate without refusals: this script could not send faster.
        "generator_limited": (accepted + refused + errors) / elapsed < 0.95 * rate,
        "collector_accepted_pps": per_second("accepted"),
        "exported_pps": per_second("sent"),
        "collector_refused_pps": per_second("refused"),
        "limiter_refused_pps": per_second("limiter_refused"),
        "dropped_pps": per_second("enqueue_failed"),
        "send_failed_pps": per_second("send_failed"),
        "queue_max": max(s["queue"] for s in samples),
        "queue_end": after["queue"],
        "queue_capacity": after["capacity"],
        "rss_max_mib": max(s["rss_mib"] for s in samples),
        "heap_max_mib": max(s["heap_mib"] for s in samples),
        "collector_cpu": (cpu_seconds(pid(collector)) - cpu_before) / elapsed,
        "prometheus_cpu": (
            (cpu_seconds(pid(prometheus)) - prom_cpu_before) / elapsed if prometheus else 0.0
        ),
        "seconds": elapsed,
    }


def drain(collector: Collector, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and collector_counters(collector)["queue"] > 0:
        time.sleep(0.5)


def keeps_up(step: dict[str, Any]) -> bool:
    """Everything offered was accepted and exported, nothing refused or dropped, no backlog."""
    offered = step["offered_pps"]
    return (
        step["client_accepted_pps"] >= 0.95 * offered
        and step["exported_pps"] >= 0.99 * step["collector_accepted_pps"]
        and step["client_refused_pps"] == step["client_errors_pps"] == 0
        and step["dropped_pps"] == 0
        and step["queue_end"] < 0.1 * step["queue_capacity"]
    )


def ramp(binaries: Any, root: Path, rates: list[float], seconds: float) -> list[dict[str, Any]]:
    prometheus = start_prometheus(binaries, root / "prometheus")
    collector = start_collector(binaries, root, "ramp", prometheus=prometheus)
    sender = Sender(collector.http_endpoint, threads=4, points=1000, slots=5)
    steps = []
    try:
        for rate in rates:
            step = measure_step(sender, collector, prometheus, rate, seconds)
            step["keeps_up"] = keeps_up(step)
            steps.append(step)
            print(
                f"  {rate:>9,.0f} pts/s offered: {step['client_accepted_pps']:>9,.0f} accepted,"
                f" {step['exported_pps']:>9,.0f} exported, queue max {step['queue_max']:,.0f},"
                f" RSS {step['rss_max_mib']:.0f} MiB, collector CPU {step['collector_cpu']:.2f},"
                f" Prometheus CPU {step['prometheus_cpu']:.2f}"
                + (" (generator-limited)" if step["generator_limited"] else ""),
                flush=True,
            )
            if not collector.process.running:
                raise SystemExit(f"collector died:\n{collector.process.log_tail()}")
    finally:
        collector.stop()
        prometheus.stop()
    return steps


def backlog(
    binaries: Any, root: Path, rate: float, seconds: float, env: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Prometheus unreachable: the queue fills, then the queue or the memory limiter gives."""
    collector = start_collector(
        binaries,
        root,
        "backlog",
        env={
            "OTELCOL_PROMETHEUS_OTLP_ENDPOINT": f"http://127.0.0.1:{free_port()}/api/v1/otlp",
            **(env or {}),
        },
    )
    sender = Sender(collector.http_endpoint, threads=2, points=1000, slots=5)
    samples = []
    try:
        for _ in range(int(seconds / 5)):
            step = measure_step(sender, collector, None, rate, 5)
            samples.append(step)
            print(
                f"  queue {step['queue_end']:>9,.0f}/{step['queue_capacity']:,.0f},"
                f" RSS {step['rss_max_mib']:.0f} MiB, heap {step['heap_max_mib']:.0f} MiB,"
                f" dropped {step['dropped_pps']:,.0f}/s,"
                f" refused {step['collector_refused_pps']:,.0f}/s"
                f" (memory_limiter {step['limiter_refused_pps']:,.0f}/s)",
                flush=True,
            )
    finally:
        collector.kill()  # its queue holds data for a backend that never comes
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run (short steps)")
    parser.add_argument("--seconds", type=float, help="seconds per rate step (default 15)")
    parser.add_argument("--output", help="JSON path (default bench/results/collector_load.json)")
    args = parser.parse_args()
    seconds = args.seconds or (4 if args.quick else 15)
    rates = (
        [5_000.0, 40_000.0]
        if args.quick
        else [10_000.0, 40_000.0, 160_000.0, 320_000.0, 640_000.0, 1_280_000.0]
    )
    binaries = build_binaries()
    with tempfile.TemporaryDirectory(prefix="collector-load-") as tmp:
        root = Path(tmp)
        print(f"ramp: {len(rates)} steps of {seconds:.0f}s, 1000-point requests, 4 senders")
        steps = ramp(binaries, root / "ramp", rates, seconds)
        backlog_seconds = 20 if args.quick else 60
        print("backlog: Prometheus unreachable, 20,000 points/s offered, shipped limits")
        filling = backlog(binaries, root / "backlog", 20_000.0, backlog_seconds)
        # The same with a queue too large for the memory: the memory_limiter must step in.
        limiter_env = {
            "OTELCOL_PROMETHEUS_QUEUE_SIZE": "5000000",
            "OTELCOL_MEMORY_LIMIT_MIB": "200",
            "OTELCOL_MEMORY_SPIKE_LIMIT_MIB": "50",
            "GOMEMLIMIT": "160MiB",
        }
        print(f"limiter: as backlog, 40,000 points/s, with {limiter_env}")
        limited = backlog(binaries, root / "limiter", 40_000.0, backlog_seconds, limiter_env)

    sustainable = max((s["offered_pps"] for s in steps if s["keeps_up"]), default=0.0)
    first_refusal = next(
        (s["offered_pps"] for s in steps if s["client_refused_pps"] or s["dropped_pps"]), None
    )
    print()
    print(
        markdown(
            [
                "offered pts/s",
                "accepted",
                "exported",
                "refused",
                "queue max",
                "RSS MiB",
                "collector CPU",
                "Prometheus CPU",
                "keeps up",
                "generator-limited",
            ],
            [
                [
                    s["offered_pps"],
                    s["client_accepted_pps"],
                    s["exported_pps"],
                    s["client_refused_pps"],
                    s["queue_max"],
                    s["rss_max_mib"],
                    s["collector_cpu"],
                    s["prometheus_cpu"],
                    "yes" if s["keeps_up"] else "no",
                    "yes" if s["generator_limited"] else "no",
                ]
                for s in steps
            ],
        )
    )
    print(f"\nsustainable: {sustainable:,.0f} points/s; first refusal at: {first_refusal}")
    out = save(
        "collector_load",
        {
            "environment": environment(),
            "ramp": steps,
            "backlog": filling,
            "limiter": {"env": limiter_env, "samples": limited},
            "sustainable_pps": sustainable,
            "first_refusal_pps": first_refusal,
        },
        args.output,
    )
    print(f"results: {out}")
    if not any(s["exported_pps"] for s in steps):
        raise SystemExit("nothing was exported: the measurement is broken")


if __name__ == "__main__":
    main()
