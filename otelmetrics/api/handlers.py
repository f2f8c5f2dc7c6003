"""What each JSON API endpoint answers: the response type, parameter checks and bodies.

:class:`otelmetrics.api.service.MetricsApi` rate-limits and authorizes a request, then calls the
handler named after its endpoint in :data:`HANDLERS`. A handler reads ``handle.stats`` and returns
an :class:`ApiResponse`; a bad parameter raises :class:`BadParameter`, which the API turns into a
400 or 404 naming the parameter and what it allows.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from otelmetrics.api import downloads, page, sse
from otelmetrics.api.sse import MetricsStream
from otelmetrics.core.encoding import to_json
from otelmetrics.insights import operations

if TYPE_CHECKING:
    from otelmetrics.api.service import ApiRequest, MetricsApi

__all__ = ["HANDLERS", "ApiResponse", "BadParameter", "int_param", "json_response"]

_logger = logging.getLogger(__name__)

JSON = "application/json"
NO_STORE = (("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff"))
LAST_N_MAX = 1000
LAST_N_DEFAULT = 100
MAX_EVENTS_MAX = 100_000
_INTEGER = re.compile(r"-?[0-9]{1,18}")  # ASCII digits only: no spaces, no other scripts


@dataclass(frozen=True)
class ApiResponse:
    """What an adapter sends: status, body, content type, headers; or an SSE ``stream``."""

    status: int
    body: bytes
    content_type: str = JSON
    headers: tuple[tuple[str, str], ...] = NO_STORE
    stream: MetricsStream | None = None


class BadParameter(ValueError):
    """A query or path parameter is invalid; carries the name and what it allows."""

    def __init__(self, status: int, parameter: str, allowed: Any, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.parameter = parameter
        self.allowed = allowed


def json_response(status: int, body: Mapping[str, Any], *extra: tuple[str, str]) -> ApiResponse:
    """``body`` as strict JSON with the no-store headers (and any ``extra`` ones)."""
    return ApiResponse(status, to_json(body).encode(), headers=NO_STORE + extra)


def int_param(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter in ``low..high``; :class:`BadParameter` (400) otherwise."""
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    allowed = {"min": low, "max": high}
    message = f"{name} must be an integer in {low}..{high}, got {raw[:40]!r}"
    if not _INTEGER.fullmatch(raw) or not low <= int(raw) <= high:
        raise BadParameter(400, name, allowed, message)
    return int(raw)


# -- handlers: (api, request, path params) -> response ---------------------------------------


def _current(api: MetricsApi, request: ApiRequest, params: Mapping[str, str]) -> ApiResponse:
    """This worker's snapshot, or with ``scope=service`` every worker's, merged."""
    stats = api.resolve().stats
    scope = request.query.get("scope") or "worker"
    if scope == "worker":
        return api.ok(metrics=stats.current())
    allowed = ["worker", "service"]
    if scope != "service":
        raise BadParameter(400, "scope", allowed, f"scope must be one of {allowed}")
    try:
        return api.ok(metrics=stats.service_current())
    except LookupError as exc:
        raise BadParameter(400, "scope", ["worker"], str(exc)) from None


def _history(api: MetricsApi, request: ApiRequest, params: Mapping[str, str]) -> ApiResponse:
    most = api.settings.history_minutes
    minutes = int_param(request.query, "minutes", most, 1, most)
    history = api.resolve().stats.history(minutes)
    return api.ok(history=history, count=len(history), minutes=minutes)


def _statistics(api: MetricsApi, request: ApiRequest, params: Mapping[str, str]) -> ApiResponse:
    return api.ok(statistics=api.resolve().stats.statistics())


def _reset(api: MetricsApi, request: ApiRequest, params: Mapping[str, str]) -> ApiResponse:
    """``POST /reset`` and its alias ``POST /clear``: the statistics, the error and security
    views and the feed percentiles start again; the exported counters stay cumulative."""
    handle = api.resolve()
    handle.stats.reset()
    handle.events.clear()
    handle.feed_latency.reset()
    _logger.info("otelmetrics: statistics reset through the API by %s", request.client)
    return api.ok(message="Metrics statistics reset successfully")


