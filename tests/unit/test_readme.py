"""The docs' tables are a contract: every setting (docs/configuration.md) and every default
metric (docs/metrics.md) is listed."""

from dataclasses import fields
from pathlib import Path

from otelmetrics.settings import Settings

DOCS = Path(__file__).resolve().parents[2] / "docs"
CONFIGURATION = (DOCS / "configuration.md").read_text()
METRICS = (DOCS / "metrics.md").read_text()
# `OTEL_EXPORTER_OTLP_(METRICS_)HEADERS` in the table names both variables.
EXPANDED = CONFIGURATION.replace("(METRICS_)", "METRICS_") + CONFIGURATION.replace("(METRICS_)", "")


def test_every_setting_and_its_variables_are_documented():
    for spec in fields(Settings):
        assert f"| `{spec.name}` |" in CONFIGURATION, spec.name
        for name in spec.metadata["env"].names:
            assert name in EXPANDED, name


def test_every_default_metric_is_documented(metrics):
    from flask import Flask

    import otelmetrics

    app = Flask("readme")
    app.add_url_rule("/x", "x", lambda: "x", methods=["POST"])
    otelmetrics.instrument(app, handle=metrics.handle)
    app.test_client().post("/x", data=b"body")
    for name in metrics.collect():
        assert f"| `{name}` |" in METRICS, name


def test_every_trading_metric_is_documented(metrics):
    trading = metrics.handle.trading
    trading.order_filled("BTC-USD", "buy", latency=0.01)
    trading.position_opened("BTC-USD")
    trading.position_closed("BTC-USD", 1.0, holding_seconds=5)
    trading.set_unrealized("BTC-USD", 1.0, exposure=10.0)
    trading.breaker_state("orders", "open")
    trading.feed_message("kraken", "BTC-USD", 0.01)
    trading.feed_trade("kraken", "BTC-USD")
    trading.feed_status("kraken", False)
    trading.feed_reconnect("kraken")
    trading.engine_cycle(0.1)
    trading.scanner_scan(0.1)
    trading.market_data_delay(0.1)
    trading.broker_status("mt5", True)
    trading.broker_failure("mt5")
    collected = metrics.collect()
    assert {table.specs[0].name for table in trading.tables} <= set(collected)
    for name in collected:
        if name.startswith(("trading.", "exchange.", "circuit_breaker.", "process.uptime")):
            assert f"| `{name}` |" in METRICS, name
