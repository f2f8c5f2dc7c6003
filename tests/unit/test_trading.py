"""The trading facade: exact values of each instrument, strict/lenient, bounds, windows, threads."""

import asyncio
import json
import logging
import threading
import time
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import psutil
import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

import otelmetrics
from otelmetrics import trading
from otelmetrics.instruments.trading import labels as trading_labels
from otelmetrics.instruments.trading.tables import LATENCY_BOUNDS, PNL_BOUNDS
from otelmetrics.pipeline import default as pipeline_default
from tests.clock import Clock
from tests.conftest import Metrics

START = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc).timestamp()
BTC = {
    "trading.symbol": "BTC-USD",
    "trading.side": "buy",
    "trading.order.type": "limit",
    "trading.venue": "kraken",
}
DOMAIN_PREFIXES = ("trading.", "exchange.", "circuit_breaker.")
ALWAYS_REPORTED = ["trading.pnl.realized", "trading.pnl.today"]


@pytest.fixture
def clock():
    return Clock(START)


@pytest.fixture
def facade(metrics, clock):
    metrics.handle.trading.clock = clock
    return metrics.handle.trading


@pytest.fixture
def configured(clock):
    """Build a handle with given settings; its trading facade reads ``clock``."""
    handles = []

    def make(**settings):
        reader = InMemoryMetricReader()
        handle = otelmetrics.configure(
            exporters=("prometheus",),
            metric_readers=[reader],
            set_global=False,
            process_metrics=False,
            **settings,
        )
        handle.trading.clock = clock
        handles.append(handle)
        return Metrics(handle, reader)

    yield make
    for handle in handles:
        handle.shutdown()


def series(metrics, name):
    """{attributes as a sorted tuple: data point} of one metric."""
    return {_key(p.attributes): p for p in metrics.collect().get(name, [])}


def values(metrics, name):
    return {key: point.value for key, point in series(metrics, name).items()}


def _key(attributes):
    return tuple(sorted(dict(attributes).items()))


def buckets(bounds, *values_seen):
    """Expected explicit bucket counts (upper-inclusive) for ``values_seen``."""
    counts = [0] * (len(bounds) + 1)
    for value in values_seen:
        counts[sum(1 for bound in bounds if bound < value)] += 1
    return counts


def nothing_recorded(metrics):
    """Only the P&L gauges report before anything is recorded, and they report 0."""
    collected = metrics.collect()
    names = sorted(name for name in collected if name.startswith(DOMAIN_PREFIXES))
    pnl = {name: [p.value for p in collected[name]] for name in ALWAYS_REPORTED}
    return names == ALWAYS_REPORTED and pnl == dict.fromkeys(ALWAYS_REPORTED, [0.0])


def test_orders_are_counted_by_status_with_their_latency(metrics, facade):
    facade.order_placed("BTC-USD", "buy", "limit", venue="kraken")
    facade.order_placed("BTC-USD", "BUY", "LIMIT", venue="kraken")
    facade.order_placed("ETH-USD", "sell")
    facade.order_filled("BTC-USD", "buy", "limit", venue="kraken", latency=0.004)
    facade.order_filled("BTC-USD", "buy", "limit", venue="kraken", latency=0.02)
    facade.order_rejected("ETH-USD", "sell")
    facade.order_failed("BTC-USD", "buy", "limit", venue="kraken")
    facade.order_cancelled("BTC-USD", "buy", "limit", venue="kraken")
    facade.order_latency(0.5, "ETH-USD", "sell")

    eth = {"trading.symbol": "ETH-USD", "trading.side": "sell", "trading.order.type": "market"}
    assert values(metrics, "trading.orders") == {
        _key({**BTC, "trading.order.status": "placed"}): 2,
        _key({**BTC, "trading.order.status": "filled"}): 2,
        _key({**BTC, "trading.order.status": "failed"}): 1,
        _key({**BTC, "trading.order.status": "cancelled"}): 1,
        _key({**eth, "trading.order.status": "placed"}): 1,
        _key({**eth, "trading.order.status": "rejected"}): 1,
    }
    latency = series(metrics, "trading.order.latency")
    assert set(latency) == {_key(BTC), _key(eth)}
    btc = latency[_key(BTC)]
    assert (btc.count, btc.sum, btc.min, btc.max) == (2, pytest.approx(0.024), 0.004, 0.02)
    assert list(btc.bucket_counts) == buckets(LATENCY_BOUNDS, 0.004, 0.02)
    assert (latency[_key(eth)].count, latency[_key(eth)].sum) == (1, 0.5)