def _export_json(api: MetricsApi, request: ApiRequest, params: Mapping[str, str]) -> ApiResponse:
    now = api.now()
    body = downloads.json_export(api.resolve().stats, api.settings.history_minutes, now)
    return _download(body, JSON, downloads.filename("metrics", now, "json"))


def _export_csv(api: MetricsApi, request: ApiRequest, params: Mapping[str, str]) -> ApiResponse:
    now = api.now()
    body = downloads.csv_export(api.resolve().stats.history(api.settings.history_minutes))
    name = downloads.filename("metrics_history", now, "csv")
    return _download(body, "text/csv; charset=utf-8", name)


def _download(body: bytes, content_type: str, name: str) -> ApiResponse:
    disposition = ("Content-Disposition", f'attachment; filename="{name}"')
    return ApiResponse(200, body, content_type, NO_STORE + (disposition,))


def _health(api: MetricsApi, request: ApiRequest, params: Mapping[str, str]) -> ApiResponse:
    stats = api.resolve().stats
    health = stats.health()
    body = {"success": True, "version": stats.version, **health, **api.stamp()}
    return json_response(503 if health.get("status") == "unhealthy" else 200, body)


def _alerts(api: MetricsApi, request: ApiRequest, params: Mapping[str, str]) -> ApiResponse:
    alerts = operations.alerts(api.resolve())  # the statistics' alerts, then seed 004's
    return api.ok(alerts=alerts, count=len(alerts))


def _metric(api: MetricsApi, request: ApiRequest, params: Mapping[str, str]) -> ApiResponse:
    stats = api.resolve().stats
    name = params.get("name", "")
    if name not in stats.STATISTICS:
        message = f"unknown statistic name {name[:80]!r}; use one of {', '.join(stats.STATISTICS)}"
        raise BadParameter(404, "name", list(stats.STATISTICS), message)
    last_n = int_param(request.query, "last_n", LAST_N_DEFAULT, 1, LAST_N_MAX)
    data = stats.series(name, last_n)
    return api.ok(metric=name, data=data, count=len(data), last_n=last_n)


def _summary(api: MetricsApi, request: ApiRequest, params: Mapping[str, str]) -> ApiResponse:
    """``summary`` per statistic (seed 002's count/mean/min/max/latest), then the engine,
    scanner and trading timings (seed 002's aggregated view) beside it."""
    return api.ok(**operations.summary_view(api.resolve()))


def _users(api: MetricsApi, request: ApiRequest, params: Mapping[str, str]) -> ApiResponse:
    users = api.resolve().stats.active_user_ids()
    return api.ok(users=users, count=len(users))


def _sse(api: MetricsApi, request: ApiRequest, params: Mapping[str, str]) -> ApiResponse:
    max_events = int_param(request.query, "max_events", 0, 1, MAX_EVENTS_MAX) or None
    handle = api.resolve()
    if not api.streams.take():
        body = {"error": "Too many open streams", "limit": api.streams.limit}
        wait = str(max(1, round(api.settings.sse_interval)))
        return json_response(503, body, ("Retry-After", wait))
    feed = (api.settings.sse_feed_event, partial(operations.feed_event_view, handle))
    stream = MetricsStream(
        handle.stats.current,
        api.settings.sse_interval,
        max_events=max_events,
        events=(feed,),
        on_close=api.streams.give_back,
    )
    return ApiResponse(200, b"", sse.MEDIA_TYPE, sse.HEADERS, stream)


def _dashboard(api: MetricsApi, request: ApiRequest, params: Mapping[str, str]) -> ApiResponse:
    html, headers = page.render(api.settings)
    return ApiResponse(200, html, "text/html; charset=utf-8", headers)


HANDLERS: dict[str, Callable[[MetricsApi, ApiRequest, Mapping[str, str]], ApiResponse]] = {
    "current": _current,
    "history": _history,
    "statistics": _statistics,
    "reset": _reset,
    "clear": _reset,  # seed 002's name for it
    "export_json": _export_json,
    "export_csv": _export_csv,
    "health": _health,
    "alerts": _alerts,
    "metric": _metric,
    "summary": _summary,
    "users": _users,
    "sse": _sse,
    "dashboard": _dashboard,
}
