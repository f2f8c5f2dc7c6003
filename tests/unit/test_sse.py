"""SSE formatting and the event sequence of one stream (no server, no sleeps)."""

import json
import logging
import math

import pytest

from otelmetrics.api.sse import MetricsStream, format_event


def parse(chunk):
    """[(field, value), ...] per event of an SSE chunk."""
    return [
        [tuple(line.split(": ", 1)) for line in block.split("\n")]
        for block in chunk.decode().split("\n\n")
        if block
    ]


def test_format_event_is_id_event_one_data_line_and_a_blank_line():
    chunk = format_event("metrics_update", {"a": 1, "b": "x\ny"}, event_id=7)
    assert chunk == b'id: 7\nevent: metrics_update\ndata: {"a":1,"b":"x\\ny"}\n\n'


def test_format_event_without_name_or_id():
    assert format_event(None, [1, 2]) == b"data: [1,2]\n\n"


def test_non_finite_numbers_become_null():
    chunk = format_event("x", {"p99": math.nan, "rate": math.inf, "ok": 1.5})
    assert json.loads(chunk.decode().split("data: ")[1]) == {"p99": None, "rate": None, "ok": 1.5}


def test_an_event_name_with_a_line_break_is_refused():
    with pytest.raises(ValueError, match="line break"):
        format_event("a\nevent: b", {})


def snapshots():
    count = 0

    def snapshot():
        nonlocal count
        count += 1
        return {"total_requests": count}

    return snapshot


def test_the_stream_opens_with_retry_and_an_update_then_ticks_update_and_heartbeat():
    stream = MetricsStream(snapshots(), 5.0, wall_clock=lambda: 1769303790.123)
    opening = stream.opening()
    assert opening.startswith(b"retry: 5000\n\n")
    assert parse(opening) == [
        [("retry", "5000")],
        [("id", "1"), ("event", "metrics_update"), ("data", '{"total_requests":1}')],
    ]
    assert parse(stream.tick()) == [
        [("id", "2"), ("event", "metrics_update"), ("data", '{"total_requests":2}')],
        [("id", "2"), ("event", "heartbeat"), ("data", '{"timestamp":1769303790123}')],
    ]
    assert not stream.done


def test_max_events_ends_the_stream():
    stream = MetricsStream(snapshots(), 0.5, max_events=2)
    stream.opening()
    assert not stream.done
    stream.tick()
    assert stream.done


def test_a_failing_snapshot_keeps_the_heartbeat_and_logs_once(caplog):
    def broken():
        raise RuntimeError("no stats")

    stream = MetricsStream(broken, 1.0, max_events=3, wall_clock=lambda: 1.0)
    with caplog.at_level(logging.ERROR, logger="otelmetrics.api.sse"):
        assert stream.opening() == b"retry: 1000\n\n"
        assert parse(stream.tick()) == [
            [("id", "2"), ("event", "heartbeat"), ("data", '{"timestamp":1000}')]
        ]
        stream.tick()
    assert len(caplog.records) == 1
    assert stream.done  # failed updates count, so a bounded stream still ends


def test_extra_events_follow_each_update_with_its_id():
    feed = {"latency_p50_ms": 12.5, "ws_status": "connected"}
    stream = MetricsStream(
        snapshots(), 5.0, events=(("kraken_metrics", lambda: feed),), wall_clock=lambda: 2.0
    )
    assert [event[1] for event in parse(stream.opening())[1:]] == [
        ("event", "metrics_update"),
        ("event", "kraken_metrics"),
    ]
    assert parse(stream.tick()) == [
        [("id", "2"), ("event", "metrics_update"), ("data", '{"total_requests":2}')],
        [
            ("id", "2"),
            ("event", "kraken_metrics"),
            ("data", '{"latency_p50_ms":12.5,"ws_status":"connected"}'),
        ],
        [("id", "2"), ("event", "heartbeat"), ("data", '{"timestamp":2000}')],
    ]


def test_a_failing_extra_event_is_skipped_and_logged_once(caplog):
    def broken():
        raise RuntimeError("no feed")

    stream = MetricsStream(snapshots(), 1.0, events=(("kraken_metrics", broken),))
    with caplog.at_level(logging.ERROR, logger="otelmetrics.api.sse"):
        for _ in range(3):
            names = [block[1] for block in parse(stream.tick())]
            assert names == [("event", "metrics_update"), ("event", "heartbeat")]
    assert len(caplog.records) == 1 and "kraken_metrics" in caplog.records[0].getMessage()


def test_a_bad_extra_event_name_fails_when_the_stream_is_made():
    with pytest.raises(ValueError, match="line break"):
        MetricsStream(snapshots(), 1.0, events=(("a\nb", dict),))


def test_stream_slots_cap_open_streams_and_come_back():
    from otelmetrics.api.sse import StreamSlots

    slots = StreamSlots(2)
    assert slots.take() and slots.take()
    assert not slots.take()
    slots.give_back()
    assert slots.take()
    slots.give_back(), slots.give_back(), slots.give_back()  # one too many: never below zero
    assert slots.open == 0


def test_a_stream_closes_once():
    from otelmetrics.api.sse import MetricsStream

    closed = []
    stream = MetricsStream(dict, 1.0, on_close=lambda: closed.append(1))
    stream.close()
    stream.close()
    assert closed == [1]
