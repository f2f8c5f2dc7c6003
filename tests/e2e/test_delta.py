"""Delta temporality through the shipped collector: nothing lost, nothing counted twice.

Prometheus's OTLP receiver rejects delta sums and histograms, so an app exporting with
OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta relies on the collector's
delta_to_cumulative processor (collector/otelcol-config.yaml). Each export carries only the
requests since the previous one; the counts in Prometheus must still be exact, and stay exact
over later exports (an empty or repeated delta must not change them). Behind agents the
gateways add the deltas up: routing by resource gives each stream one gateway.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.e2e.harness import (
    Binaries,
    Collector,
    Prometheus,
    poll_until,
    start_app,
)
from tests.e2e.otlp import DELTA as DELTA_POINTS
from tests.e2e.otlp import now_ns, post, sum_request
from tests.e2e.test_pipeline import (
    DURATION,
    ITEMS_ROUTE,
    SLEEP_ROUTE,
    new_instance_id,
    selector,
    wait_for_value,
)
from tests.e2e.test_topologies import start_gateway_topology

DELTA = {"OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE": "delta"}


def start_delta_app(
    collector: Collector, workdir: Path, spawn: Callable[[Any], Any]
) -> tuple[Any, str]:
    """The e2e Flask app exporting with delta temporality to ``collector``, and its instance."""
    instance = new_instance_id()
    app = start_app(
        workdir / "apps", collector, service_name="e2e-flask", instance_id=instance, extra_env=DELTA
    )
    return spawn(app), instance


def test_delta_exports_arrive_in_prometheus_as_exact_cumulative_counts(
    collector: Collector, prometheus: Prometheus, workdir: Path, spawn: Callable[[Any], Any]
) -> None:
    app, instance = start_delta_app(collector, workdir, spawn)
    count = f"sum({DURATION}_count{selector(instance, ITEMS_ROUTE)})"
    # Three bursts with export intervals (1 s) between them: three deltas to add up.
    sent = 0
    for burst in (11, 7, 19):
        for item_id in range(burst):
            assert app.get(f"/items/{item_id}")[0] == 200
        sent += burst
        wait_for_value(prometheus, count, sent)
    # Later exports carry no new requests: the total holds.
    time.sleep(4)
    assert prometheus.value(count) == sent
    # The deltas went through the processor: it tracks this app's streams.
    tracked = collector.own_metrics()
    streams = [v for k, v in tracked.items() if k.startswith("otelcol_deltatocumulative_streams_")]
    assert streams and max(streams) > 0, sorted(tracked)


def test_delta_histograms_keep_exact_buckets(
    collector: Collector, prometheus: Prometheus, workdir: Path, spawn: Callable[[Any], Any]
) -> None:
    app, instance = start_delta_app(collector, workdir, spawn)
    series = selector(instance, SLEEP_ROUTE)
    # Far from the bucket bounds (0.025, 0.075, 0.25, 0.5), as in test_pipeline.py; two rounds,
    # so the buckets of a later delta add to the earlier ones.
    plan = {0: 5, 40: 3, 300: 2}
    for round_number in (1, 2):
        for milliseconds, requests in plan.items():
            for _ in range(requests):
                assert app.get(f"/sleep/{milliseconds}")[0] == 200
        wait_for_value(prometheus, f"sum({DURATION}_count{series})", 10 * round_number)

    def buckets_exact() -> None:
        buckets = {
            labels["le"]: value for labels, value in prometheus.query(f"{DURATION}_bucket{series}")
        }
        assert buckets["0.025"] == 2 * plan[0], buckets
        assert buckets["0.25"] == 2 * (plan[0] + plan[40]), buckets
        assert buckets["0.5"] == buckets["+Inf"] == 20, buckets

    poll_until(buckets_exact, "the delta histogram's buckets, added up", timeout=15)
    recorded = prometheus.value(f"sum({DURATION}_sum{series})")
    assert 2 * (0.04 * 3 + 0.3 * 2) <= recorded < 5, recorded


RESOURCES = 8  # SDK processes behind the agent; 2**-7 odds that all hash to one gateway
DELTAS = 4  # delta points per series, 1 s apart


def test_behind_agents_the_gateways_add_each_streams_deltas_up(
    binaries: Binaries, workdir: Path, spawn: Callable[[Any], Any]
) -> None:
    prometheus, gateways, agent = start_gateway_topology(binaries, workdir / "delta-gateway", spawn)
    run = uuid.uuid4().hex[:8]
    metric = f"e2e_delta_points_{run}"
    instances = [f"delta-{run}-{i:02d}" for i in range(RESOURCES)]
    start = now_ns() - 60 * 10**9
    # Each delta covers the second since the previous one: 1 + 2 + 3 + 4 = 10 per series.
    for k in range(1, DELTAS + 1):
        for instance in instances:
            request = sum_request(
                service_name="e2e-delta",
                instance_id=instance,
                metric=metric,
                value=float(k),
                start_ns=start + (k - 1) * 10**9,
                time_ns=start + k * 10**9,
                temporality=DELTA_POINTS,
            )
            assert post(agent.http_endpoint, request) == 200

    def totals_in_prometheus() -> None:
        got = {
            labels["service_instance_id"]: value
            for labels, value in prometheus.query(f"{metric}_total")
        }
        assert got == dict.fromkeys(instances, 10.0), got

    poll_until(totals_in_prometheus, f"the deltas of {metric} added up", timeout=40)
    # Both gateways added up a share; the agent kept none (it passes deltas through).
    tracked = [_streams(gateway.own_metrics()) for gateway in gateways]
    assert all(share > 0 for share in tracked), tracked
    assert _streams(agent.own_metrics()) == 0


def _streams(own: dict[str, float]) -> float:
    """Streams the collector's delta_to_cumulative tracks (0 when it has none)."""
    return sum(
        v for k, v in own.items() if k.startswith("otelcol_deltatocumulative_streams_tracked")
    )
