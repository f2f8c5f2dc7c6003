"""What each component reads of the settings, as the plain options it takes."""

from __future__ import annotations

from otelmetrics.core.store import Layout
from otelmetrics.insights.stats import StatsOptions
from otelmetrics.instruments.trading.facade import TradingOptions
from otelmetrics.settings import Settings

__all__ = ["histogram_layout", "stats_options", "trading_options"]


def histogram_layout(settings: Settings) -> Layout:
    """Which histogram buckets the lean tables keep: explicit, exponential, or both."""
    if settings.histogram_aggregation != "base2_exponential_bucket_histogram":
        return "explicit"
    return "both" if "prometheus" in settings.resolved_exporters else "exponential"


def stats_options(settings: Settings) -> StatsOptions:
    """The settings the rolling statistics read."""
    return StatsOptions(
        window_seconds=settings.window_seconds,
        history_minutes=settings.history_minutes,
        user_timeout_seconds=settings.user_timeout_seconds,
        thresholds=settings.thresholds,
        stats_dir=settings.stats_dir,
    )


def trading_options(settings: Settings) -> TradingOptions:
    """The settings the trading facade reads."""
    return TradingOptions(
        strict=settings.resolved_strict,
        currency=settings.currency,
        timezone=settings.timezone,
        window_seconds=settings.window_seconds,
        symbols=settings.symbols,
        venues=settings.venues,
        symbol_limit=settings.symbol_limit,
        cardinality_limit=settings.cardinality_limit,
        layout=histogram_layout(settings),
    )
