"""A Flask app's /metrics shows every trading series under its Prometheus name.

The names below are what Prometheus's OTLP receiver stores for the same data, and so what
/metrics renders (dots become underscores, counters get ``_total``, unit ``s`` adds
``_seconds``, a gauge of unit ``1`` gets ``_ratio``, ``{...}`` adds nothing); the alerting
rules and dashboards use them.
"""

from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

import otelmetrics

# Prometheus sample name -> labels one of its samples carries (service_name etc. aside).
EXPECTED = {
    "trading_orders_total": {
        "trading_symbol": "BTC-USD",
        "trading_side": "buy",
        "trading_order_type": "limit",
        "trading_venue": "kraken",
        "trading_order_status": "filled",
    },
    "trading_order_latency_seconds_bucket": {"trading_symbol": "BTC-USD", "le": "0.05"},
    "trading_order_latency_seconds_count": {"trading_order_type": "limit"},
    "trading_order_latency_seconds_sum": {"trading_side": "buy"},
    "trading_trade_pnl_bucket": {"trading_outcome": "loss", "le": "0.0"},
    "trading_trade_pnl_count": {"trading_outcome": "win", "trading_venue": "kraken"},
    "trading_trade_pnl_sum": {"trading_outcome": "loss", "trading_symbol": "BTC-USD"},
    "trading_trades_total": {"trading_outcome": "win", "trading_symbol": "BTC-USD"},
    "trading_position_duration_seconds_bucket": {"trading_symbol": "BTC-USD"},
    "trading_position_duration_seconds_count": {"trading_symbol": "BTC-USD"},
    "trading_position_duration_seconds_sum": {"trading_symbol": "BTC-USD"},
    "trading_pnl_realized": {},
    "trading_pnl_today": {},
    "trading_pnl_unrealized": {"trading_symbol": "BTC-USD"},
    "trading_exposure": {"trading_symbol": "BTC-USD"},
    "trading_positions_open": {"trading_symbol": "BTC-USD"},
    "trading_win_rate_ratio": {},
    "circuit_breaker_state": {"circuit_breaker_name": "kraken-orders"},
    "circuit_breaker_trips_total": {"circuit_breaker_name": "kraken-orders"},
    "exchange_feed_latency_seconds_bucket": {
        "exchange_venue": "kraken",
        "exchange_pair": "BTC-USD",
    },
    "exchange_feed_latency_seconds_count": {"exchange_venue": "kraken"},
    "exchange_feed_latency_seconds_sum": {"exchange_pair": "BTC-USD"},
    "exchange_feed_reconnects_total": {"exchange_venue": "kraken"},
    "exchange_feed_connection_status": {"exchange_venue": "kraken"},
    "exchange_feed_events_total": {"exchange_venue": "kraken", "exchange_event_type": "spread"},
    "exchange_feed_trades_total": {"exchange_venue": "kraken", "exchange_pair": "BTC-USD"},
    "trading_engine_cycle_duration_seconds_bucket": {},
    "trading_engine_cycle_duration_seconds_count": {},
    "trading_engine_cycle_duration_seconds_sum": {},
    "trading_scanner_duration_seconds_bucket": {},
    "trading_scanner_duration_seconds_count": {},
    "trading_scanner_duration_seconds_sum": {},
    "trading_market_data_delay_seconds_bucket": {},
    "trading_market_data_delay_seconds_count": {},
    "trading_market_data_delay_seconds_sum": {},
    "trading_broker_connection_status": {"trading_venue": "mt5"},
    "trading_broker_connection_failures_total": {"trading_venue": "mt5"},
    "process_uptime_seconds": {},
}


def exercise(trading):
    trading.order_placed("BTC-USD", "buy", "limit", venue="kraken")
    trading.order_filled("BTC-USD", "buy", "limit", venue="kraken", latency=0.042)
    trading.position_opened("BTC-USD", venue="kraken")
    trading.position_opened("BTC-USD", venue="kraken")
    trading.position_closed("BTC-USD", 12.5, venue="kraken", holding_seconds=340)
    trading.position_closed("BTC-USD", -4.0, venue="kraken", holding_seconds=60)
    trading.set_unrealized("BTC-USD", 3.0, exposure=25_000.0)
    trading.breaker_state("kraken-orders", "open")
    trading.feed_message("kraken", "BTC-USD", 0.012, event_type="spread")
    trading.feed_trade("kraken", "BTC-USD", 3)
    trading.feed_status("kraken", False)
    trading.feed_status("kraken", True)
    trading.engine_cycle(0.25)
    trading.scanner_scan(1.2)
    trading.market_data_delay(0.003)
    trading.broker_status("mt5", True)
    trading.broker_failure("mt5")


def scrape(metrics):
    app = Flask("trading")
    otelmetrics.instrument(app, handle=metrics.handle)
    exercise(metrics.handle.trading)
    response = app.test_client().get("/metrics")
    assert response.status_code == 200
    return [
        sample
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    ]


def value(samples, name, **labels):
    (found,) = [s.value for s in samples if s.name == name and labels.items() <= s.labels.items()]
    return found


def test_trading_series_have_their_prometheus_names(metrics):
    samples = scrape(metrics)
    for name, labels in EXPECTED.items():
        assert any(s.name == name and labels.items() <= s.labels.items() for s in samples), (
            f"{name} {labels} missing from /metrics"
        )
    scraped = {s.name for s in samples if s.name.startswith(("trading_", "exchange_", "circuit_"))}
    assert scraped <= set(EXPECTED), scraped - set(EXPECTED)


def test_trading_values_in_prometheus(metrics):
    samples = scrape(metrics)
    assert value(samples, "trading_orders_total", trading_order_status="filled") == 1
    assert value(samples, "trading_trade_pnl_sum", trading_outcome="loss") == -4.0
    assert value(samples, "trading_trade_pnl_count", trading_outcome="win") == 1
    assert value(samples, "trading_pnl_realized") == 8.5
    assert value(samples, "trading_win_rate_ratio") == 0.5
    assert value(samples, "trading_positions_open", trading_symbol="BTC-USD") == 0
    assert value(samples, "circuit_breaker_state", circuit_breaker_name="kraken-orders") == 1
    assert value(samples, "circuit_breaker_trips_total") == 1
    assert value(samples, "exchange_feed_reconnects_total", exchange_venue="kraken") == 1
    assert value(samples, "exchange_feed_connection_status", exchange_venue="kraken") == 1
    assert value(samples, "exchange_feed_trades_total", exchange_pair="BTC-USD") == 3
    assert value(samples, "trading_broker_connection_status", trading_venue="mt5") == 0
    assert value(samples, "process_uptime_seconds") > 0
