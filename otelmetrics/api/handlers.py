"""What the statistics endpoints answer: ``/current``, ``/history``, ``/statistics``, ``/reset``
(and ``/clear``), ``/health``, ``/alerts``, ``/metric/{name}``, ``/summary``, ``/routes``,
``/clients``, ``/users`` and the SSE stream.

Each handler is a function of one :class:`~otelmetrics.api.call.Call` (listed with its endpoint
in :mod:`otelmetrics.api.endpoints`); the bodies follow the BotV2 dashboard's envelope,
``{"success": true, ..., "timestamp": ...}``, and ``/summary`` adds the breakout-bot timings.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

from otelmetrics.api import sse, views
from otelmetrics.api.call import ApiResponse, BadParameter, Call, int_param, json_response
from otelmetrics.api.sse import MetricsStream
from otelmetrics.insights.clients import clients_view
from otelmetrics.insights.statistics import STATISTICS, Snapshot

__all__ = [
    "alerts",
    "clients",
    "current",
    "health",
    "history",
    "metric",
    "reset",
    "routes",
    "statistics",
    "stream",
    "summary",
    "users",
]

_logger = logging.getLogger(__name__)

LAST_N_MAX = 1000
LAST_N_DEFAULT = 100
RESOLUTIONS = ("1m", "5s")
RECENT_MINUTES = 15  # the 5-second history's default span
RECENT_MINUTES_MAX = 60  # the statistics keep 1,000 samples: 83 minutes of them
MAX_EVENTS_MAX = 100_000


def current(call: Call) -> ApiResponse:
    """This worker's snapshot, or with ``scope=service`` every worker's, merged."""
    return call.ok(metrics=scoped_snapshot(call)())


def scoped_snapshot(call: Call) -> Callable[[], Snapshot]:
    """``stats.current``, or with ``?scope=service`` the merge of every worker's (a 400 without
    ``stats_dir``): what ``/current`` and the SSE stream send."""
    stats = call.source.stats
    scope = call.request.query.get("scope") or "worker"
    allowed = ["worker", "service"]
    if scope not in allowed:
        raise BadParameter(400, "scope", allowed, f"scope must be one of {allowed}")
    if scope == "worker":
        return stats.current
    if call.settings.stats_dir is None:
        message = "set OTELMETRICS_STATS_DIR to merge the workers' statistics"
        raise BadParameter(400, "scope", ["worker"], message)
    return stats.service_current


def history(call: Call) -> ApiResponse:
    """One snapshot per minute of the last ``?minutes`` (default and most: history_minutes);
    with ``?resolution=5s``, every 5-second sample of the last ``minutes`` (default 15)."""
    query, stats = call.request.query, call.source.stats
    resolution = query.get("resolution") or "1m"
    if resolution not in RESOLUTIONS:
        message = f"resolution must be one of {list(RESOLUTIONS)}"
        raise BadParameter(400, "resolution", list(RESOLUTIONS), message)
    found: Sequence[Mapping[str, Any]]
    if resolution == "5s":
        minutes = int_param(query, "minutes", RECENT_MINUTES, 1, RECENT_MINUTES_MAX)
        found = stats.recent(minutes)
    else:
        most = call.settings.history_minutes
        minutes = int_param(query, "minutes", most, 1, most)
        found = stats.history(minutes)
    return call.ok(history=found, count=len(found), minutes=minutes, resolution=resolution)


def routes(call: Call) -> ApiResponse:
    """Each route over the rolling window, worst first: the live page's "what is failing"."""
    found = call.source.stats.routes()
    return call.ok(routes=found, count=len(found), window_seconds=call.settings.window_seconds)


def clients(call: Call) -> ApiResponse:
    """Each upstream host over the window, worst first: the live page's "Outgoing calls"."""
    found = clients_view(call.source.http_clients)
    return call.ok(clients=found, count=len(found), window_seconds=call.settings.window_seconds)


def statistics(call: Call) -> ApiResponse:
    return call.ok(statistics=call.source.stats.statistics())


def reset(call: Call) -> ApiResponse:
    """``POST /reset`` and its alias ``POST /clear``: the statistics, the error and security
    views and the feed percentiles start again; the exported counters stay cumulative."""
    source = call.source
    source.stats.reset()
    source.events.clear()
    source.feed_latency.reset()
    source.http_clients.reset_windows()
    _logger.info("otelmetrics: statistics reset through the API by %s", call.request.client)
    return call.ok(message="Metrics statistics reset successfully")


def health(call: Call) -> ApiResponse:
    """200 while healthy or degraded, 503 when unhealthy; needs no credentials."""
    stats = call.source.stats
    found = stats.health()
    body = {"success": True, "version": stats.version, **found, **call.stamp()}
    return json_response(503 if found["status"] == "unhealthy" else 200, body)


def alerts(call: Call) -> ApiResponse:
    found = views.alerts(call.source)
    return call.ok(alerts=found, count=len(found))


def metric(call: Call) -> ApiResponse:
    """The last ``?last_n`` 5-second samples of the statistic ``{name}``."""
    name = call.params.get("name", "")
    if name not in STATISTICS:
        message = f"unknown statistic name {name[:80]!r}; use one of {', '.join(STATISTICS)}"
        raise BadParameter(404, "name", list(STATISTICS), message)
    last_n = int_param(call.request.query, "last_n", LAST_N_DEFAULT, 1, LAST_N_MAX)
    data = call.source.stats.series(name, last_n)
    return call.ok(metric=name, data=data, count=len(data), last_n=last_n)


def summary(call: Call) -> ApiResponse:
    return call.ok(**views.summary(call.source))


def users(call: Call) -> ApiResponse:
    found = call.source.stats.active_user_ids()
    return call.ok(users=found, count=len(found))


def no_streams_here(prefix: str) -> dict[str, str]:
    """The refusal a server without threads answers at once: a stream would hold its only
    worker for as long as the page stays open. The page polls ``poll`` instead."""
    return {
        "error": "this server cannot hold a stream without blocking a worker (a sync WSGI "
        f"worker): poll {prefix}/current, or serve with threads (gunicorn -k gthread), "
        "gevent, eventlet or an ASGI server",
        "poll": prefix + "/current",
    }


def stream(call: Call) -> ApiResponse:
    """The SSE stream (``?max_events`` bounds it); 503 while ``sse_max_streams`` are open, and
    at once on a server without threads (:func:`no_streams_here`)."""
    max_events = int_param(call.request.query, "max_events", 0, 1, MAX_EVENTS_MAX) or None
    source, settings, streams = call.source, call.settings, call.streams
    snapshot = scoped_snapshot(call)  # a bad scope is a 400 before a slot is taken
    if not call.request.can_stream:
        return json_response(503, no_streams_here(settings.api_prefix))
    if not streams.take():
        body = {"error": "Too many open streams", "limit": streams.limit}
        wait = str(max(1, round(settings.sse_interval)))
        return json_response(503, body, ("Retry-After", wait))
    found = MetricsStream(
        snapshot,
        settings.sse_interval,
        max_events=max_events,
        events=((settings.sse_feed_event, partial(views.feed, source)),),
        on_close=streams.give_back,
    )
    return ApiResponse(200, b"", sse.MEDIA_TYPE, sse.HEADERS, found)
