"""Gateway topology: agent (load_balancing exporter) -> two gateway collectors -> Prometheus.

Both tiers run the shipped files: otelcol-config.yaml + gateway-agent.yaml for the agent,
otelcol-config.yaml + gateway.yaml for each gateway.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.e2e.harness import (
    Binaries,
    Collector,
    Prometheus,
    poll_until,
    start_collector,
    start_prometheus,
    sum_samples,
)
from tests.e2e.otlp import now_ns, post, sum_request

RESOURCES = 16  # SDK processes (service.instance.id); 2**-15 odds that all hash to one gateway
POINTS_PER_RESOURCE = 5  # cumulative points per series, one per request, 1s apart


def start_gateway_topology(
    binaries: Binaries, root: Path, spawn: Callable[[Any], Any]
) -> tuple[Prometheus, list[Collector], Collector]:
    """Prometheus, two gateways pushing into it, and an agent balancing between them, each on the
    shipped files; the agent comes last."""
    prometheus: Prometheus = spawn(start_prometheus(binaries, root / "prometheus"))
    gateways = [
        spawn(
            start_collector(
                binaries,
                root,
                f"gateway-{n}",
                configs=("otelcol-config.yaml", "gateway.yaml"),
                prometheus=prometheus,
            )
        )
        for n in (1, 2)
    ]
    endpoints = ", ".join(g.grpc_endpoint for g in gateways)
    agent = spawn(
        start_collector(
            binaries,
            root,
            "agent",
            configs=("otelcol-config.yaml", "gateway-agent.yaml"),
            env={"OTELCOL_GATEWAY_ENDPOINTS": f"[{endpoints}]"},
        )
    )
    return prometheus, gateways, agent


def test_gateway_topology_delivers_every_point_exactly_once(
    binaries: Binaries, workdir: Path, spawn: Callable[[Any], Any]
) -> None:
    prometheus, gateways, agent = start_gateway_topology(binaries, workdir / "gateway", spawn)
    prometheus.set_targets("otel-collector", [c.metrics_target for c in (agent, *gateways)])

    run = uuid.uuid4().hex[:8]
    metric = f"e2e_gateway_points_{run}"
    instances = [f"gw-{run}-{i:02d}" for i in range(RESOURCES)]
    start = now_ns() - 60 * 10**9
    for k in range(1, POINTS_PER_RESOURCE + 1):
        for instance in instances:
            request = sum_request(
                service_name="e2e-gateway",
                instance_id=instance,
                metric=metric,
                value=10.0 * k,
                start_ns=start,
                time_ns=start + k * 10**9,
            )
            assert post(agent.http_endpoint, request) == 200
    sent = RESOURCES * POINTS_PER_RESOURCE

    # Prometheus: every series has all of its points (one sample per timestamp) and the last
    # cumulative value.
    def all_points_in_prometheus() -> None:
        samples = prometheus.query(f"count_over_time({metric}_total[15m])")
        got = {labels["service_instance_id"]: value for labels, value in samples}
        assert got == dict.fromkeys(instances, POINTS_PER_RESOURCE), got

    poll_until(all_points_in_prometheus, f"{sent} points of {metric} in Prometheus", timeout=40)
    last = prometheus.query(f"{metric}_total")
    assert sorted(v for _, v in last) == [10.0 * POINTS_PER_RESOURCE] * RESOURCES

    # The collectors' own counters: nothing lost, nothing duplicated on the way. The agent's
    # load_balancing exporter sent each point once; the two gateways together accepted exactly
    # that many, both got a share (routing by resource spreads processes), and each exported
    # all it accepted.
    agent_metrics = agent.own_metrics()
    assert sum_samples(agent_metrics, "otelcol_receiver_accepted_metric_points") == sent
    assert (
        sum_samples(
            agent_metrics, "otelcol_exporter_sent_metric_points", 'exporter="load_balancing"'
        )
        == sent
    )
    assert sum_samples(agent_metrics, "otelcol_exporter_send_failed_metric_points") == 0

    def gateways_exported_everything() -> list[float]:
        shares = []
        for gateway in gateways:
            own = gateway.own_metrics()
            accepted = sum_samples(own, "otelcol_receiver_accepted_metric_points")
            exported = sum_samples(
                own, "otelcol_exporter_sent_metric_points", 'exporter="otlp_http/prometheus"'
            )
            assert exported == accepted, f"{gateway.process.name}: {exported} of {accepted}"
            shares.append(accepted)
        assert sum(shares) == sent, shares
        return shares

    shares = poll_until(gateways_exported_everything, "gateways to export all they accepted")
    assert all(share > 0 for share in shares), f"one gateway got nothing: {shares}"
