"""Durations that wait for the rolling windows: batches equal one-by-one adds, in the right slot."""

import random

from otelmetrics.core.pending import FLUSH_SECONDS, PendingWindows
from otelmetrics.core.routes import RouteWindows
from otelmetrics.core.sketch import Sketch, bucket_keys
from otelmetrics.core.window import RollingWindow
from otelmetrics.instruments.http import HttpServerMetrics


def values(n=5_000, seed=3):
    rng = random.Random(seed)
    return [rng.lognormvariate(-4.0, 1.5) for _ in range(n)] + [0.0, 5e-7]


def state(sketch):
    return (sketch.offset, list(sketch.counts), sketch.zeros, sketch.n)


def test_bucketed_keys_add_up_to_the_same_sketch_as_one_by_one_adds():
    one_by_one, batched = Sketch(), Sketch()
    data = values()
    for value in data:
        one_by_one.add(value)
    for start in range(0, len(data), 700):  # several batches, each growing the range
        batched.add_keys(*bucket_keys(data[start : start + 700]))
    assert state(batched) == state(one_by_one)
    assert batched.zeros == 2


def test_a_batch_counts_requests_errors_and_server_errors_like_single_adds():
    single, batch = RollingWindow(60), RollingWindow(60)
    for status, data in ((200, values(300)), (404, values(20, 4)), (503, values(7, 5))):
        for value in data:
            single.add(value, status, 1.0)
        batch.add_many(*bucket_keys(data), status, 1.0)
    assert batch.totals == single.totals == [333, 31, 9]
    assert batch.view(2.0) == single.view(2.0)


def test_a_flush_is_due_within_a_second_and_before_any_window_starts_a_new_slot():
    window = RollingWindow(300)  # 30 s slots
    routes = RouteWindows(300)
    pending = PendingWindows(window, routes)
    assert pending.flush(100.0) == 100.0 + FLUSH_SECONDS  # nothing started yet
    pending.durations("/a", 200).append(0.01)
    assert pending.flush(100.5) == 101.5
    # the windows started at 100.0 (the flush before the first duration): slots end at 130 ...
    assert pending.flush(129.7) == 130.0
    routes.get("/b").add(0.01, 200, 110.0)  # a route window of its own clock: ends at 140
    assert pending.flush(139.5) == 140.0


def test_each_duration_lands_in_the_slot_it_finished_in():
    window = RollingWindow(10)  # 1 s slots, so the slot boundary comes before the second
    routes = RouteWindows(10)
    pending = PendingWindows(window, routes)
    due = pending.flush(0.0)
    finished = [0.1, 0.4, 0.9, 1.0, 1.3, 2.6, 2.7]  # request end times, each flushing if due
    for now in finished:
        if now >= due:
            due = pending.flush(now)
        pending.durations("/a", 200).append(0.005)
    pending.flush(2.8)
    per_slot = {slot.start: slot.requests for slot in window.slots()}
    assert per_slot == {0.0: 3, 1.0: 2, 2.0: 2}
    assert {slot.start: slot.requests for slot in routes.get("/a").slots()} == per_slot


def test_readers_see_every_finished_request_at_once():
    http = HttpServerMetrics(limit=100, window=RollingWindow(300))
    for status in (200, 200, 500, 404):
        http.finish(http.start("GET", "http"), "GET", "/x", status, "http", None, None, 5)
    view = http.read_window(lambda window: window.view(window.started + 1.0))
    assert (view.requests, view.errors, view.server_errors) == (4, 2, 1)
    routes = http.read_routes(lambda routes: dict(routes.views(routes.windows["/x"].started)))
    assert routes["/x"].requests == 4
