"""Session fixtures: the real collector, Prometheus and Alertmanager on 127.0.0.1.

They are built (first run) or found (cached) by scripts/build-binaries, started once per
session on free ports in a temp dir, and always stopped at the end. Tests that need their own
topology (fan-out, gateways, faults) start extra processes with the same helpers and the
``spawn`` fixture, which stops them after the test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import (
    Alertmanager,
    Binaries,
    Collector,
    Prometheus,
    WebhookReceiver,
    build_binaries,
    start_alertmanager,
    start_collector,
    start_prometheus,
)


@pytest.fixture(scope="session")
def binaries() -> Binaries:
    return build_binaries()


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pipeline")


@pytest.fixture(scope="session")
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.fixture(scope="session")
def alertmanager(
    binaries: Binaries, workdir: Path, webhook: WebhookReceiver
) -> Iterator[Alertmanager]:
    alertmanager = start_alertmanager(binaries, workdir / "alertmanager", webhook.url)
    yield alertmanager
    alertmanager.stop()


@pytest.fixture(scope="session")
def prometheus(
    binaries: Binaries, workdir: Path, alertmanager: Alertmanager
) -> Iterator[Prometheus]:
    prometheus = start_prometheus(
        binaries,
        workdir / "prometheus",
        alertmanager_targets=[f"127.0.0.1:{alertmanager.port}"],
    )
    yield prometheus
    prometheus.stop()


@pytest.fixture(scope="session")
def collector(binaries: Binaries, workdir: Path, prometheus: Prometheus) -> Iterator[Collector]:
    """The shipped single-node config (collector/otelcol-config.yaml), defaults but addresses."""
    collector = start_collector(binaries, workdir / "collector", "main", prometheus=prometheus)
    prometheus.set_targets("otel-collector", [collector.metrics_target])
    yield collector
    collector.stop()


@pytest.fixture
def spawn() -> Iterator[Callable[[Any], Any]]:
    """Register anything with a ``stop()`` to be stopped after the test, in reverse order."""
    started: list[Any] = []

    def register(thing: Any) -> Any:
        started.append(thing)
        return thing

    yield register
    for thing in reversed(started):
        thing.stop()
