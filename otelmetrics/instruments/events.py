"""Errors and security events: bounded recorders behind ``/errors``, ``/security`` and alerts.

One :class:`Events` per handle (``handle.events``)::

    events = handle.events
    events.record_error("trading", "order rejected: insufficient margin")
    events.record_http_error("GET", "/orders/{id}", 500, "ZeroDivisionError")
    events.record_denial(401, client="10.0.0.7", path="/api/metrics/current",
                         token_presented=True)            # an invalid-token attempt

    events.errors()    # {"errors_24h": 2, "errors_by_scope": {...}, "last_errors": [...], ...}
    events.security()  # {"security_events_24h": 1, "invalid_token_attempts_24h": 1, ...}

Memory is fixed whatever the rate: counts of the last 24 h are kept in 288 five-minute slots
(so "24 h" has a 5-minute resolution), the last 10 errors and 20 security events in rings,
scopes are capped at 50 (``http``, ``trading`` and ``feed`` always kept; then ``_OTHER``),
messages at 500 characters and paths at 200. A security event keeps its time, type, client
address and path without the query string, never a header or a token.

Both are exported too, as lean counters: ``app.errors`` (``otelmetrics.error.scope``) and
``otelmetrics.api.security_events`` (``otelmetrics.security.event``: auth_failure,
invalid_token, forbidden, rate_limited), their attributes in our own namespace (``error.*``
and ``event.*`` are the semantic conventions'). Recording never raises: a bad argument is
logged once and dropped.
"""

from __future__ import annotations

import logging
import threading
import time
from array import array
from collections import deque
from collections.abc import Callable
from datetime import datetime, timezone

from otelmetrics.core.bounded import BoundedValues
from otelmetrics.core.forks import ForkGuard
from otelmetrics.core.once import LogOnce
from otelmetrics.core.store import Aggregator, InstrumentSpec, SeriesTable
from otelmetrics.instruments.event_views import (
    ErrorEntry,
    ErrorsView,
    SecurityEvent,
    SecurityView,
)

__all__ = ["KNOWN_SCOPES", "SECURITY_TYPES", "DayCounter", "Events", "security_type"]

_logger = logging.getLogger(__name__)

SECURITY_TYPES = ("auth_failure", "invalid_token", "forbidden", "rate_limited")
SCOPE_LIMIT = 50  # distinct scopes kept, the known ones included; then _OTHER
KNOWN_SCOPES = ("http", "trading", "feed")  # kept whatever else comes first
RECENT_ERRORS = 10
RECENT_SECURITY = 20
MESSAGE_CHARS = 500
PATH_CHARS = 200
CLIENT_CHARS = 64
DAY_SECONDS = 86_400
SLOT_SECONDS = 300

# The counters' attributes: ours, outside the semantic conventions' error.* and event.*.
ERROR_SCOPE = "otelmetrics.error.scope"
SECURITY_EVENT = "otelmetrics.security.event"
ERRORS = InstrumentSpec("app.errors", "counter", "{error}", "Errors recorded, by scope.")
SECURITY_EVENTS = InstrumentSpec(
    "otelmetrics.api.security_events",
    "counter",
    "{event}",
    "Denied requests to the otelmetrics API (401, 403, 429), by type.",
)


def security_type(status: int, *, token_presented: bool) -> str | None:
    """The security event a denied API response is: 401, 403 or 429; None for other statuses.

    A 401 is an ``invalid_token`` attempt when the request carried a bearer token, else an
    ``auth_failure``; a 403 is ``forbidden``; a 429 is ``rate_limited``.
    """
    if status == 401:
        return "invalid_token" if token_presented else "auth_failure"
    return {403: "forbidden", 429: "rate_limited"}.get(status)


