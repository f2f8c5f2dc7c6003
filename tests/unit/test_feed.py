"""Feed latency percentiles per pair (rolling, ≤ 1 %) and the kraken_metrics SSE payload."""

import logging
import random

import pytest

from otelmetrics.insights.feed import FeedEvent, FeedLatency, FeedPercentiles, feed_event
from tests.clock import Clock

SEED_FIELDS = [
    "latency_p50_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "circuit_breaker_trips",
    "reconnect_count",
    "trades_per_min",
    "ws_status",
    "timestamp",
]
NOW = 1_800_000_000.0


@pytest.fixture
def clock():
    return Clock(5000.0)


def test_the_seed_case_is_within_one_percent(clock):
    latency = FeedLatency(clock=clock)
    for ms in range(100):
        latency.add("kraken", "BTC-USD", ms / 1000)
    found = latency.percentiles("kraken", ["BTC-USD"])
    assert found["count"] == 100
    for key, exact in (("latency_p50_ms", 49), ("latency_p95_ms", 94), ("latency_p99_ms", 98)):
        assert found[key] == pytest.approx(exact, rel=0.01)


def test_lognormal_latencies_are_within_one_percent(clock):
    rng = random.Random(7)
    values = sorted(rng.lognormvariate(-4, 1) for _ in range(20_000))
    latency = FeedLatency(clock=clock)
    for value in values:
        latency.add("kraken", "ETH-USD", value)
    found = latency.percentiles()
    for key, q in (("latency_p50_ms", 0.5), ("latency_p95_ms", 0.95), ("latency_p99_ms", 0.99)):
        exact = values[int(q * (len(values) - 1))] * 1000
        assert found[key] == pytest.approx(exact, rel=0.01)


def test_old_latencies_leave_the_window(clock):
    latency = FeedLatency(seconds=300, clock=clock)
    latency.add("kraken", "BTC-USD", 0.500)
    clock.now += 200
    latency.add("kraken", "BTC-USD", 0.010)
    assert latency.percentiles()["count"] == 2
    clock.now += 120  # the first value's slot is now more than 300 s old
    found = latency.percentiles()
    assert found["count"] == 1
    assert found["latency_p99_ms"] == pytest.approx(10, rel=0.01)
    clock.now += 300
    assert latency.percentiles() == {
        "latency_p50_ms": 0.0,
        "latency_p95_ms": 0.0,
        "latency_p99_ms": 0.0,
        "count": 0,
    }


def test_only_configured_pairs_are_kept(clock):
    latency = FeedLatency(pairs=["BTC-USD"], clock=clock)
    latency.add("kraken", "BTC-USD", 0.010)
    latency.add("kraken", "DOGE-USD", 0.900)
    assert latency.by_pair() == {"kraken": {"BTC-USD": latency.percentiles()}}
    assert latency.percentiles()["latency_p99_ms"] == pytest.approx(10, rel=0.01)


def test_without_configured_pairs_the_count_of_series_is_capped(clock, caplog):
    latency = FeedLatency(max_series=3, clock=clock)
    with caplog.at_level(logging.WARNING):
        for i in range(10):
            latency.add("kraken", f"PAIR-{i}", 0.001)
    assert sorted(latency.by_pair()["kraken"]) == ["PAIR-0", "PAIR-1", "PAIR-2"]
    assert sum("OTELMETRICS_FEED_PAIRS" in r.getMessage() for r in caplog.records) == 1


def test_venues_are_kept_apart_and_merged_on_request(clock):
    latency = FeedLatency(clock=clock)
    for _ in range(10):
        latency.add("kraken", "BTC-USD", 0.010)
        latency.add("binance", "BTC-USD", 0.100)
    assert latency.percentiles("kraken")["latency_p99_ms"] == pytest.approx(10, rel=0.01)
    assert latency.percentiles("binance")["latency_p50_ms"] == pytest.approx(100, rel=0.01)
    merged = latency.percentiles()
    assert merged["count"] == 20
    assert merged["latency_p50_ms"] == pytest.approx(10, rel=0.01)  # rank 9 of 20
    assert merged["latency_p95_ms"] == pytest.approx(100, rel=0.01)


def test_reset_forgets_everything(clock):
    latency = FeedLatency(clock=clock)
    latency.add("kraken", "BTC-USD", 0.010)
    latency.reset()
    assert latency.by_pair() == {}