def test_closed_positions_record_pnl_outcomes_duration_and_pnl_gauges(metrics, facade):
    facade.position_opened("BTC-USD", venue="kraken")
    facade.position_opened("BTC-USD", venue="kraken")
    facade.position_opened("ETH-USD")
    facade.position_closed("BTC-USD", 10.0, venue="kraken", holding_seconds=45)
    facade.position_closed("BTC-USD", -4.0, venue="kraken", holding_seconds=600)
    facade.position_closed("ETH-USD", 0.0)
    facade.position_closed("ETH-USD", 2.5)  # one close more than opened: the gauge stays at 0

    kraken = {"trading.symbol": "BTC-USD", "trading.venue": "kraken"}
    eth = {"trading.symbol": "ETH-USD"}
    win, loss = {**kraken, "trading.outcome": "win"}, {**kraken, "trading.outcome": "loss"}
    even, eth_win = {**eth, "trading.outcome": "breakeven"}, {**eth, "trading.outcome": "win"}
    pnl = series(metrics, "trading.trade.pnl")
    assert {k: (p.count, p.sum) for k, p in pnl.items()} == {
        _key(win): (1, 10.0),
        _key(loss): (1, -4.0),
        _key(even): (1, 0.0),
        _key(eth_win): (1, 2.5),
    }
    assert list(pnl[_key(loss)].bucket_counts) == buckets(PNL_BOUNDS, -4.0)
    assert list(pnl[_key(win)].bucket_counts) == buckets(PNL_BOUNDS, 10.0)
    assert values(metrics, "trading.trades") == {
        _key(win): 1,
        _key(loss): 1,
        _key(even): 1,
        _key(eth_win): 1,
    }
    duration = series(metrics, "trading.position.duration")
    assert {k: (p.count, p.sum) for k, p in duration.items()} == {
        _key({"trading.symbol": "BTC-USD"}): (2, 645.0)
    }
    assert values(metrics, "trading.pnl.realized") == {(): 8.5}
    assert values(metrics, "trading.pnl.today") == {(): 8.5}
    assert values(metrics, "trading.win_rate") == {(): 0.5}
    assert values(metrics, "trading.positions.open") == {
        _key({"trading.symbol": "BTC-USD"}): 0,
        _key(eth): 0,
    }


def test_unrealized_pnl_and_exposure_are_set_per_symbol(metrics, facade):
    facade.set_unrealized("BTC-USD", 12.0, exposure=30_000.0)
    facade.set_unrealized("BTC-USD", -3.0)  # exposure unchanged
    facade.set_unrealized("ETH-USD", 1.5)
    assert values(metrics, "trading.pnl.unrealized") == {
        _key({"trading.symbol": "BTC-USD"}): -3.0,
        _key({"trading.symbol": "ETH-USD"}): 1.5,
    }
    assert values(metrics, "trading.exposure") == {_key({"trading.symbol": "BTC-USD"}): 30_000.0}
    assert facade.snapshot()["pnl"]["unrealized"] == -1.5