class DayCounter:
    """Counts of the last 24 h in five-minute slots: O(1) add, 288 slots read, 4.6 KB."""

    __slots__ = ("stamps", "counts")

    SLOTS = DAY_SECONDS // SLOT_SECONDS

    def __init__(self) -> None:
        self.stamps = array("q", [-1]) * self.SLOTS
        self.counts = array("q", [0]) * self.SLOTS

    def add(self, now: float, n: int = 1) -> None:
        slot = int(now // SLOT_SECONDS)
        index = slot % self.SLOTS
        if self.stamps[index] != slot:
            self.stamps[index] = slot
            self.counts[index] = 0
        self.counts[index] += n

    def total(self, now: float) -> int:
        """The count over the slots of the last 24 h, the current one included."""
        newest = int(now // SLOT_SECONDS)
        oldest = newest - self.SLOTS
        return sum(
            n for stamp, n in zip(self.stamps, self.counts, strict=True) if oldest < stamp <= newest
        )


class Events:
    """The errors and security events of one handle.

    Args:
        limit: The cardinality limit of the two counters (``cardinality_limit``).
        clock: Wall clock in epoch seconds; tests inject one.
    """

    def __init__(self, *, limit: int = 2000, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._limit = limit
        self._fork = ForkGuard()
        self._log_once = LogOnce(_logger, later=None)
        self._lock = threading.Lock()
        self._errors_table = SeriesTable((ERRORS,), (ERROR_SCOPE,), limit=limit, lock=self._lock)
        self._security_table = SeriesTable(
            (SECURITY_EVENTS,), (SECURITY_EVENT,), limit=limit, lock=self._lock
        )
        self._clear()

    def _clear(self) -> None:
        fix = "use fewer error scopes (a route template or a subsystem name, never an id)"
        self._scopes = BoundedValues(ERROR_SCOPE, None, SCOPE_LIMIT, fix=fix)
        for scope in KNOWN_SCOPES:
            self._scopes(scope)
        self._errors_day = DayCounter()
        self._scope_day: dict[str, DayCounter] = {}
        self._scope_total: dict[str, int] = {}
        self._last_errors: deque[ErrorEntry] = deque(maxlen=RECENT_ERRORS)
        self._security_day = {kind: DayCounter() for kind in SECURITY_TYPES}
        self._security_total = dict.fromkeys(SECURITY_TYPES, 0)
        self._recent_security: deque[SecurityEvent] = deque(maxlen=RECENT_SECURITY)

    @property
    def tables(self) -> tuple[SeriesTable, SeriesTable]:
        """``app.errors`` and ``otelmetrics.api.security_events``, exported by every reader."""
        return (self._errors_table, self._security_table)

    # -- recording ------------------------------------------------------------------------

    def record_error(self, scope: str, message: str) -> None:
        """Record one error of ``scope`` (``http``, ``trading``, ``feed``, a route template)."""
        try:
            self._error(str(scope).strip()[:80] or "unknown", _clean(message, MESSAGE_CHARS))
        except Exception as exc:  # never break the caller
            self._warn_once("record_error", exc)

    def record_http_error(
        self, method: str, route: str | None, status: int, error_type: str | None = None
    ) -> None:
        """Record a 5xx response or an unhandled exception of a request (scope ``http``).

        The framework adapters call it only for those (off the path of successful requests).
        """
        try:
            detail = f" {error_type}" if error_type and error_type != str(status) else ""
            message = _clean(f"{method} {route or '(no route)'} -> {status}{detail}", MESSAGE_CHARS)
            self._error("http", message)
        except Exception as exc:  # never break the request
            self._warn_once("record_http_error", exc)

    def record_security(self, event_type: str, *, client: str | None, path: str) -> None:
        """Record one security event; ``event_type`` is one of :data:`SECURITY_TYPES`."""
        try:
            self._security(event_type, client, path)
        except Exception as exc:  # never break the caller
            self._warn_once("record_security", exc)

    def _security(self, event_type: str, client: str | None, path: str) -> None:
        if event_type not in self._security_total:
            raise ValueError(f"unknown type {event_type!r}; use one of {SECURITY_TYPES}")
        now = self.clock()
        entry: SecurityEvent = {
            "time": _iso(now),
            "type": event_type,
            "client": None if client is None else _clean(client, CLIENT_CHARS),
            "path": _clean(str(path).split("?", 1)[0].split("#", 1)[0], PATH_CHARS),
        }
        with self._lock:
            self._count(self._security_table, event_type)
            self._security_day[event_type].add(now)
            self._security_total[event_type] += 1
            self._recent_security.append(entry)

    def record_denial(
        self, status: int, *, client: str | None, path: str, token_presented: bool
    ) -> None:
        """Record a denied API response (401, 403, 429) as its security event; else nothing."""
        kind = security_type(status, token_presented=token_presented)
        if kind is not None:
            self.record_security(kind, client=client, path=path)

    def _error(self, scope: str, message: str) -> None:
        now = self.clock()
        with self._lock:
            kept = self._scopes(scope) or "unknown"
            self._count(self._errors_table, kept)
            self._errors_day.add(now)
            day = self._scope_day.get(kept)
            if day is None:
                day = self._scope_day[kept] = DayCounter()
            day.add(now)
            self._scope_total[kept] = self._scope_total.get(kept, 0) + 1
            self._last_errors.append({"time": _iso(now), "scope": kept, "message": message})

    @staticmethod
    def _count(table: SeriesTable, value: str) -> None:
        series: tuple[Aggregator, ...] = table.series.get((value,)) or table.get((value,))
        series[0].add(1)

    # -- views ----------------------------------------------------------------------------

    def errors(self) -> ErrorsView:
        """Errors of the last 24 h (total, by scope), since start by scope, the last 10."""
        now = self.clock()
        with self._lock:
            by_scope = {scope: day.total(now) for scope, day in self._scope_day.items()}
            return {
                "errors_24h": self._errors_day.total(now),
                "errors_by_scope": {scope: n for scope, n in by_scope.items() if n},
                "total_errors": sum(self._scope_total.values()),
                "total_by_scope": dict(self._scope_total),
                "last_errors": list(reversed(self._last_errors)),
            }

    def security(self) -> SecurityView:
        """Security events of the last 24 h by type, totals since start, the recent ones."""
        now = self.clock()
        with self._lock:
            by_type = {kind: day.total(now) for kind, day in self._security_day.items()}
            return {
                "security_events_24h": sum(by_type.values()),
                "auth_failures_24h": by_type["auth_failure"] + by_type["invalid_token"],
                "invalid_token_attempts_24h": by_type["invalid_token"],
                "events_by_type": by_type,
                "total_by_type": dict(self._security_total),
                "recent_events": list(reversed(self._recent_security)),
            }

    # -- reset ----------------------------------------------------------------------------

    def clear(self) -> None:
        """For the API's reset: forget the views; the exported counters stay cumulative."""
        with self._lock:
            self._clear()

    def reset(self) -> None:
        """Start from zero, exported counters included: in a forked child (with a new lock)."""
        if self._fork.forked():  # the parent's lock may be held by a thread that is gone
            self._lock = threading.Lock()
        with self._lock:
            for table in self.tables:
                table.reset(self._lock)
            self._clear()

    def _warn_once(self, method: str, exc: Exception) -> None:
        self._log_once(
            method,
            "otelmetrics.instruments.events.%s dropped a call: %s: %s (logged once)",
            method,
            type(exc).__name__,
            exc,
        )


def _clean(text: object, limit: int) -> str:
    """``text`` as one printable line of at most ``limit`` characters."""
    value = str(text)[: limit * 2]
    return "".join(ch if ch.isprintable() else " " for ch in value)[:limit]


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat()
