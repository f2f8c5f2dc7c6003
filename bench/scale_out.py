"""Size the scale-out store: what one Thanos receiver sustains, its memory per active series,
and what replication costs.

The real store on this machine (tests/e2e/store.py: the built thanos, the flags of
docker-compose.scale.yml), fed OTLP/HTTP straight into a router's /api/v1/otlp by the threads
of bench/collector_load.py (the collector tier is sized in docs/collector-tuning.md):

1. ``single``: one router and one ingestor, replication factor 1. Rising offered rates; per
   step the points accepted, the samples the ingestor appended, and the CPU of each process.
2. ``replicated``: one router and the shipped 3 ingestors, replication factor 2, same rates.
   Replication's cost is the difference per point (CPU, samples written, forward requests).
3. ``series``: the single ingestor with more and more active series (a few samples each);
   RSS and Go heap against the head's series count, fitted to MiB per million series.

    .venv/bin/python bench/scale_out.py            # about 5 minutes
    .venv/bin/python bench/scale_out.py --quick    # a smoke run, about 2 minutes

Not a test: it reports, never asserts timings. It exits non-zero only when the measurement
broke (a process died, nothing was stored). Results: bench/results/scale_out.json. The load
generator shares this machine's 2 CPUs with Thanos: "sustained" here is the whole machine's
ceiling, so docs/scale-out.md sizes from CPU-seconds per point, which do not depend on it.
"""

from __future__ import annotations

import argparse
import http.client
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo, for tests.e2e

from _common import environment, markdown, save  # noqa: E402
from collector_load import Sender, cpu_seconds, rss_mib  # noqa: E402

from tests.e2e.harness import http_get, parse_prometheus_text, sum_samples  # noqa: E402
from tests.e2e.store import (  # noqa: E402
    Thanos,
    start_ingestor,
    start_router,
    stopped_on_error,
    thanos_binary,
    write_hashring,
)

APPENDED = "prometheus_tsdb_head_samples_appended_total"
HEAD_SERIES = "prometheus_tsdb_head_series"


class ReceiveSender(Sender):
    """bench/collector_load.py's sender, posting to Receive's OTLP path."""

    def __init__(self, endpoint: str, prefix: str, **shape: int) -> None:
        super().__init__(endpoint, **shape)
        for t, requests in enumerate(self.requests):  # distinct resources per sender
            for s, request in enumerate(requests):
                resource = request.resource_metrics[0].resource
                resource.attributes[1].value.string_value = f"{prefix}-{t}-{s}"

    def _post(self, connection: http.client.HTTPConnection, body: bytes) -> int:
        try:
            connection.request(
                "POST", "/api/v1/otlp", body, {"Content-Type": "application/x-protobuf"}
            )
            response = connection.getresponse()
            response.read()
            return response.status
        except (OSError, http.client.HTTPException):
            connection.close()
            return 0


@dataclass
class Topology:
    router: Thanos
    ingestors: list[Thanos]
    replication_factor: int

    def stop(self) -> None:
        for thanos in (self.router, *self.ingestors):
            thanos.stop()


def start_topology(binary: Path, root: Path, ingestors: int, rf: int) -> Topology:
    with stopped_on_error() as started:
        nodes = [started(start_ingestor(binary, root, n)) for n in range(1, ingestors + 1)]
        hashring = write_hashring(root / "hashring.json", [n.grpc_endpoint for n in nodes])
        router = start_router(binary, root, 1, hashring, replication_factor=rf)
    return Topology(router, nodes, rf)


def own_metrics(thanos: Thanos) -> dict[str, float]:
    status, body = http_get(f"{thanos.url}/metrics", timeout=10)
    assert status == 200, f"{thanos.process.name} /metrics answered {status}"
    return parse_prometheus_text(body.decode())


def pid(thanos: Thanos) -> int:
    assert thanos.process.popen is not None, f"{thanos.process.name} is not running"
    return thanos.process.popen.pid


def counters(topology: Topology) -> dict[str, float]:
    ingestors = [own_metrics(n) for n in topology.ingestors]
    router = own_metrics(topology.router)
    return {
        "appended": sum(sum_samples(m, APPENDED) for m in ingestors),
        "head_series": sum(sum_samples(m, HEAD_SERIES) for m in ingestors),
        "forwards": sum_samples(router, "thanos_receive_forward_requests_total"),
        "router_cpu": cpu_seconds(pid(topology.router)),
        "ingestor_cpu": sum(cpu_seconds(pid(n)) for n in topology.ingestors),
        "ingestor_rss": sum(rss_mib(pid(n)) for n in topology.ingestors),
        "ingestor_heap": sum(sum_samples(m, "go_memstats_heap_inuse_bytes") for m in ingestors)
        / 2**20,
        "router_rss": rss_mib(pid(topology.router)),
    }


