import asyncio

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.responses import StreamingResponse
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

import otelmetrics
from otelmetrics.fastapi import OtelMetricsMiddleware, instrument_app, uninstrument_app

LOOPBACK = ("127.0.0.1", 50000)  # scrapes from loopback need no token


def make_app(metrics):
    app = FastAPI()

    @app.get("/items/{item_id}")
    async def item(item_id: int):
        return {"id": item_id}

    @app.get("/boom")
    async def boom():
        raise ValueError("boom")

    @app.get("/stream")
    async def stream():
        async def chunks():
            for _ in range(3):
                await asyncio.sleep(0.02)
                yield b"x"

        return StreamingResponse(chunks())

    router = APIRouter(prefix="/v1")

    @router.post("/orders/{order_id}")
    async def order(order_id: str):
        return {"id": order_id}

    app.include_router(router)
    sub = FastAPI()

    @sub.get("/quotes/{symbol}")
    async def quote(symbol: str):
        return {"symbol": symbol}

    app.mount("/market", sub)
    instrument_app(app, handle=metrics.handle)
    return app


@pytest.fixture
def client(metrics):
    with TestClient(make_app(metrics), raise_server_exceptions=False, client=LOOPBACK) as client:
        yield client


def test_route_templates_for_routes_routers_and_mounts(metrics, client):
    for i in range(5):
        client.get(f"/items/{i}")
    client.post("/v1/orders/abc", content=b"{}")
    client.get("/market/quotes/BTC-USD")
    assert metrics.count(http_route="/items/{item_id}", http_response_status_code=200) == 5
    assert metrics.count(http_route="/v1/orders/{order_id}", http_request_method="POST") == 1
    assert metrics.count(http_route="/market/quotes/{symbol}") == 1


def test_unmatched_requests_share_one_series(metrics, client):
    for path in ("/nope", "/x/y", "/market/nothing"):
        client.get(path)
    points = metrics.points("http.server.request.duration", http_response_status_code=404)
    assert len(points) == 1 and points[0].count == 3  # a mounted app's 404 included
    assert "http.route" not in points[0].attributes


def test_exception_counts_as_500_with_its_type(metrics, client):
    assert client.get("/boom").status_code == 500
    [point] = metrics.points("http.server.request.duration", http_route="/boom")
    assert point.attributes["http.response.status_code"] == 500
    assert point.attributes["error.type"] == "ValueError"
    assert metrics.points("http.server.active_requests")[0].value == 0


def test_streaming_is_timed_to_the_last_chunk(metrics, client):
    assert client.get("/stream").content == b"xxx"
    [point] = metrics.points("http.server.request.duration", http_route="/stream")
    assert point.sum >= 0.06


def test_sizes_and_exclusion(metrics, client):
    client.post("/v1/orders/1", content=b"y" * 100)
    client.get("/metrics")
    [size] = metrics.points("http.server.request.body.size")
    assert size.sum == 100
    assert metrics.count() == 1


def test_metrics_endpoint(metrics, client):
    client.get("/items/1")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert 'http_route="/items/{item_id}"' in response.text
    openmetrics = client.get("/metrics", headers={"Accept": "application/openmetrics-text"})
    assert openmetrics.headers["content-type"].startswith("application/openmetrics-text")
    assert openmetrics.text.rstrip().endswith("# EOF")


def test_instrument_is_idempotent_and_uninstrument_symmetric(metrics, caplog):
    app = make_app(metrics)
    instrument_app(app, handle=metrics.handle)
    assert "already instrumented" in caplog.text
    with TestClient(app) as client:
        client.get("/items/1")
    assert metrics.count() == 1
    uninstrument_app(app)
    with TestClient(app) as client:
        client.get("/items/1")
        assert client.get("/metrics").status_code == 404
    assert metrics.count() == 1


def test_pure_asgi_middleware_on_starlette(metrics):
    async def hello(request):
        return PlainTextResponse("hi")

    inner = Starlette(routes=[Route("/hello/{name}", hello)])
    app = Starlette(routes=[Mount("/api", inner)])
    wrapped = OtelMetricsMiddleware(app, handle=metrics.handle)
    with TestClient(wrapped) as client:
        client.get("/api/hello/bob")
    assert metrics.count(http_route="/api/hello/{name}") == 1


def test_instrument_detects_fastapi(metrics):
    app = FastAPI()
    app.add_api_route("/x", lambda: "x")
    otelmetrics.instrument(app, handle=metrics.handle)
    with TestClient(app) as client:
        client.get("/x")
    assert metrics.count(http_route="/x") == 1
