import logging

from otelmetrics.core.store import InstrumentSpec, SeriesTable

COUNTER = InstrumentSpec("orders", "counter", "{order}", "orders")


def test_series_beyond_the_limit_fold_into_one_overflow_series(caplog):
    table = SeriesTable((COUNTER,), ("symbol",), limit=5)
    with caplog.at_level(logging.WARNING, logger="otelmetrics.core.store"):
        for i in range(100):
            with table.lock:
                table.get((f"SYM{i}",))[0].add(1)
    rows = table.snapshot()
    assert len(rows) == 5
    overflow = [value for attrs, (value,) in rows if attrs == {"otel.metric.overflow": True}]
    assert overflow == [96]
    assert sum(value for _, (value,) in rows) == 100
    assert len([r for r in caplog.records if "cardinality limit" in r.getMessage()]) == 1


def test_none_attribute_values_are_left_out():
    table = SeriesTable((COUNTER,), ("a", "b"), limit=10)
    with table.lock:
        table.get(("x", None))[0].add(2)
    assert table.snapshot() == [({"a": "x"}, (2,))]


def test_reset_forgets_every_series():
    table = SeriesTable((COUNTER,), ("a",), limit=10)
    with table.lock:
        table.get(("x",))[0].add(1)
    table.reset()
    assert table.snapshot() == []


def test_reset_keeps_one_lock_shared_by_an_instruments_tables():
    import threading

    from otelmetrics.instruments.http import HttpServerMetrics
    from otelmetrics.instruments.websockets import WebsocketMetrics

    lock = threading.Lock()
    table = SeriesTable((COUNTER,), ("k",), limit=10)
    table.reset(lock)
    assert table.lock is lock
    for instrument in (HttpServerMetrics(limit=10), WebsocketMetrics(limit=10)):
        before = instrument.tables[0].lock
        instrument.reset()
        locks = {id(t.lock) for t in instrument.tables}
        assert len(locks) == 1 and instrument.tables[0].lock is not before