def test_breaker_trips_count_transitions_into_open(metrics, facade, clock):
    facade.breaker_state("orders", "closed")
    facade.breaker_state("orders", 1)  # trip 1
    facade.breaker_state("orders", "open")  # already open: no trip
    facade.breaker_state("orders", "half_open")
    clock.advance(30)
    facade.breaker_state("orders", "open")  # trip 2
    facade.breaker_state("feed", 0)
    facade.breaker_trip("feed")  # trip, now open
    facade.breaker_trip("feed")  # counted even when already open
    facade.breaker_state("orders", 2)

    orders, feed = _key({"circuit_breaker.name": "orders"}), _key({"circuit_breaker.name": "feed"})
    assert values(metrics, "circuit_breaker.trips") == {orders: 2, feed: 2}
    assert values(metrics, "circuit_breaker.state") == {orders: 2, feed: 1}
    assert facade.snapshot()["circuit_breakers"] == {
        "orders": {"state": "half_open", "value": 2, "trips": 2, "last_trip": START + 30},
        "feed": {"state": "open", "value": 1, "trips": 2, "last_trip": START + 30},
    }


def test_feed_latency_events_and_trades_per_minute(metrics, facade, clock):
    facade.feed_message("kraken", "BTC-USD", 0.012)
    facade.feed_message("kraken", "BTC-USD", 0.030, event_type="spread")
    facade.feed_message("kraken", "ETH-USD", 0.001, event_type="OHLC")
    facade.feed_trade("kraken", "BTC-USD", 3)
    clock.advance(30)
    facade.feed_trade("kraken", "ETH-USD")

    btc, eth = ("exchange.pair", "BTC-USD"), ("exchange.pair", "ETH-USD")
    venue = ("exchange.venue", "kraken")
    latency = series(metrics, "exchange.feed.latency")
    assert {k: (p.count, p.sum) for k, p in latency.items()} == {
        (btc, venue): (2, pytest.approx(0.042)),
        (eth, venue): (1, 0.001),
    }
    assert list(latency[(btc, venue)].bucket_counts) == buckets(LATENCY_BOUNDS, 0.012, 0.03)
    assert values(metrics, "exchange.feed.events") == {
        (("exchange.event.type", event), venue): 1 for event in ("trade", "spread", "ohlc")
    }
    assert values(metrics, "exchange.feed.trades") == {(btc, venue): 3, (eth, venue): 1}
    assert facade.snapshot()["feeds"]["kraken"]["trades_per_min"] == 4
    clock.advance(30)  # the 3 trades at START are now 60 s old: out of the last minute
    assert facade.snapshot()["feeds"]["kraken"]["trades_per_min"] == 1
    clock.advance(29)
    assert facade.snapshot()["feeds"]["kraken"]["trades_per_min"] == 1
    clock.advance(1)
    assert facade.snapshot()["feeds"]["kraken"]["trades_per_min"] == 0


def test_feed_reconnects_follow_a_disconnect_and_are_never_double_counted(metrics, facade):
    facade.feed_status("kraken", True)  # first connection: not a reconnect
    facade.feed_status("kraken", False)
    facade.feed_status("kraken", True)  # reconnect 1
    facade.feed_reconnect("kraken")  # reconnect 2, connected
    facade.feed_status("kraken", True)  # already connected: nothing
    facade.feed_status("binance", False)

    kraken, binance = _key({"exchange.venue": "kraken"}), _key({"exchange.venue": "binance"})
    # binance never reconnected: its counter exists at 0 from its first status report
    assert values(metrics, "exchange.feed.reconnects") == {kraken: 2, binance: 0}
    assert values(metrics, "exchange.feed.connection.status") == {kraken: 1, binance: 0}
    feeds = facade.snapshot()["feeds"]
    assert feeds["kraken"] == {"ws_status": "connected", "reconnects": 2, "trades_per_min": 0}
    assert feeds["binance"]["ws_status"] == "disconnected"


def test_engine_timing_histograms_have_no_attributes(metrics, facade):
    facade.engine_cycle(0.2)
    facade.engine_cycle(0.3)
    facade.scanner_scan(1.5)
    facade.market_data_delay(0.004)
    got = {
        name: [(p.attributes, p.count, p.sum) for p in metrics.collect()[name]]
        for name in (
            "trading.engine.cycle.duration",
            "trading.scanner.duration",
            "trading.market_data.delay",
        )
    }
    assert got == {
        "trading.engine.cycle.duration": [({}, 2, 0.5)],
        "trading.scanner.duration": [({}, 1, 1.5)],
        "trading.market_data.delay": [({}, 1, 0.004)],
    }


