"""The engine, scanner and trading timings since start: the breakout-bot Metrics API's
aggregated view, read from the trading facade's lean histogram tables.

``GET /summary`` serves them beside each statistic's summary, ``GET /all`` under ``timings``::

    timings(trading.tables)
    # {"engine": {"cycle": {"count": 2, "mean_ms": 20.0, "min_ms": 10.0, "max_ms": 30.0}},
    #  "scanner": {"scan": {...}}, "trading": {"order_latency": {...}, ...}}
"""

from __future__ import annotations

from typing import TypedDict

from otelmetrics.core.store import SeriesTable
from otelmetrics.instruments.trading.tables import Tables

__all__ = [
    "EngineTimings",
    "ScannerTimings",
    "SummaryView",
    "Timing",
    "Timings",
    "TradingTimings",
    "summary_view",
    "timing",
    "timings",
]


class Timing(TypedDict):
    """Count, mean, min and max (ms) of one timing since start; None before any."""

    count: int
    mean_ms: float | None
    min_ms: float | None
    max_ms: float | None


class EngineTimings(TypedDict):
    cycle: Timing


class ScannerTimings(TypedDict):
    scan: Timing


class TradingTimings(TypedDict):
    order_latency: Timing
    market_data_delay: Timing
    feed_latency: Timing


class Timings(TypedDict):
    """The engine, scanner and trading timings (``/all``'s ``timings``)."""

    engine: EngineTimings
    scanner: ScannerTimings
    trading: TradingTimings


class SummaryView(TypedDict):
    """``/summary``: every statistic's count/mean/min/max/latest, then the timings."""

    summary: dict[str, dict[str, float | int]]
    engine: EngineTimings
    scanner: ScannerTimings
    trading: TradingTimings


def timing(table: SeriesTable) -> Timing:
    """Count, mean, min and max (ms) of a seconds histogram table, over all its series."""
    n, total, low, high = 0, 0.0, float("inf"), float("-inf")
    for _, (point,) in table.snapshot():
        if not hasattr(point, "n"):  # both layouts: (explicit, exponential)
            point = point[0]
        n, total = n + point.n, total + point.total
        low, high = min(low, point.min), max(high, point.max)
    if not n:
        return {"count": 0, "mean_ms": None, "min_ms": None, "max_ms": None}
    return {"count": n, "mean_ms": _ms(total / n), "min_ms": _ms(low), "max_ms": _ms(high)}


def timings(tables: Tables) -> Timings:
    """The engine cycle, the scanner, order latency, market-data delay and feed latency."""
    return {
        "engine": {"cycle": timing(tables.cycle)},
        "scanner": {"scan": timing(tables.scanner)},
        "trading": {
            "order_latency": timing(tables.latency),
            "market_data_delay": timing(tables.market_data),
            "feed_latency": timing(tables.feed_latency),
        },
    }


def summary_view(summary: dict[str, dict[str, float | int]], tables: Tables) -> SummaryView:
    """``/summary``: ``Stats.summary()`` under ``summary``, then the timings beside it."""
    found = timings(tables)
    return {"summary": summary, **found}


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)