def measure_step(sender: Sender, topology: Topology, rate: float, seconds: float) -> dict[str, Any]:
    """Offer ``rate`` points/s for ``seconds``; what was accepted, stored and spent."""
    sender.take()
    before, started = counters(topology), time.monotonic()
    sender.run(rate, seconds)
    elapsed = time.monotonic() - started
    accepted, refused, errors = sender.take()
    time.sleep(1)  # the last requests' replica writes count for this step
    after = counters(topology)

    def delta(key: str) -> float:
        return after[key] - before[key]

    return {
        "offered_pps": rate,
        "accepted_pps": accepted / elapsed,
        "refused_pps": refused / elapsed,
        "errors_pps": errors / elapsed,
        "appended_sps": delta("appended") / elapsed,
        # Sent less than offered, nothing refused: this script could not send faster.
        "generator_limited": (accepted + refused + errors) / elapsed < 0.95 * rate,
        "forwards_per_s": delta("forwards") / elapsed,
        "router_cores": delta("router_cpu") / elapsed,
        "ingestor_cores": delta("ingestor_cpu") / elapsed,
        "ingestor_rss_mib": after["ingestor_rss"],
        "router_rss_mib": after["router_rss"],
        "seconds": elapsed,
    }


def keeps_up(step: dict[str, Any], rf: int) -> bool:
    """Everything offered was accepted, and every accepted point stored ``rf`` times."""
    return bool(
        step["accepted_pps"] >= 0.97 * step["offered_pps"]
        and step["refused_pps"] == step["errors_pps"] == 0
        and step["appended_sps"] >= 0.97 * rf * step["accepted_pps"]
    )


def ramp(topology: Topology, rates: list[float], seconds: float) -> list[dict[str, Any]]:
    sender = ReceiveSender(
        topology.router.otlp_url.removesuffix("/api/v1/otlp"),
        f"ramp-rf{topology.replication_factor}",
        # Many senders: each waits for the router's answer (quorum written) before its next
        # request, so few of them measure the latency, not the receiver.
        threads=12,
        points=2000,
        slots=2,
    )
    measure_step(sender, topology, rates[0], 3)  # warm-up: series created, caches filled
    steps = []
    for rate in rates:
        step = measure_step(sender, topology, rate, seconds)
        step["keeps_up"] = keeps_up(step, topology.replication_factor)
        steps.append(step)
        print(
            f"  {rate:>9,.0f} offered: {step['accepted_pps']:>9,.0f} accepted,"
            f" {step['appended_sps']:>9,.0f} samples appended, router"
            f" {step['router_cores']:.2f} cores, ingestors {step['ingestor_cores']:.2f} cores"
            + (" (generator-limited)" if step["generator_limited"] else ""),
            flush=True,
        )
    return steps