def test_broker_status_and_failures(metrics, facade):
    facade.broker_status("mt5", True)
    facade.broker_failure("mt5")
    facade.broker_failure("mt5")
    mt5 = _key({"trading.venue": "mt5"})
    assert values(metrics, "trading.broker.connection.failures") == {mt5: 2}
    assert values(metrics, "trading.broker.connection.status") == {mt5: 0}  # a failure disconnects
    facade.broker_status("mt5", True)
    assert values(metrics, "trading.broker.connection.status") == {mt5: 1}
    assert facade.snapshot()["brokers"] == {"mt5": {"connected": True, "failures": 2}}


def test_process_uptime_is_seconds_since_the_process_started(metrics):
    (point,) = metrics.collect()["process.uptime"]
    expected = time.time() - psutil.Process().create_time()
    assert 0 < point.value <= expected + 1
    assert point.value == pytest.approx(expected, abs=5)


def test_snapshot_is_json_ready_with_every_field(facade, clock):
    facade.order_placed("BTC-USD", "buy")
    facade.order_placed("BTC-USD", "buy")
    facade.order_placed("BTC-USD", "sell")
    facade.order_placed("BTC-USD", "sell")
    facade.order_filled("BTC-USD", "buy")
    facade.order_filled("BTC-USD", "buy")
    facade.order_filled("BTC-USD", "sell")
    facade.order_rejected("BTC-USD", "sell")
    facade.order_cancelled("BTC-USD", "buy")
    facade.position_opened("BTC-USD")
    facade.position_opened("BTC-USD")
    facade.position_closed("BTC-USD", 30.0)
    facade.position_closed("BTC-USD", 10.0)
    facade.position_closed("BTC-USD", -8.0)
    facade.set_unrealized("BTC-USD", 2.0)
    facade.feed_status("kraken", False)
    facade.feed_status("kraken", True)
    facade.feed_trade("kraken", "BTC-USD", 5)
    facade.breaker_trip("kraken-ws")
    facade.broker_status("mt5", True)
    clock.advance(10)

    snapshot = facade.snapshot()
    assert json.loads(json.dumps(snapshot)) == snapshot
    assert snapshot == {
        "time": START + 10,
        "currency": "USD",
        "orders_today": {
            "total": 4,
            "successful": 3,
            "failed": 1,
            "rejected": 1,
            "cancelled": 1,
            "success_rate_pct": 75.0,
        },
        "positions": {"opened_today": 2, "closed_today": 3, "open": 0},
        "pnl": {"today": 32.0, "realized": 32.0, "unrealized": 2.0},
        "trades": {
            "deals_today": 3,
            "total": 3,
            "wins": 2,
            "losses": 1,
            "win_rate_pct": pytest.approx(200 / 3),
            "avg_win": 20.0,
            "avg_loss": -8.0,
            "per_hour": 36.0,  # 3 trades in the 300 s window
            "window_seconds": 300.0,
        },
        "feeds": {"kraken": {"ws_status": "connected", "reconnects": 1, "trades_per_min": 5}},
        "circuit_breakers": {
            "kraken-ws": {"state": "open", "value": 1, "trips": 1, "last_trip": START}
        },
        "brokers": {"mt5": {"connected": True, "failures": 0}},
    }
    assert facade.snapshot(now=START + 3600)["trades"]["per_hour"] == 0.0


def test_empty_snapshot_has_no_rates(facade):
    snapshot = facade.snapshot()
    assert snapshot["orders_today"]["success_rate_pct"] is None
    assert snapshot["trades"]["win_rate_pct"] is None
    assert (snapshot["trades"]["avg_win"], snapshot["trades"]["avg_loss"]) == (None, None)
    assert (snapshot["feeds"], snapshot["circuit_breakers"], snapshot["brokers"]) == ({}, {}, {})


