"""Tracing on: spans from the official instrumentors, exemplars on our histogram, one count."""

import pytest
from fastapi import FastAPI
from flask import Flask
from opentelemetry import trace
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.testclient import TestClient

import otelmetrics
from tests.conftest import Metrics


@pytest.fixture
def spans(monkeypatch):
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: provider)
    return exporter


@pytest.fixture
def traced_metrics():
    reader = InMemoryMetricReader()
    handle = otelmetrics.configure(
        exporters=("prometheus",),
        metric_readers=[reader],
        traces_exporter="console",
        set_global=False,
    )
    yield Metrics(handle, reader)
    handle.shutdown()


def flask_client(handle):
    app = Flask("traced")
    app.add_url_rule("/items/<int:i>", "item", lambda i: "ok")
    otelmetrics.instrument(app, handle=handle)
    return app.test_client(), app


def fastapi_client(handle):
    app = FastAPI()
    app.add_api_route("/items/{i}", lambda i: "ok")
    otelmetrics.instrument(app, handle=handle)
    return TestClient(app), app


@pytest.mark.parametrize("make", [flask_client, fastapi_client], ids=["flask", "fastapi"])
def test_exemplars_link_histogram_points_to_spans(make, spans, traced_metrics):
    client, app = make(traced_metrics.handle)
    for i in range(3):
        client.get(f"/items/{i}")
    finished = {(s.context.trace_id, s.context.span_id) for s in spans.get_finished_spans()}
    [point] = traced_metrics.points("http.server.request.duration", http_response_status_code=200)
    assert point.count == 3  # the instrumentor's own metrics go to a no-op provider
    assert point.exemplars
    for exemplar in point.exemplars:
        assert (exemplar.trace_id, exemplar.span_id) in finished
    otelmetrics.uninstrument(app)
