"""Trading metrics: one facade an engine calls for orders, trades, breakers, feeds and timing.

Usage::

    from otelmetrics import trading

    metrics = trading.get()  # the configured handle's facade (handle.trading)
    metrics.order_placed("BTC-USD", "buy", "limit", venue="kraken")
    metrics.position_closed("BTC-USD", 12.5, venue="kraken", holding_seconds=340)

The facade itself is :class:`~otelmetrics.instruments.trading.facade.TradingMetrics`.
"""

from __future__ import annotations

from otelmetrics.instruments.trading.facade import TradingMetrics

__all__ = ["TradingMetrics", "get"]


def get() -> TradingMetrics:
    """The trading facade of the configured handle (configured from the environment if none)."""
    from otelmetrics.pipeline import default_handle

    return default_handle().trading