def test_win_rate_covers_the_rolling_window(metrics, facade, clock):
    facade.position_closed("BTC-USD", 5.0)  # t=0, win
    clock.advance(100)
    facade.position_closed("BTC-USD", -1.0)  # t=100, loss
    clock.advance(100)
    facade.position_closed("BTC-USD", -1.0)  # t=200, loss
    assert values(metrics, "trading.win_rate") == {(): pytest.approx(1 / 3)}
    clock.advance(150)  # t=350: the win (t=0) left the 300 s window
    assert values(metrics, "trading.win_rate") == {(): 0.0}
    assert facade.snapshot()["trades"]["per_hour"] == 24.0
    clock.advance(200)  # t=550: the window is empty
    assert "trading.win_rate" not in metrics.collect()
    trades = facade.snapshot()["trades"]
    assert (trades["win_rate_pct"], trades["per_hour"]) == (None, 0.0)
    assert (trades["total"], trades["avg_win"], trades["avg_loss"]) == (3, 5.0, -1.0)


def test_todays_pnl_rolls_over_at_midnight_in_the_configured_timezone(configured, clock):
    tokyo, utc = configured(timezone="Asia/Tokyo"), configured()
    clock.now = datetime(2026, 11, 21, 23, 58, tzinfo=ZoneInfo("Asia/Tokyo")).timestamp()
    for handle in (tokyo, utc):
        handle.handle.trading.order_placed("BTC-USD", "buy")
        handle.handle.trading.position_opened("BTC-USD")
        handle.handle.trading.position_closed("BTC-USD", 7.0)
    assert values(tokyo, "trading.pnl.today") == {(): 7.0}

    clock.advance(180)  # 00:01 in Tokyo, 15:01 in UTC
    assert values(tokyo, "trading.pnl.today") == {(): 0.0}
    assert values(tokyo, "trading.pnl.realized") == {(): 7.0}
    snapshot = tokyo.handle.trading.snapshot()
    assert snapshot["orders_today"]["total"] == 0
    assert (snapshot["positions"]["opened_today"], snapshot["trades"]["deals_today"]) == (0, 0)
    assert values(utc, "trading.pnl.today") == {(): 7.0}  # not midnight there

    tokyo.handle.trading.position_closed("BTC-USD", -2.0)
    assert values(tokyo, "trading.pnl.today") == {(): -2.0}
    assert values(tokyo, "trading.pnl.realized") == {(): 5.0}

    clock.advance(86_400)  # the next day: each call rolls over by itself, before counting
    tokyo.handle.trading.position_opened("BTC-USD")
    tokyo.handle.trading.order_failed("BTC-USD", "sell")
    snapshot = tokyo.handle.trading.snapshot()
    assert (snapshot["positions"]["opened_today"], snapshot["orders_today"]["failed"]) == (1, 1)


def test_a_clock_read_before_midnight_never_wipes_the_new_day(metrics, facade, clock):
    midnight = datetime(2026, 11, 22, tzinfo=timezone.utc).timestamp()
    clock.now = midnight + 0.5
    facade.order_placed("BTC-USD", "buy")
    facade.position_closed("BTC-USD", 4.0)
    # another thread (or the collection) read the clock just before midnight and takes the
    # lock only now: its late call counts in the current day instead of rolling it back
    clock.now = midnight - 0.1
    facade.order_placed("BTC-USD", "sell")
    assert facade.snapshot(now=midnight - 0.2)["orders_today"]["total"] == 2

    clock.now = midnight + 1
    assert facade.snapshot()["orders_today"]["total"] == 2
    assert values(metrics, "trading.pnl.today") == {(): 4.0}


