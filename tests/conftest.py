"""Shared fixtures: a clean environment, and a fresh handle + in-memory reader per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

import otelmetrics


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by its tier folder, so ``-m "not e2e"`` selects the fast tiers."""
    for item in items:
        for tier in ("integration", "e2e", "browser", "fuzz"):
            if f"/tests/{tier}/" in str(item.path):
                item.add_marker(tier)


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No OTEL_* / OTELMETRICS_* variable of the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith(("OTEL_", "OTELMETRICS_")):
            monkeypatch.delenv(name)


ATTRIBUTE_NAMES = {
    "http_request_method": "http.request.method",
    "http_route": "http.route",
    "http_response_status_code": "http.response.status_code",
    "url_scheme": "url.scheme",
    "error_type": "error.type",
}


class Metrics:
    """A handle and its in-memory reader, with helpers to read data points."""

    def __init__(self, handle: otelmetrics.MetricsHandle, reader: InMemoryMetricReader) -> None:
        self.handle = handle
        self.reader = reader

    def collect(self) -> dict[str, list[Any]]:
        """Metric name -> its data points, from one collection."""
        found: dict[str, list[Any]] = {}
        data = self.reader.get_metrics_data()
        for group in data.resource_metrics if data else ():
            for scope in group.scope_metrics:
                for metric in scope.metrics:
                    found.setdefault(metric.name, []).extend(metric.data.data_points)
        return found

    def points(self, name: str, **attributes: Any) -> list[Any]:
        """Points of ``name`` whose attributes include ``attributes`` (``http_route=...``)."""
        wanted = {ATTRIBUTE_NAMES.get(key, key): value for key, value in attributes.items()}
        return [
            point
            for point in self.collect().get(name, [])
            if all(point.attributes.get(k) == v for k, v in wanted.items())
        ]

    def count(self, name: str = "http.server.request.duration", **attributes: Any) -> int:
        return sum(point.count for point in self.points(name, **attributes))


@pytest.fixture
def metrics() -> Iterator[Metrics]:
    reader = InMemoryMetricReader()
    handle = otelmetrics.configure(
        exporters=("prometheus",),
        metric_readers=[reader],
        set_global=False,
        service_name="test-service",
    )
    yield Metrics(handle, reader)
    handle.shutdown()
