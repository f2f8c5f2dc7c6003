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