INVALID_CALLS = [
    ("position_closed", ("BTC-USD", float("nan")), {}, "finite amount in USD"),
    ("position_closed", ("BTC-USD", float("-inf")), {}, "finite amount"),
    ("position_closed", ("BTC-USD", 1.0), {"holding_seconds": -1}, "seconds >= 0"),
    ("order_filled", ("BTC-USD", "buy"), {"latency": -0.001}, "order latency must be"),
    ("order_latency", (float("inf"), "BTC-USD", "buy"), {}, "finite number of seconds"),
    ("feed_message", ("kraken", "BTC-USD", -0.5), {}, "feed latency must be"),
    ("engine_cycle", (float("nan"),), {}, "engine cycle duration must be"),
    ("scanner_scan", (-1.0,), {}, "scanner duration must be"),
    ("market_data_delay", (-1.0,), {}, "market data delay must be"),
    ("breaker_state", ("orders", "tripped"), {}, "0/'closed', 1/'open' or 2/'half_open'"),
    ("breaker_state", ("orders", 3), {}, "got 3"),
    ("order_placed", ("BTC-USD", "long"), {}, "'buy' or 'sell', got 'long'"),
    ("order_rejected", ("BTC-USD", None), {}, "'buy' or 'sell'"),
    ("set_unrealized", ("BTC-USD", float("nan")), {}, "must be finite"),
    ("set_unrealized", ("BTC-USD", 1.0, float("inf")), {}, "must be finite"),
    ("feed_trade", ("kraken", "BTC-USD", -1), {}, "trade count"),
]


@pytest.mark.parametrize(("method", "args", "kwargs", "fix"), INVALID_CALLS)
def test_strict_mode_raises_with_the_fix_and_records_nothing(configured, method, args, kwargs, fix):
    strict = configured(strict=True)
    with pytest.raises(ValueError, match=fix.replace("(", r"\(")) as raised:
        getattr(strict.handle.trading, method)(*args, **kwargs)
    assert str(raised.value).startswith("otelmetrics.trading: ")
    assert nothing_recorded(strict)
    assert strict.handle.trading.snapshot()["circuit_breakers"] == {}


@pytest.mark.parametrize(("method", "args", "kwargs", "fix"), INVALID_CALLS)
def test_lenient_mode_drops_the_call_and_logs_once_per_kind(
    configured, caplog, method, args, kwargs, fix
):
    lenient = configured(strict=False)
    call = getattr(lenient.handle.trading, method)
    with caplog.at_level(logging.WARNING, logger="otelmetrics.trading"):
        call(*args, **kwargs)
        call(*args, **kwargs)
    assert [r.getMessage() for r in caplog.records if fix in r.getMessage()] != []
    assert len(caplog.records) == 1
    assert nothing_recorded(lenient)


def test_repeats_are_logged_at_debug_and_a_failure_is_not_hidden_by_an_invalid_value(
    configured, caplog
):
    lenient = configured(strict=False)
    with caplog.at_level(logging.DEBUG, logger="otelmetrics.trading"):
        lenient.handle.trading.breaker_state("orders", "tripped")
        lenient.handle.trading.breaker_state("orders", "tripped")
        lenient.handle.trading.breaker_state(None, "open")  # a failure (TypeError), not a value
    logged = [
        (r.levelno, r.getMessage().split(":")[0])
        for r in caplog.records
        if r.name == "otelmetrics.trading"
    ]
    assert logged == [
        (logging.WARNING, "otelmetrics.trading dropped an invalid call"),
        (logging.DEBUG, "otelmetrics.trading dropped an invalid call"),
        (logging.WARNING, "otelmetrics.trading.breaker_state dropped a call"),
    ]


def test_a_bad_argument_type_raises_when_strict_and_is_dropped_when_lenient(configured, caplog):
    strict, lenient = configured(strict=True), configured(strict=False)
    with pytest.raises(TypeError, match="trading.symbol must be a str"):
        strict.handle.trading.order_placed(42, "buy")
    with pytest.raises(TypeError, match="trading.venue is required"):
        strict.handle.trading.feed_status(None, True)
    with caplog.at_level(logging.WARNING, logger="otelmetrics.trading"):
        lenient.handle.trading.order_placed(42, "buy")
        lenient.handle.trading.order_placed(["BTC"], "buy")
        lenient.handle.trading.position_closed("BTC-USD", "a lot")
    assert [r.getMessage().split(" dropped")[0] for r in caplog.records] == [
        "otelmetrics.trading.order_placed",
        "otelmetrics.trading.position_closed",
    ]
    assert nothing_recorded(lenient)


