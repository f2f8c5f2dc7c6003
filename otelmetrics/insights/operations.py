"""The operations views (the breakout-bot Metrics API's, crypto-ai-bot's feed event and the
MT5-style monitoring views): which builder answers which endpoint, and the bodies joining them.

Every builder takes plain values, never the handle; the API reads them from the components it
is given and wraps each body in its envelope, ``{"success": true, **body, "timestamp": ...}``:

=====================  ================================================  ====================
endpoint               body                                              module
=====================  ================================================  ====================
``GET /trading``       ``trading_view(trading.snapshot(), breakers)``    :mod:`.trading_view`
``GET /errors``        ``errors_view(events)``                           :mod:`.event_views`
``GET /security``      ``security_view(events)``                         :mod:`.event_views`
``GET /status``        ``status_view(ops_facts(...), alerts, ...)``      :mod:`.status`
``GET /alerts``        ``Stats.alerts()``, then ``AlertSince.stamp(...)``  :mod:`.alerts`
``GET /summary``       ``summary_view(stats.summary(), trading.tables)``  :mod:`.timings`
``GET /dashboard-data``  :class:`DashboardData`: the views above at once   here
                         (and :class:`Identity`: who answers)
``GET /all``           :class:`AllView`: and the statistics and timings    here
``POST /snapshot``     ``snapshot_row(...)`` (the CSV log's row)          :mod:`.snapshot_row`
SSE ``kraken_metrics``   ``feed_event(...)`` (epoch-ms ``timestamp``)     :mod:`.feed`
=====================  ================================================  ====================

Percentages are 0..100; money is in ``settings.currency``; times are ISO-8601 UTC.
"""

from __future__ import annotations

from typing import TypedDict

from otelmetrics.insights.alerts import Alert
from otelmetrics.insights.event_views import ErrorsView, SecurityView
from otelmetrics.insights.feed import FeedEvent
from otelmetrics.insights.statistics import Snapshot, Statistics
from otelmetrics.insights.status import StatusView
from otelmetrics.insights.timings import Timings
from otelmetrics.insights.trading_view import TradingView
from otelmetrics.instruments.performance import PerformanceView

__all__ = ["AllView", "DashboardData", "Identity"]


class Identity(TypedDict):
    """Who answers: the service, this worker, and how many workers share ``stats_dir``.

    ``workers`` is 1 for a single process, None for a pre-fork worker without a stats directory
    (it cannot see its siblings); ``scope`` is what ``/current?scope=`` the live page shows:
    ``service`` with a stats directory.
    """

    service: str
    version: str | None
    environment: str | None
    instance: str
    pid: int
    workers: int | None
    scope: str


class DashboardData(TypedDict):
    """``/dashboard-data``: every operations view at once, for a UI (the live page's panel).

    ``performance`` is :meth:`otelmetrics.instruments.performance.Performance.view`, ``feed``
    the feed event (:func:`otelmetrics.insights.feed.feed_event`).
    """

    status: StatusView
    alerts: list[Alert]
    current: Snapshot
    trading: TradingView
    errors: ErrorsView
    security: SecurityView
    performance: PerformanceView
    feed: FeedEvent
    service: Identity


class AllView(DashboardData):
    """``/all``: the dashboard data, then the statistics, their history and the timings."""

    statistics: Statistics
    history: list[Snapshot]
    summary: dict[str, dict[str, float | int]]
    timings: Timings
