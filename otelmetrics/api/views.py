"""The views the API joins from several components of its source, typed.

Each reads a :class:`~otelmetrics.api.source.MetricsSource` and hands plain values to the
builders in :mod:`otelmetrics.insights` (see :mod:`otelmetrics.insights.operations` for which
builder answers which endpoint)::

    views.dashboard(source)    # GET /dashboard-data
    views.alerts(source)       # GET /alerts: the statistics' alerts, then the operations ones

Since when each operations alert has fired is the source's ``alert_since``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

from otelmetrics.api.source import MetricsSource
from otelmetrics.core.forks import pre_fork_master
from otelmetrics.insights.alerts import Alert, OpsFacts, evaluate
from otelmetrics.insights.event_views import errors_view, security_view
from otelmetrics.insights.feed import FeedEvent, feed_event
from otelmetrics.insights.operations import AllView, DashboardData, Identity
from otelmetrics.insights.status import StatusView, ops_facts, status_view
from otelmetrics.insights.timings import SummaryView, summary_view, timings
from otelmetrics.insights.trading_view import TradingView, trading_view

__all__ = [
    "alerts",
    "dashboard",
    "everything",
    "facts",
    "feed",
    "identity",
    "status",
    "summary",
    "trading",
]


def trading(source: MetricsSource, snapshot: Mapping[str, Any] | None = None) -> TradingView:
    """``/trading`` (from ``snapshot``, a trading snapshot just taken, when given)."""
    found = source.trading.snapshot() if snapshot is None else snapshot
    return trading_view(found, source.settings.breaker_names)


def facts(source: MetricsSource, snapshot: Mapping[str, Any] | None = None) -> OpsFacts:
    """What the operations alerts and ``/status`` read (from ``snapshot``, when given)."""
    found = source.trading.snapshot() if snapshot is None else snapshot
    events = source.events
    return ops_facts(source.stats.current(), errors_view(events), security_view(events), found)


def alerts(source: MetricsSource, found: OpsFacts | None = None) -> list[Alert]:
    """``/alerts``: the statistics' threshold alerts, then the operations alerts (read from
    ``found``, the facts of now, when given)."""
    found = facts(source) if found is None else found
    fired = evaluate(found, source.settings.thresholds)
    return source.stats.alerts() + source.alert_since.stamp(fired, time.time())


def status(source: MetricsSource) -> StatusView:
    """``/status``: healthy, or degraded with the alerts' messages."""
    found = facts(source)
    return status_view(found, alerts(source, found), uptime_seconds=_uptime(source))


def summary(source: MetricsSource) -> SummaryView:
    """``/summary``: every statistic's summary, then the engine, scanner and trading timings."""
    return summary_view(source.stats.summary(), source.trading.tables)


def feed(source: MetricsSource) -> FeedEvent:
    """The SSE feed event (``kraken_metrics``) for the configured venue, pairs and breakers."""
    settings = source.settings
    return feed_event(
        source.feed_latency,
        source.trading.snapshot(),
        venue=settings.sse_feed_venue,
        pairs=settings.feed_pairs,
        breakers=settings.breaker_names,
        now=time.time(),
    )


def dashboard(source: MetricsSource) -> DashboardData:
    """``/dashboard-data``: every operations view at once (one trading snapshot for all)."""
    snapshot = source.trading.snapshot()
    found = facts(source, snapshot)
    every_alert = alerts(source, found)
    return {
        "status": status_view(found, every_alert, uptime_seconds=_uptime(source)),
        "alerts": every_alert,
        "current": source.stats.current(),
        "trading": trading(source, snapshot),
        "errors": errors_view(source.events),
        "security": security_view(source.events),
        "performance": source.performance.view(),
        "feed": feed(source),
        "service": identity(source),
    }


def identity(source: MetricsSource) -> Identity:
    """The service, version, environment, this worker, and the workers sharing ``stats_dir``
    (1 for a process no pre-fork server started; None for a worker without a stats directory:
    it cannot know its siblings)."""
    settings = source.settings
    workers = None if _a_worker() else 1
    if settings.stats_dir is not None:
        workers = source.stats.service_current()["workers"]
    return {
        "service": settings.service_name or "unknown_service",
        "version": settings.service_version,
        "environment": settings.environment,
        "instance": source.instance_id,
        "pid": os.getpid(),
        "workers": workers,
        "scope": "worker" if settings.stats_dir is None else "service",
    }


def _a_worker() -> bool:
    """Started by a pre-fork server (gunicorn, ``uvicorn --workers``)."""
    return pre_fork_master() is not None


def everything(source: MetricsSource) -> AllView:
    """``/all``: the dashboard data, the statistics, their history and the timings."""
    stats = source.stats
    return {
        **dashboard(source),
        "statistics": stats.statistics(),
        "history": stats.history(source.settings.history_minutes),
        "summary": stats.summary(),
        "timings": timings(source.trading.tables),
    }


def _uptime(source: MetricsSource) -> float:
    return time.time() - source.start_ns / 1e9
