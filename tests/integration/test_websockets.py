"""Websocket metrics through real connections: Starlette's TestClient, a real uvicorn server
with a real websocket client, and Flask-SocketIO's test client."""

import re
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import uvicorn
from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from flask import Flask
from flask_socketio import SocketIO, emit
from starlette.testclient import TestClient
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from otelmetrics.fastapi import instrument_app
from otelmetrics.websockets import instrument_socketio, uninstrument_socketio

ACTIVE = "websocket.server.active_connections"
DURATION = "websocket.server.connection.duration"
RECEIVED = "websocket.server.messages.received"
SENT = "websocket.server.messages.sent"


def by_route(metrics, name: str) -> dict:
    points = metrics.collect().get(name, [])
    if name == DURATION:
        return {p.attributes.get("websocket.route"): p.count for p in points}
    return {p.attributes.get("websocket.route"): p.value for p in points}


def by_event(metrics, name: str, route: str) -> dict:
    return {
        p.attributes.get("websocket.event"): p.value
        for p in metrics.collect().get(name, [])
        if p.attributes.get("websocket.route") == route
    }


def wait_for(check: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Poll a real server's effect until ``check()`` holds, or fail saying what we waited for."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


def make_fastapi_app(metrics) -> FastAPI:
    app = FastAPI()

    @app.websocket("/ws/prices/{pair}")
    async def prices(websocket: WebSocket, pair: str) -> None:
        await websocket.accept()
        try:
            while True:
                text = await websocket.receive_text()
                if text == "close":
                    await websocket.close()
                    return
                if text == "boom":
                    raise RuntimeError("handler failed")
                await websocket.send_text(f"{pair}:{text}")
        except WebSocketDisconnect:
            pass

    @app.websocket("/ws/private")
    async def private(websocket: WebSocket) -> None:
        await websocket.close(code=1008)  # refused before accept

    rooms = FastAPI()

    @rooms.websocket("/rooms/{room}")
    async def room(websocket: WebSocket, room: str) -> None:
        await websocket.accept()
        await websocket.send_json({"room": room})
        await websocket.close()

    app.mount("/v1", rooms)
    instrument_app(app, handle=metrics.handle)
    return app


@pytest.fixture
def client(metrics) -> Iterator[TestClient]:
    with TestClient(make_fastapi_app(metrics), client=("127.0.0.1", 50000)) as test_client:
        yield test_client


def test_a_connection_is_active_until_the_client_leaves(metrics, client):
    with client.websocket_connect("/ws/prices/BTC-USD") as ws:
        for i in range(3):
            ws.send_text(str(i))
            assert ws.receive_text() == f"BTC-USD:{i}"
        assert by_route(metrics, ACTIVE) == {"/ws/prices/{pair}": 1}
    assert by_route(metrics, ACTIVE) == {"/ws/prices/{pair}": 0}
    assert by_route(metrics, DURATION) == {"/ws/prices/{pair}": 1}
    assert by_route(metrics, RECEIVED) == {"/ws/prices/{pair}": 3}
    assert by_route(metrics, SENT) == {"/ws/prices/{pair}": 3}
    assert by_event(metrics, RECEIVED, "/ws/prices/{pair}") == {None: 3}


def test_a_server_close_ends_the_connection(metrics, client):
    with client.websocket_connect("/ws/prices/ETH-USD") as ws:
        ws.send_text("close")
        with pytest.raises(WebSocketDisconnect):
            ws.receive_text()
    assert by_route(metrics, ACTIVE) == {"/ws/prices/{pair}": 0}
    assert by_route(metrics, DURATION) == {"/ws/prices/{pair}": 1}


def test_a_handler_that_raises_leaves_the_count_right(metrics, client):
    with pytest.raises(RuntimeError, match="handler failed"):
        with client.websocket_connect("/ws/prices/BTC-USD") as ws:
            ws.send_text("boom")
            ws.receive_text()
    assert by_route(metrics, ACTIVE) == {"/ws/prices/{pair}": 0}
    assert by_route(metrics, DURATION) == {"/ws/prices/{pair}": 1}
    assert by_route(metrics, RECEIVED) == {"/ws/prices/{pair}": 1}


def test_refused_and_unrouted_connections_are_not_counted(metrics, client):
    for path in ("/ws/private", "/ws/nowhere"):
        with pytest.raises(WebSocketDisconnect), client.websocket_connect(path):
            pass
    assert by_route(metrics, ACTIVE) == {}
    assert by_route(metrics, DURATION) == {}


def test_mounted_routes_are_templates_with_their_prefix(metrics, client):
    for room in ("alpha", "beta"):
        with client.websocket_connect(f"/v1/rooms/{room}") as ws:
            assert ws.receive_json() == {"room": room}
    assert by_route(metrics, ACTIVE) == {"/v1/rooms/{room}": 0}
    assert by_route(metrics, DURATION) == {"/v1/rooms/{room}": 2}
    assert by_route(metrics, SENT) == {"/v1/rooms/{room}": 2}


def test_prometheus_names(metrics, client):
    def active(body: str) -> list[str]:
        pattern = r'^websocket_server_active_connections\{.*websocket_route="([^"]+)"[^}]*\} (\S+)$'
        return [":".join(found) for found in re.findall(pattern, body, re.M)]

    with client.websocket_connect("/ws/prices/BTC-USD") as ws:
        ws.send_text("1")
        ws.receive_text()
        assert active(client.get("/metrics").text) == ["/ws/prices/{pair}:1.0"]
    body = client.get("/metrics").text
    assert active(body) == ["/ws/prices/{pair}:0.0"]
    names = set(re.findall(r"^(websocket_\w+?)(?:_bucket|_count|_sum)?\{", body, re.M))
    assert names == {
        "websocket_server_active_connections",
        "websocket_server_connection_duration_seconds",
        "websocket_server_messages_received_total",
        "websocket_server_messages_sent_total",
    }


# -- a real uvicorn server and a real websocket client ---------------------------------------


@pytest.fixture
def server_port(metrics) -> Iterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        make_fastapi_app(metrics), ws="websockets-sansio", lifespan="off", log_level="critical"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_for(lambda: server.started, "uvicorn to start")
    yield sock.getsockname()[1]
    server.should_exit = True
    thread.join(10)
    sock.close()


def test_real_server_counts_real_connections(metrics, server_port):
    url = f"ws://127.0.0.1:{server_port}/ws/prices/BTC-USD"
    with connect(url) as first, connect(url) as second:
        for ws in (first, second):
            ws.send("tick")
            assert ws.recv() == "BTC-USD:tick"
        assert by_route(metrics, ACTIVE) == {"/ws/prices/{pair}": 2}
    wait_for(lambda: by_route(metrics, ACTIVE) == {"/ws/prices/{pair}": 0}, "both closed")
    assert by_route(metrics, DURATION) == {"/ws/prices/{pair}": 2}
    assert by_route(metrics, RECEIVED) == {"/ws/prices/{pair}": 2}
    assert by_route(metrics, SENT) == {"/ws/prices/{pair}": 2}


def test_real_server_handler_that_raises(metrics, server_port):
    with connect(f"ws://127.0.0.1:{server_port}/ws/prices/BTC-USD") as ws:
        ws.send("boom")
        with pytest.raises(ConnectionClosed):
            ws.recv()
    wait_for(lambda: by_route(metrics, DURATION) == {"/ws/prices/{pair}": 1}, "the close")
    assert by_route(metrics, ACTIVE) == {"/ws/prices/{pair}": 0}


# -- Flask-SocketIO ---------------------------------------------------------------------------


def make_socketio(metrics, **options) -> tuple[Flask, SocketIO]:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = secrets.token_urlsafe()
    socketio = SocketIO(app, async_mode="threading")

    @socketio.on("order")
    def order(data):
        emit("fill", {"id": data["id"]})

    @socketio.on("connect", namespace="/private")
    def refuse(auth=None):
        return False

    @socketio.on("connect", namespace="/fragile")
    def fragile_connect(auth=None):
        pass

    @socketio.on("disconnect", namespace="/fragile")
    def fragile_disconnect(reason=None):
        raise RuntimeError("disconnect handler failed")

    instrument_socketio(socketio, handle=metrics.handle, **options)
    return app, socketio


@pytest.fixture
def socketio_app(metrics) -> Iterator[tuple[Flask, SocketIO]]:
    app, socketio = make_socketio(metrics)
    yield app, socketio
    uninstrument_socketio(socketio)


def test_socketio_connections_events_and_emits(metrics, socketio_app):
    app, socketio = socketio_app
    first = socketio.test_client(app)
    second = socketio.test_client(app)
    assert by_route(metrics, ACTIVE) == {"/": 2}
    first.emit("order", {"id": 7})
    assert [m["name"] for m in first.get_received()] == ["fill"]
    socketio.emit("tick", {"price": 1})  # a broadcast: one message per recipient
    assert by_event(metrics, RECEIVED, "/") == {"order": 1}
    assert by_event(metrics, SENT, "/") == {"fill": 1, "tick": 2}
    first.disconnect()
    assert by_route(metrics, ACTIVE) == {"/": 1}
    assert by_route(metrics, DURATION) == {"/": 1}
    second.disconnect()
    assert by_route(metrics, ACTIVE) == {"/": 0}


def test_socketio_refused_connection_is_not_counted(metrics, socketio_app):
    app, socketio = socketio_app
    client = socketio.test_client(app, namespace="/private")
    assert not client.is_connected("/private")
    assert by_route(metrics, ACTIVE).get("/private", 0) == 0
    assert "/private" not in by_route(metrics, DURATION)


def test_socketio_disconnect_handler_that_raises_still_counts_out(metrics, socketio_app):
    app, socketio = socketio_app
    client = socketio.test_client(app, namespace="/fragile")
    assert by_route(metrics, ACTIVE) == {"/fragile": 1}
    with pytest.raises(RuntimeError, match="disconnect handler failed"):
        client.disconnect(namespace="/fragile")
    assert by_route(metrics, ACTIVE) == {"/fragile": 0}
    assert by_route(metrics, DURATION) == {"/fragile": 1}


def test_socketio_request_metrics_is_answered_with_the_snapshot(metrics, socketio_app):
    app, socketio = socketio_app
    metrics.handle.users.seen("alice")
    client = socketio.test_client(app)
    client.emit("request_metrics")
    [update] = client.get_received()
    assert update["name"] == "metrics_update"
    snapshot = update["args"][0]
    assert snapshot["websocket_connections"] == 1
    assert snapshot["active_users"] == 1
    assert by_event(metrics, RECEIVED, "/") == {"request_metrics": 1}
    assert by_event(metrics, SENT, "/") == {"metrics_update": 1}


def test_socketio_broadcasts_metrics_update(metrics):
    app, socketio = make_socketio(metrics, broadcast_interval=0.05)
    try:
        client = socketio.test_client(app)
        received: list[dict] = []

        def got_update() -> bool:
            received.extend(client.get_received())
            return any(m["name"] == "metrics_update" for m in received)

        wait_for(got_update, "a metrics_update broadcast")
    finally:
        uninstrument_socketio(socketio)
    update = next(m for m in received if m["name"] == "metrics_update")
    assert update["args"][0]["websocket_connections"] == 1


def test_socketio_instrumenting_is_idempotent_and_symmetric(metrics, socketio_app, caplog):
    app, socketio = socketio_app
    instrument_socketio(socketio, handle=metrics.handle)
    assert "already instrumented" in caplog.text
    client = socketio.test_client(app)
    assert by_route(metrics, ACTIVE) == {"/": 1}  # counted once
    uninstrument_socketio(socketio)
    socketio.test_client(app)
    client.emit("order", {"id": 1})
    assert by_route(metrics, ACTIVE) == {"/": 1}
    assert by_event(metrics, RECEIVED, "/") == {}
    client.emit("request_metrics")  # no longer answered
    assert [m["name"] for m in client.get_received()] == ["fill"]


def test_socketio_needs_an_initialised_server(metrics):
    with pytest.raises(ValueError, match="init_app"):
        instrument_socketio(SocketIO(), handle=metrics.handle)
    with pytest.raises(ValueError, match="broadcast_interval"):
        instrument_socketio(SocketIO(Flask(__name__)), broadcast_interval=0)
