import logging
import time
from itertools import accumulate

import pytest
from flask import Blueprint, Flask, Response

import otelmetrics
from otelmetrics.flask import OtelMetrics
from otelmetrics.instruments.http import DURATION_BOUNDS


def make_app(metrics, **config):
    app = Flask("t")
    app.config.update(config)

    @app.get("/items/<int:item_id>")
    def item(item_id):
        return {"id": item_id}

    @app.post("/orders")
    def orders():
        return {"ok": True}, 201

    @app.get("/boom")
    def boom():
        raise ValueError("boom")

    @app.get("/sleep/<int:ms>")
    def sleep(ms):
        time.sleep(ms / 1000)
        return "slept"

    @app.get("/stream")
    def stream():
        def chunks():
            for _ in range(3):
                time.sleep(0.02)
                yield "x"

        return Response(chunks())

    bp = Blueprint("admin", __name__, url_prefix="/admin")

    @bp.get("/users/<name>")
    def user(name):
        return name

    app.register_blueprint(bp)
    OtelMetrics(app, handle=metrics.handle)
    return app


def test_route_templates_never_raw_paths(metrics):
    client = make_app(metrics).test_client()
    for i in range(7):
        client.get(f"/items/{i}")
    client.get("/admin/users/alice")
    assert metrics.count(http_route="/items/<int:item_id>", http_response_status_code=200) == 7
    assert metrics.count(http_route="/admin/users/<name>") == 1
    routes = {
        p.attributes.get("http.route") for p in metrics.points("http.server.request.duration")
    }
    assert routes == {"/items/<int:item_id>", "/admin/users/<name>"}


def test_route_found_when_a_middleware_in_between_copies_the_environ(metrics):
    app = Flask("t")

    @app.get("/items/<int:item_id>")
    def item(item_id):
        return {"id": item_id}

    inner = app.wsgi_app
    app.wsgi_app = lambda environ, start_response: inner(dict(environ), start_response)
    OtelMetrics(app, handle=metrics.handle)
    client = app.test_client()
    for i in range(3):
        assert client.get(f"/items/{i}").status_code == 200
    assert metrics.count(http_route="/items/<int:item_id>", http_response_status_code=200) == 3


def test_unmatched_requests_share_one_series(metrics):
    client = make_app(metrics).test_client()
    for path in ("/nope", "/a/b/c", "/items/not-an-int"):
        client.get(path)
    points = metrics.points("http.server.request.duration", http_response_status_code=404)
    assert len(points) == 1 and points[0].count == 3
    assert "http.route" not in points[0].attributes


def test_exception_counts_as_500_with_its_type(metrics, caplog):
    client = make_app(metrics).test_client()
    with caplog.at_level(logging.CRITICAL, logger="t"):
        assert client.get("/boom").status_code == 500
    [point] = metrics.points("http.server.request.duration", http_route="/boom")
    assert point.attributes["http.response.status_code"] == 500
    assert point.attributes["error.type"] == "ValueError"


def test_propagated_exception_is_recorded_too(metrics):
    client = make_app(metrics, TESTING=True).test_client()
    with pytest.raises(ValueError):
        client.get("/boom")
    [point] = metrics.points("http.server.request.duration", error_type="ValueError")
    assert point.attributes["http.response.status_code"] == 500
    assert metrics.points("http.server.active_requests")[0].value == 0


def test_exact_counts_and_bucket_counts(metrics):
    client = make_app(metrics).test_client()
    for ms in (1, 1, 30, 30, 30, 120):
        client.get(f"/sleep/{ms}")
    [point] = metrics.points("http.server.request.duration", http_route="/sleep/<int:ms>")
    assert point.count == 6
    assert list(point.explicit_bounds) == list(DURATION_BOUNDS)
    bounds = [*DURATION_BOUNDS, float("inf")]
    upto = dict(zip(bounds, accumulate(point.bucket_counts), strict=True))  # cumulative
    # A sleep never lands below its own duration; the upper side leaves room for a loaded CI
    # machine (the 1 ms sleeps are expected in the first bucket, but asserted within 25 ms).
    assert upto[0.025] == 2  # the two 1 ms sleeps, and nothing slower
    assert upto[0.1] - upto[0.025] <= 3 and upto[0.1] <= 5  # the 30 ms ones, never the 120
    assert point.count - upto[0.1] >= 1  # 120 ms
    assert 0.18 < point.sum < 1.0
    assert point.min >= 0.001 and point.max >= 0.12


def test_streaming_is_timed_to_the_end_of_the_body(metrics):
    client = make_app(metrics).test_client()
    response = client.get("/stream")
    assert response.data == b"xxx"  # consuming and closing the body ends the request
    response.close()
    [point] = metrics.points("http.server.request.duration", http_route="/stream")
    assert point.count == 1 and point.sum >= 0.06


def test_body_sizes_and_methods(metrics):
    client = make_app(metrics).test_client()
    client.post("/orders", data=b"x" * 300)
    client.open("/orders", method="BREW")
    [size] = metrics.points("http.server.request.body.size", http_request_method="POST")
    assert size.sum == 300
    assert metrics.count(http_request_method="_OTHER") == 1


def test_metrics_endpoint_is_excluded_and_serves_prometheus_text(metrics):
    client = make_app(metrics).test_client()
    client.get("/items/1")
    body = client.get("/metrics").get_data(as_text=True)
    assert "http_server_request_duration_seconds_count{" in body
    assert 'http_route="/items/<int:item_id>"' in body
    client.get("/metrics")
    assert metrics.count() == 1  # neither scrape was counted
    assert "process_memory_usage_bytes" in body


def test_instrument_is_idempotent_and_uninstrument_symmetric(metrics, caplog):
    app = make_app(metrics)
    OtelMetrics(app, handle=metrics.handle)
    assert "already instrumented" in caplog.text
    client = app.test_client()
    client.get("/items/1")
    assert metrics.count() == 1
    OtelMetrics.uninstrument_app(app)
    client.get("/items/1")
    assert metrics.count() == 1
    assert client.get("/metrics").status_code == 404
    OtelMetrics(app, handle=metrics.handle)
    client.get("/items/1")
    assert metrics.count() == 2


def test_app_factory_with_init_app(metrics):
    extension = OtelMetrics(handle=metrics.handle)

    def create_app():
        app = Flask("factory")
        app.add_url_rule("/ping", "ping", lambda: "pong")
        extension.init_app(app)
        return app

    for app in (create_app(), create_app()):
        app.test_client().get("/ping")
    assert metrics.count(http_route="/ping") == 2


def test_instrument_detects_flask(metrics):
    app = Flask("detect")
    app.add_url_rule("/x", "x", lambda: "x")
    assert otelmetrics.instrument(app, handle=metrics.handle) is app
    app.test_client().get("/x")
    assert metrics.count(http_route="/x") == 1
    otelmetrics.uninstrument(app)
    assert "otelmetrics" not in app.extensions


def test_instrument_rejects_other_objects():
    with pytest.raises(TypeError, match="Flask and FastAPI"):
        otelmetrics.instrument(object())