def _trading_snapshot(**feeds):
    return {
        "feeds": feeds,
        "circuit_breakers": {
            "kraken-orders": {"state": "open", "value": 1, "trips": 2, "last_trip": NOW},
            "other": {"state": "closed", "value": 0, "trips": 5, "last_trip": NOW},
        },
    }


def test_the_payload_has_the_seed_fields_for_the_configured_venue(clock):
    latency = FeedLatency(clock=clock)
    for ms in range(100):
        latency.add("kraken", "BTC-USD", ms / 1000)
        latency.add("binance", "BTC-USD", 1.0)
    trading = _trading_snapshot(
        kraken={"ws_status": "connected", "reconnects": 2, "trades_per_min": 127.5},
        binance={"ws_status": "disconnected", "reconnects": 9, "trades_per_min": 3.0},
    )
    payload = feed_event(
        latency,
        trading,
        venue="kraken",
        pairs=["BTC-USD"],
        breakers=["kraken-orders"],
        now=NOW + 0.1234,
    )
    assert list(payload)[: len(SEED_FIELDS)] == SEED_FIELDS
    assert payload["latency_p50_ms"] == pytest.approx(49, rel=0.01)
    assert payload["latency_p99_ms"] == pytest.approx(98, rel=0.01)
    assert payload["circuit_breaker_trips"] == 2
    assert payload["reconnect_count"] == 2
    assert payload["trades_per_min"] == 127.5
    assert payload["ws_status"] == "connected"
    assert payload["timestamp"] == 1_800_000_000_123
    assert set(payload["pairs"]) == {"BTC-USD"}
    assert list(payload) == list(FeedEvent.__annotations__)  # the type lists the keys as sent
    assert list(payload["pairs"]["BTC-USD"]) == list(FeedPercentiles.__annotations__)


def test_without_a_venue_the_payload_sums_every_feed(clock):
    latency = FeedLatency(clock=clock)
    latency.add("kraken", "BTC-USD", 0.010)
    latency.add("binance", "ETH-USD", 0.020)
    trading = _trading_snapshot(
        kraken={"ws_status": "connected", "reconnects": 2, "trades_per_min": 1.5},
        binance={"ws_status": "disconnected", "reconnects": 1, "trades_per_min": 2.0},
    )
    payload = feed_event(latency, trading, venue=None, pairs=None, breakers=None, now=NOW)
    assert payload["ws_status"] == "disconnected"  # one feed down is the feed down
    assert payload["reconnect_count"] == 3
    assert payload["trades_per_min"] == 3.5
    assert payload["circuit_breaker_trips"] == 7
    assert set(payload["pairs"]) == {"kraken:BTC-USD", "binance:ETH-USD"}
    assert payload["venue"] is None  # two venues summed: no one name


def test_without_a_venue_the_only_venue_is_named(clock):
    latency = FeedLatency(clock=clock)
    latency.add("kraken", "BTC-USD", 0.010)
    trading = {
        "feeds": {"kraken": {"ws_status": "connected", "reconnects": 0, "trades_per_min": 1.0}},
        "circuit_breakers": {},
    }
    payload = feed_event(latency, trading, venue=None, pairs=None, breakers=None, now=NOW)
    assert payload["venue"] == "kraken"  # as docs/api.md's example shows it


def test_a_feed_never_reported_is_unknown(clock):
    payload = feed_event(
        FeedLatency(clock=clock),
        {"feeds": {}, "circuit_breakers": {}},
        venue="kraken",
        pairs=None,
        breakers=None,
        now=NOW,
    )
    assert payload["ws_status"] == "unknown"
    assert payload["latency_p50_ms"] == 0.0 and payload["reconnect_count"] == 0


def test_a_clock_that_steps_back_adds_to_the_newest_slot(clock):
    latency = FeedLatency(seconds=300, clock=clock)
    latency.add("kraken", "BTC-USD", 0.010)
    clock.now -= 90  # three slots back
    latency.add("kraken", "BTC-USD", 0.020)
    clock.now += 90
    assert latency.percentiles()["count"] == 2
    clock.now += 300  # both in the slot that has now left the window
    assert latency.percentiles()["count"] == 0
