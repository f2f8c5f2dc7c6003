import asyncio
import logging

import pytest

from otelmetrics.instruments.websockets import WebsocketMetrics

ACTIVE = "websocket.server.active_connections"
DURATION = "websocket.server.connection.duration"
RECEIVED = "websocket.server.messages.received"
SENT = "websocket.server.messages.sent"


@pytest.fixture
def ws():
    return WebsocketMetrics(limit=50)


def active(ws: WebsocketMetrics) -> dict[str, float]:
    return {attrs.get("websocket.route"): value for attrs, (value, _) in ws.connections.snapshot()}


def messages(ws: WebsocketMetrics) -> dict[tuple, tuple[float, float]]:
    counts: dict[tuple, list[float]] = {}
    for index, table in enumerate((ws.received_messages, ws.sent_messages)):
        for attrs, (value,) in table.snapshot():
            key = (attrs.get("websocket.route"), attrs.get("websocket.event"))
            counts.setdefault(key, [0, 0])[index] = value
    return {key: tuple(value) for key, value in counts.items()}


def durations(ws: WebsocketMetrics) -> dict[str, int]:
    return {attrs.get("websocket.route"): d.n for attrs, (_, d) in ws.connections.snapshot()}


def test_track_counts_while_open_then_records_the_duration(ws):
    with ws.track("/ws/prices/{pair}") as conn:
        assert active(ws) == {"/ws/prices/{pair}": 1}
        conn.received()
        conn.sent(3)
    assert active(ws) == {"/ws/prices/{pair}": 0}
    assert durations(ws) == {"/ws/prices/{pair}": 1}
    assert messages(ws) == {("/ws/prices/{pair}", None): (1, 3)}


def test_track_closes_when_the_handler_raises(ws):
    with pytest.raises(RuntimeError), ws.track("/ws"):
        raise RuntimeError("handler failed")
    assert active(ws) == {"/ws": 0}
    assert durations(ws) == {"/ws": 1}


def test_track_works_with_async_with_and_inside_async_code(ws):
    async def handler() -> dict[str, float]:
        async with ws.track("/a") as conn:
            conn.sent()
            await asyncio.sleep(0)
        with pytest.raises(ValueError), ws.track("/b"):
            assert active(ws) == {"/a": 0, "/b": 1}
            raise ValueError("boom")
        return active(ws)

    assert asyncio.run(handler()) == {"/a": 0, "/b": 0}


def test_closing_twice_counts_down_once(ws):
    first = ws.connected("/ws")
    ws.connected("/ws")
    first.close()
    first.close()
    assert active(ws) == {"/ws": 1}


def test_connected_and_disconnected_by_sid_record_durations_once(ws):
    ws.connected("/chat", sid="s1")
    ws.connected("/chat", sid="s1")  # the same connection again: not a second one
    ws.connected("/chat", sid="s2")
    assert active(ws) == {"/chat": 2}
    ws.disconnected("/chat", sid="s1")
    ws.disconnected("/chat", sid="s1")
    ws.disconnected("/chat", sid="never-connected")
    assert active(ws) == {"/chat": 1}
    assert durations(ws) == {"/chat": 1}


def test_a_stray_disconnect_never_goes_negative_and_is_logged_once(ws, caplog):
    ws.connected("/ws")
    with caplog.at_level(logging.WARNING, logger="otelmetrics.instruments.websockets"):
        for _ in range(3):
            ws.disconnected("/ws")
        ws.disconnected("/unknown")
    assert active(ws) == {"/ws": 0}
    assert len([r for r in caplog.records if "without a matching" in r.getMessage()]) == 1


def test_messages_by_route_and_event(ws):
    ws.received("/", event="order")
    ws.received("/", event="order", n=2)
    ws.sent("/", event="fill")
    ws.received("/feed")
    assert messages(ws) == {
        ("/", "order"): (3, 0),
        ("/", "fill"): (0, 1),
        ("/feed", None): (1, 0),
    }


def test_event_names_beyond_the_limit_become_other():
    ws = WebsocketMetrics(limit=1000, event_limit=3)
    for i in range(10):
        ws.received("/", event=f"event-{i}")
    events = {event for _, event in messages(ws)}
    assert events == {"event-0", "event-1", "event-2", "_OTHER"}
    assert messages(ws)[("/", "_OTHER")] == (7, 0)


def test_routes_beyond_the_cardinality_limit_fold_into_overflow(caplog):
    ws = WebsocketMetrics(limit=3)
    with caplog.at_level(logging.WARNING, logger="otelmetrics.core.store"):
        connections = [ws.connected(f"/r{i}") for i in range(10)]
    rows = ws.connections.snapshot()
    assert len(rows) == 3
    assert ws.active_total() == 10
    for connection in connections:
        connection.close()
    assert ws.active_total() == 0


def test_active_total_sums_every_route(ws):
    ws.connected("/a")
    ws.connected("/a")
    ws.connected("/b", sid=1)
    assert ws.active_total() == 3
    ws.disconnected("/b", sid=1)
    assert ws.active_total() == 2


def test_reset_starts_from_zero(ws):
    ws.connected("/a", sid="x")
    ws.received("/a")
    ws.reset()
    assert ws.active_total() == 0
    assert messages(ws) == {}
    ws.disconnected("/a", sid="x")  # opened before the reset: nothing to count down
    assert active(ws) == {}


def test_the_handle_exports_websocket_metrics(metrics):
    websockets = metrics.handle.websockets
    with websockets.track("/ws/{id}") as conn:
        conn.received()
        conn.sent()
        websockets.sent("/ws/{id}", event="tick")
        found = metrics.collect()
        [point] = found[ACTIVE]
        assert (point.value, dict(point.attributes)) == (1, {"websocket.route": "/ws/{id}"})
    found = metrics.collect()
    assert found[ACTIVE][0].value == 0
    assert found[DURATION][0].count == 1
    received = {p.attributes.get("websocket.event"): p.value for p in found[RECEIVED]}
    sent = {p.attributes.get("websocket.event"): p.value for p in found[SENT]}
    assert received == {None: 1}
    assert sent == {None: 1, "tick": 1}
