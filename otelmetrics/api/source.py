"""What the JSON API reads: a small Protocol over the components of one configured pipeline.

The API never imports the pipeline. A face hands :class:`~otelmetrics.api.service.MetricsApi`
a callable returning a :class:`MetricsSource`, called per request (a gunicorn worker may
configure its handle lazily, after the routes are mounted). ``MetricsHandle`` satisfies the
Protocol as it is::

    api = MetricsApi(settings, lambda: handle)      # handle: any MetricsSource

Each member is read-only here: the API reads the statistics, records denied requests into the
events, appends snapshots and resets what ``POST /reset`` forgets, and changes nothing else.
"""

from __future__ import annotations

from typing import Protocol

from otelmetrics.insights.alerts import AlertSince
from otelmetrics.insights.feed import FeedLatency
from otelmetrics.insights.snapshots import SnapshotLog
from otelmetrics.insights.stats import Stats
from otelmetrics.instruments.events import Events
from otelmetrics.instruments.http_client import HttpClientMetrics
from otelmetrics.instruments.performance import Performance
from otelmetrics.instruments.trading.facade import TradingMetrics
from otelmetrics.settings import Settings

__all__ = ["MetricsSource"]


class MetricsSource(Protocol):
    """The components the API serves, as one configured pipeline (a handle) holds them."""

    @property
    def settings(self) -> Settings:
        """Thresholds, breaker names, the feed served over SSE, the history length."""

    @property
    def instance_id(self) -> str:
        """This worker's ``service.instance.id``, for the live page's header."""

    @property
    def start_ns(self) -> int:
        """When the pipeline started (epoch nanoseconds), for the uptime."""

    @property
    def stats(self) -> Stats:
        """The rolling statistics: ``/current``, ``/history``, ``/health``, ..."""

    @property
    def events(self) -> Events:
        """Errors and security events: ``/errors``, ``/security``, denied requests."""

    @property
    def trading(self) -> TradingMetrics:
        """The trading facade: ``/trading``, the timings, the operations alerts."""

    @property
    def performance(self) -> Performance:
        """The process's resources: ``/performance``."""

    @property
    def feed_latency(self) -> FeedLatency:
        """The exchange feed's latency percentiles: the SSE feed event."""

    @property
    def snapshots(self) -> SnapshotLog:
        """The CSV snapshot log: ``POST /snapshot``."""

    @property
    def alert_since(self) -> AlertSince:
        """Since when each operations alert has fired: ``/alerts``, ``/status``."""

    @property
    def http_clients(self) -> HttpClientMetrics:
        """The outgoing HTTP calls' metrics and per-host windows: ``/clients``."""
