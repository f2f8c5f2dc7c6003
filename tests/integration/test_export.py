"""What leaves the process: OTLP over HTTP and gRPC, console, temporality, aggregation."""

import time

import pytest
from flask import Flask

import otelmetrics
from otelmetrics.instruments.http import DURATION_BOUNDS

DURATION = "http.server.request.duration"


def serve_requests(handle, n, path="/items/1"):
    app = Flask("export")
    app.add_url_rule("/items/<int:item_id>", "item", lambda item_id: "ok")
    otelmetrics.instrument(app, handle=handle)
    client = app.test_client()
    for _ in range(n):
        client.get(path)


def latest_count(received, **attributes):
    points = [p for _, p, attrs in received.points(DURATION) if attributes.items() <= attrs.items()]
    return points[-1].count if points else 0


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
def test_otlp_export_delivers_exact_counts_and_resource(protocol, http_receiver, grpc_receiver):
    receiver = http_receiver if protocol == "http/protobuf" else grpc_receiver
    handle = otelmetrics.configure(
        exporters=("otlp",),
        otlp_endpoint=receiver.endpoint,
        otlp_protocol=protocol,
        otlp_headers={"api-key": "k"},
        service_name="orders",
        environment="test",
        set_global=False,
    )
    serve_requests(handle, 25)
    handle.meter_provider.force_flush()
    handle.shutdown()
    received = receiver.received
    assert latest_count(received, **{"http.route": "/items/<int:item_id>"}) == 25
    resource, point, attrs = received.points(DURATION)[-1]
    assert resource["service.name"] == "orders"
    assert resource["deployment.environment.name"] == "test"
    assert resource["service.instance.id"] == handle.instance_id
    assert "host.name" in resource and resource["process.pid"] > 0
    assert list(point.explicit_bounds) == list(DURATION_BOUNDS)
    assert sum(point.bucket_counts) == 25
    assert attrs == {
        "http.request.method": "GET",
        "http.route": "/items/<int:item_id>",
        "http.response.status_code": 200,
        "url.scheme": "http",
    }
    assert received.headers[-1]["api-key"] == "k"
    names = {
        m.name
        for r in received.requests
        for g in r.resource_metrics
        for s in g.scope_metrics
        for m in s.metrics
    }
    assert "process.memory.usage" in names, names


def test_delta_temporality_exports_only_what_is_new(http_receiver):
    handle = otelmetrics.configure(
        exporters=("otlp",),
        otlp_endpoint=http_receiver.endpoint,
        temporality="delta",
        set_global=False,
    )
    serve_requests(handle, 3)
    handle.meter_provider.force_flush()
    serve_requests(handle, 2)
    handle.meter_provider.force_flush()
    handle.shutdown()
    points = [p for _, p, _ in http_receiver.received.points(DURATION)]
    assert [p.count for p in points][:2] == [3, 2]
    assert points[1].start_time_unix_nano == points[0].time_unix_nano
    assert not points[1].HasField("min")  # the interval's extremes are unknown, so unset


def test_exponential_histograms_over_otlp_explicit_for_prometheus(http_receiver):
    handle = otelmetrics.configure(
        exporters=("otlp", "prometheus"),
        otlp_endpoint=http_receiver.endpoint,
        histogram_aggregation="base2_exponential_bucket_histogram",
        set_global=False,
    )
    serve_requests(handle, 10)
    handle.meter_provider.force_flush()
    from otelmetrics.pipeline import prometheus

    _, body, _ = prometheus.render(handle.prometheus_reader, None)
    handle.shutdown()
    [(_, point, _)] = http_receiver.received.points(DURATION)[-1:]
    assert point.count == 10 and point.scale <= 20
    assert sum(point.positive.bucket_counts) + point.zero_count == 10
    assert b"http_server_request_duration_seconds_bucket{" in body
    assert b'le="0.005"' in body


def test_console_exporter_prints_metrics(capsys):
    handle = otelmetrics.configure(exporters=("console",), set_global=False)
    serve_requests(handle, 1)
    handle.meter_provider.force_flush()
    handle.shutdown()
    assert DURATION in capsys.readouterr().out


def test_no_exporter_means_no_reader_and_no_endpoint():
    handle = otelmetrics.configure(exporters=("none",), set_global=False)
    app = Flask("none")
    otelmetrics.instrument(app, handle=handle)
    assert app.test_client().get("/metrics").status_code == 404
    handle.shutdown()


def test_sdk_disabled_instruments_nothing():
    handle = otelmetrics.configure(sdk_disabled=True, set_global=False)
    app = Flask("disabled")
    original = app.wsgi_app
    otelmetrics.instrument(app, handle=handle)
    assert app.wsgi_app == original and "otelmetrics" not in app.extensions
    handle.shutdown()


def test_unreachable_endpoint_never_blocks_requests_and_shutdown_is_bounded(caplog):
    from tests.integration.processes import free_port

    handle = otelmetrics.configure(
        exporters=("otlp",),
        otlp_endpoint=f"http://127.0.0.1:{free_port()}",
        export_interval=0.05,
        otlp_timeout=30,
        set_global=False,
    )
    started = time.monotonic()
    serve_requests(handle, 200)
    elapsed = time.monotonic() - started
    time.sleep(0.3)  # several failing export attempts happen in the background meanwhile
    began = time.monotonic()
    handle.shutdown(timeout=2)
    assert time.monotonic() - began < 3.0
    assert elapsed < 5.0  # 200 requests; an export on the request path would take minutes


def test_slow_endpoint_shutdown_is_bounded():
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # accepts connections, never answers
    port = listener.getsockname()[1]
    handle = otelmetrics.configure(
        exporters=("otlp",),
        otlp_endpoint=f"http://127.0.0.1:{port}",
        otlp_timeout=60,
        set_global=False,
    )
    serve_requests(handle, 5)
    began = time.monotonic()
    handle.shutdown(timeout=1)
    assert time.monotonic() - began < 2.0
    listener.close()
