"""Delta temporality through the shipped collector: nothing lost, nothing counted twice.

Prometheus's OTLP receiver rejects delta sums and histograms, so an app exporting with
OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta relies on the collector's
delta_to_cumulative processor (collector/otelcol-config.yaml). Each export carries only the
requests since the previous one; the counts in Prometheus must still be exact, and stay exact
over later exports (an empty or repeated delta must not change them).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.e2e.harness import Collector, Prometheus, poll_until, start_app
from tests.e2e.test_pipeline import (
    DURATION,
    ITEMS_ROUTE,
    SLEEP_ROUTE,
    new_instance_id,
    selector,
    wait_for_value,
)

DELTA = {"OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE": "delta"}


def test_delta_exports_arrive_in_prometheus_as_exact_cumulative_counts(
    collector: Collector, prometheus: Prometheus, workdir: Path, spawn: Callable[[Any], Any]
) -> None:
    instance = new_instance_id()
    app = spawn(
        start_app(
            workdir / "apps",
            collector,
            service_name="e2e-flask",
            instance_id=instance,
            extra_env=DELTA,
        )
    )
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
    instance = new_instance_id()
    app = spawn(
        start_app(
            workdir / "apps",
            collector,
            service_name="e2e-flask",
            instance_id=instance,
            extra_env=DELTA,
        )
    )
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