@pytest.mark.parametrize(
    ("environment", "strict"),
    [("development", True), ("test", True), ("production", False), (None, False)],
)
def test_strict_follows_the_environment_unless_set(configured, environment, strict):
    assert configured(environment=environment).handle.trading.strict is strict
    assert configured(environment=environment, strict=not strict).handle.trading.strict is (
        not strict
    )


def test_symbols_beyond_the_cap_become_other_and_warn_once(configured, caplog):
    capped = configured(symbol_limit=2)
    with caplog.at_level(logging.WARNING, logger="otelmetrics.core.bounded"):
        for symbol in ("A", "B", "C", "D", "C"):
            capped.handle.trading.order_placed(symbol, "buy")
            capped.handle.trading.feed_message("kraken", symbol, 0.01)
    by_symbol = {p.attributes["trading.symbol"]: p.value for p in capped.points("trading.orders")}
    assert by_symbol == {"A": 1, "B": 1, "_OTHER": 3}
    by_pair = {
        p.attributes["exchange.pair"]: p.count for p in capped.points("exchange.feed.latency")
    }
    assert by_pair == {"A": 1, "B": 1, "_OTHER": 3}
    bounded = [r for r in caplog.records if r.name == "otelmetrics.core.bounded"]
    assert len(bounded) == 1
    assert "OTELMETRICS_SYMBOL_LIMIT" in bounded[0].getMessage()
    # the feed percentiles (fed by feed_message) keep as many pairs, and say so once
    [feed] = [r for r in caplog.records if r.name == "otelmetrics.insights.feed"]
    assert "OTELMETRICS_FEED_PAIRS" in feed.getMessage()


def test_allow_lists_keep_only_the_listed_symbols_and_venues(configured):
    listed = configured(symbols=("BTC-USD",), venues=("kraken",))
    listed.handle.trading.order_placed("BTC-USD", "buy", venue="kraken")
    listed.handle.trading.order_placed("DOGE-USD", "buy", venue="shady")
    listed.handle.trading.feed_message("shady", "DOGE-USD", 0.01)
    listed.handle.trading.breaker_trip("any-name")
    assert {
        (p.attributes["trading.symbol"], p.attributes["trading.venue"])
        for p in listed.points("trading.orders")
    } == {("BTC-USD", "kraken"), ("_OTHER", "_OTHER")}
    (feed,) = listed.points("exchange.feed.latency")
    assert feed.attributes == {"exchange.venue": "_OTHER", "exchange.pair": "_OTHER"}
    assert listed.points("circuit_breaker.trips")[0].attributes == {
        "circuit_breaker.name": "any-name"
    }


def test_order_and_event_types_are_capped(metrics, facade):
    for i in range(25):
        facade.order_placed("BTC-USD", "buy", f"type-{i}")
        facade.feed_message("kraken", "BTC-USD", 0.01, event_type=f"event-{i}")
    types = {p.attributes["trading.order.type"] for p in metrics.points("trading.orders")}
    events = {p.attributes["exchange.event.type"] for p in metrics.points("exchange.feed.events")}
    assert len(types) == len(events) == trading_labels.KIND_LIMIT + 1
    assert "_OTHER" in types and "_OTHER" in events


def test_a_flood_of_new_symbols_keeps_memory_bounded(configured):
    capped = configured(symbol_limit=10)
    for i in range(trading_labels.CACHE_LIMIT + 500):
        capped.handle.trading.order_placed(f"SYM{i}", "buy")
    assert sum(p.value for p in capped.points("trading.orders")) == trading_labels.CACHE_LIMIT + 500
    assert len(capped.points("trading.orders")) == 11
    assert all(len(cache) <= trading_labels.CACHE_LIMIT for cache in capped.handle.trading._caches)