def series_memory(topology: Topology, levels: list[int]) -> list[dict[str, float]]:
    """Active series in steps of ``levels``; each gets 3 samples before RSS is read."""
    endpoint = topology.router.otlp_url.removesuffix("/api/v1/otlp")
    points: list[dict[str, float]] = []
    created = 0
    for level in levels:
        threads, slots = 4, max(1, (level - created) // (4 * 5000))
        sender = ReceiveSender(
            endpoint, f"series-{level}", threads=threads, points=5000, slots=slots
        )
        for _ in range(3):  # rate far above what it can send: as fast as it goes
            sender.run(10**7, 1.0 * threads * slots * 5000 / 100_000)
        created += threads * slots * 5000
        time.sleep(3)
        state = counters(topology)
        points.append(
            {
                "series": state["head_series"],
                "rss_mib": state["ingestor_rss"],
                "heap_mib": state["ingestor_heap"],
            }
        )
        print(
            f"  {state['head_series']:>9,.0f} series: RSS {state['ingestor_rss']:,.0f} MiB,"
            f" heap {state['ingestor_heap']:,.0f} MiB",
            flush=True,
        )
    return points


def slope(points: list[dict[str, float]], key: str) -> float:
    """Least-squares MiB per series of ``key`` over the measured levels."""
    xs, ys = [p["series"] for p in points], [p[key] for p in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    num = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    den = sum((x - mean_x) ** 2 for x in xs)
    return num / den if den else 0.0


def cost_per_million(steps: list[dict[str, Any]]) -> dict[str, float]:
    """CPU core-seconds per million points accepted, over the steps that kept up."""
    kept = [s for s in steps if s["keeps_up"]] or steps
    points = sum(s["accepted_pps"] * s["seconds"] for s in kept) / 1e6
    return {
        "router_core_s": sum(s["router_cores"] * s["seconds"] for s in kept) / points,
        "ingestor_core_s": sum(s["ingestor_cores"] * s["seconds"] for s in kept) / points,
        "samples_per_point": sum(s["appended_sps"] for s in kept)
        / sum(s["accepted_pps"] for s in kept),
    }


def run_topology(
    binary: Path, root: Path, ingestors: int, rf: int, rates: list[float], seconds: float
) -> list[dict[str, Any]]:
    print(f"{ingestors} ingestor(s), replication factor {rf}: {len(rates)} steps of {seconds:.0f}s")
    topology = start_topology(binary, root, ingestors, rf)
    try:
        return ramp(topology, rates, seconds)
    finally:
        topology.stop()


def summary(
    single: list[dict[str, Any]], replicated: list[dict[str, Any]], memory: list[dict[str, float]]
) -> dict[str, Any]:
    one, two = cost_per_million(single), cost_per_million(replicated)
    receiver_core_s = one["router_core_s"] + one["ingestor_core_s"]
    return {
        "sustained_single_pps": max(
            (s["offered_pps"] for s in single if s["keeps_up"]), default=0.0
        ),
        "sustained_replicated_pps": max(
            (s["offered_pps"] for s in replicated if s["keeps_up"]), default=0.0
        ),
        "single_cost": one,
        "replicated_cost": two,
        "points_per_core_single": 1e6 / receiver_core_s,
        "replication_cpu_ratio": (two["router_core_s"] + two["ingestor_core_s"]) / receiver_core_s,
        "rss_mib_per_million_series": slope(memory, "rss_mib") * 1e6,
        "heap_mib_per_million_series": slope(memory, "heap_mib") * 1e6,
        "largest_series_measured": max(p["series"] for p in memory),
    }


def report(steps: dict[str, list[dict[str, Any]]], result: dict[str, Any]) -> None:
    headers = [
        "topology",
        "offered pts/s",
        "accepted",
        "samples/s",
        "router cores",
        "ingestor cores",
        "ingestor RSS MiB",
        "keeps up",
    ]
    rows = [
        [
            name,
            s["offered_pps"],
            s["accepted_pps"],
            s["appended_sps"],
            s["router_cores"],
            s["ingestor_cores"],
            s["ingestor_rss_mib"],
            "yes" if s["keeps_up"] else "no",
        ]
        for name, ramp_steps in steps.items()
        for s in ramp_steps
    ]
    print()
    print(markdown(headers, rows))
    for key, value in result.items():
        print(f"{key}: {value}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run (short steps)")
    parser.add_argument("--output", help="JSON path (default bench/results/scale_out.json)")
    args = parser.parse_args()
    seconds = 5.0 if args.quick else 15.0
    rates = [20_000.0, 60_000.0] if args.quick else [20_000.0, 60_000.0, 120_000.0, 200_000.0]
    levels = [40_000, 120_000] if args.quick else [80_000, 240_000, 400_000, 560_000]
    binary = thanos_binary()
    with tempfile.TemporaryDirectory(prefix="scale-out-bench-") as tmp:
        root = Path(tmp)
        single = run_topology(binary, root / "single", 1, 1, rates, seconds)
        replicated = run_topology(binary, root / "replicated", 3, 2, rates, seconds)
        print(f"active series on one ingestor: {levels}")
        topology = start_topology(binary, root / "series", 1, 1)
        try:
            memory = series_memory(topology, levels)
        finally:
            topology.stop()
    result = summary(single, replicated, memory)
    steps = {"single RF1": single, "3 ingestors RF2": replicated}
    report(steps, result)
    out = save(
        "scale_out",
        {"environment": environment(), **steps, "series_memory": memory, "summary": result},
        args.output,
    )
    print(f"results: {out}")
    if not any(s["appended_sps"] for s in single):
        raise SystemExit("nothing was stored: the measurement is broken")


if __name__ == "__main__":
    main()