def test_calls_from_many_threads_are_all_counted(metrics, facade):
    threads, calls = 8, 1500
    barrier = threading.Barrier(threads)

    def work(i):
        barrier.wait()
        for _ in range(calls):
            facade.order_placed("BTC-USD", "buy", venue=f"v{i % 2}")
            facade.position_closed("BTC-USD", 1.0)
            facade.feed_message("kraken", "BTC-USD", 0.001)
            facade.feed_trade("kraken", "BTC-USD")

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    total = threads * calls
    assert sum(p.value for p in metrics.points("trading.orders")) == total
    assert sum(p.value for p in metrics.points("trading.trades")) == total
    assert values(metrics, "trading.pnl.realized") == {(): float(total)}
    assert metrics.count("exchange.feed.latency") == total
    assert sum(p.value for p in metrics.points("exchange.feed.trades")) == total
    snapshot = facade.snapshot()
    assert snapshot["orders_today"]["total"] == snapshot["trades"]["deals_today"] == total


def test_calls_from_an_event_loop_and_its_threads(metrics, facade):
    async def main():
        async def feed(i):
            facade.feed_message("kraken", "BTC-USD", 0.001 * i)
            await asyncio.sleep(0)
            facade.order_placed("BTC-USD", "sell")

        await asyncio.gather(*(feed(i) for i in range(50)))
        await asyncio.gather(*(asyncio.to_thread(facade.engine_cycle, 0.01) for _ in range(20)))

    asyncio.run(main())
    assert metrics.count("exchange.feed.latency") == 50
    assert metrics.count("trading.engine.cycle.duration") == 20
    assert sum(p.value for p in metrics.points("trading.orders")) == 50


def test_reset_starts_from_zero(metrics, facade):
    facade.order_placed("BTC-USD", "buy")
    facade.position_opened("BTC-USD")
    facade.position_closed("BTC-USD", 3.0, holding_seconds=5)
    facade.set_unrealized("BTC-USD", 1.0, exposure=2.0)
    facade.breaker_trip("orders")
    facade.feed_status("kraken", True)
    facade.broker_failure("mt5")
    facade.engine_cycle(0.1)
    facade.reset()
    assert nothing_recorded(metrics)
    snapshot = facade.snapshot()
    assert snapshot["orders_today"]["total"] == snapshot["trades"]["total"] == 0
    assert snapshot["positions"] == {"opened_today": 0, "closed_today": 0, "open": 0}
    assert snapshot["pnl"] == {"today": 0.0, "realized": 0.0, "unrealized": 0.0}
    assert (snapshot["feeds"], snapshot["circuit_breakers"], snapshot["brokers"]) == ({}, {}, {})

    facade.order_placed("BTC-USD", "buy")
    assert [p.value for p in metrics.points("trading.orders")] == [1]


def test_reset_after_a_fork_does_not_wait_for_a_lock_held_in_the_parent(metrics, facade):
    held = facade.tables.orders.lock
    held.acquire()  # as if another thread of the parent held it when the process forked
    try:
        facade._fork.pid = -1  # the pid it last saw is not this process's: a forked child
        resetter = threading.Thread(target=facade.reset, daemon=True)
        resetter.start()
        resetter.join(5)
        assert not resetter.is_alive()
        facade.order_placed("BTC-USD", "buy")
        assert [p.value for p in metrics.points("trading.orders")] == [1]
        assert all(table.lock is not held for table in facade.tables)
    finally:
        held.release()


def test_get_returns_the_configured_handles_facade(metrics, monkeypatch):
    monkeypatch.setattr(pipeline_default, "_default", metrics.handle)
    assert trading.get() is metrics.handle.trading


def test_incident_counters_start_at_zero_when_their_source_is_first_reported(metrics):
    trading = metrics.handle.trading
    trading.breaker_state("exchange", "closed")
    trading.feed_status("kraken", True)
    trading.broker_status("mt5", True)
    for name, attributes in (
        ("circuit_breaker.trips", {"circuit_breaker.name": "exchange"}),
        ("exchange.feed.reconnects", {"exchange.venue": "kraken"}),
        ("trading.broker.connection.failures", {"trading.venue": "mt5"}),
    ):
        (point,) = metrics.points(name, **attributes)
        assert point.value == 0, name
