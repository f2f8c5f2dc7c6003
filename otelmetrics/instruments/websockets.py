"""Websocket server metrics: active connections, connection duration, messages in and out.

FastAPI/Starlette websockets are tracked by the ASGI middleware with no code of yours, and
Flask-SocketIO by one call (:func:`otelmetrics.socketio.instrument_socketio`). For anything
else, the manual API on ``handle.websockets``::

    ws = otelmetrics.configure().websockets

    with ws.track("/ws/prices/{pair}") as conn:      # also fine inside ``async def``
        for message in feed:
            conn.sent()

    ws.connected("/chat", sid=sid)                   # or in two callbacks, keyed by a sid
    ws.received("/chat", event="order")
    ws.disconnected("/chat", sid=sid)

The active count never goes negative: a connection is counted down once however often it is
closed, and a ``disconnected()`` without a matching ``connected()`` is ignored (logged once).
Routes must be templates (``/ws/prices/{pair}``), never raw paths; Socket.IO event names are
capped at ``event_limit`` distinct names, beyond which they are recorded as ``_OTHER``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Hashable
from time import perf_counter
from types import TracebackType

from otelmetrics.core.aggregators import Total
from otelmetrics.core.once import LogOnce
from otelmetrics.core.store import Aggregator, InstrumentSpec, Layout, SeriesTable

__all__ = ["Connection", "WebsocketMetrics"]

_logger = logging.getLogger(__name__)

# Connections live from milliseconds (a rejected handshake) to days (a dashboard left open).
DURATION_BOUNDS = (
    *(0.01, 0.1, 0.5, 1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0),
    *(1800.0, 3600.0, 7200.0, 14400.0, 28800.0, 86400.0),
)
ACTIVE = InstrumentSpec(
    "websocket.server.active_connections",
    "updowncounter",
    "{connection}",
    "Number of open websocket connections.",
)
DURATION = InstrumentSpec(
    "websocket.server.connection.duration",
    "histogram",
    "s",
    "Duration of websocket connections, from accept to close.",
    DURATION_BOUNDS,
)
RECEIVED = InstrumentSpec(
    "websocket.server.messages.received",
    "counter",
    "{message}",
    "Websocket messages (Socket.IO events) received from clients.",
)
SENT = InstrumentSpec(
    "websocket.server.messages.sent",
    "counter",
    "{message}",
    "Websocket messages (Socket.IO events, one per recipient) sent to clients.",
)
EVENT_LIMIT = 100
OTHER_EVENT = "_OTHER"
MAX_KEYED = 100_000  # open connections remembered by sid; beyond, no duration is recorded


class Connection:
    """One open websocket: counted active until :meth:`close`, which is idempotent.

    Its series are resolved once (the message series at the first message), so counting a
    message is one locked integer add.
    """

    __slots__ = (
        "_metrics",
        "_route",
        "_lock",
        "_active",
        "_duration",
        "_received",
        "_sent",
        "started",
        "closed",
    )

    def __init__(self, metrics: WebsocketMetrics, route: str | None) -> None:
        self._metrics = metrics
        self._route = route
        self._lock = metrics.connections.lock
        self._active, self._duration = metrics.connections.get((route,))
        self._received: Aggregator | None = None
        self._sent: Aggregator | None = None
        self.started = perf_counter()
        self.closed = False

    def received(self, n: int = 1) -> None:
        """Count ``n`` messages received on this connection."""
        lock = self._lock
        lock.acquire()
        try:
            (self._received or self._resolve_received()).add(n)
        finally:
            lock.release()

    def sent(self, n: int = 1) -> None:
        """Count ``n`` messages sent on this connection."""
        lock = self._lock
        lock.acquire()
        try:
            (self._sent or self._resolve_sent()).add(n)
        finally:
            lock.release()

    def _resolve_received(self) -> Aggregator:
        self._received = self._metrics.received_messages.get((self._route, None))[0]
        return self._received

    def _resolve_sent(self) -> Aggregator:
        self._sent = self._metrics.sent_messages.get((self._route, None))[0]
        return self._sent

    def close(self) -> None:
        """Count the connection down and record its duration; later calls do nothing."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            _decrement(self._active)
            self._duration.add(perf_counter() - self.started)


class _Tracked:
    """``track()``'s context manager, for ``with`` and ``async with``."""

    __slots__ = ("_metrics", "_route", "_connection")

    def __init__(self, metrics: WebsocketMetrics, route: str) -> None:
        self._metrics = metrics
        self._route = route

    def __enter__(self) -> Connection:
        self._connection = self._metrics.connected(self._route)
        return self._connection

    def __exit__(self, *exc: object) -> None:
        self._connection.close()

    async def __aenter__(self) -> Connection:
        return self.__enter__()

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._connection.close()


class WebsocketMetrics:
    """The websocket instruments of one handle (``handle.websockets``).

    Args:
        limit: Series per table (the cardinality limit).
        layout: Histogram bucket layout (follows the handle's setting).
        event_limit: Distinct Socket.IO event names kept; later ones become ``_OTHER``.
    """

    def __init__(
        self, *, limit: int, layout: Layout = "explicit", event_limit: int = EVENT_LIMIT
    ) -> None:
        lock = threading.Lock()
        self.connections = SeriesTable(
            (ACTIVE, DURATION), ("websocket.route",), limit=limit, layout=layout, lock=lock
        )
        message_attributes = ("websocket.route", "websocket.event")
        self.received_messages = SeriesTable(
            (RECEIVED,), message_attributes, limit=limit, lock=lock
        )
        self.sent_messages = SeriesTable((SENT,), message_attributes, limit=limit, lock=lock)
        self.event_limit = event_limit
        self._events: set[str] = set()
        self._keyed: dict[tuple[str | None, Hashable], Connection] = {}
        self._log_once = LogOnce(_logger, later=None)

    @property
    def tables(self) -> tuple[SeriesTable, ...]:
        return (self.connections, self.received_messages, self.sent_messages)

    def track(self, route: str) -> _Tracked:
        """A context manager counting one connection on ``route`` while the block runs.

        Works with ``with`` and ``async with``; it yields the :class:`Connection`, whose
        ``received()`` / ``sent()`` count messages. A raise inside the block still closes it.
        """
        return _Tracked(self, route)

    def connected(self, route: str | None, *, sid: Hashable | None = None) -> Connection:
        """Count a connection on ``route`` as open.

        Args:
            route: The route template or Socket.IO namespace (None: no route attribute).
            sid: Any id of the connection; pass it again to :meth:`disconnected` to record
                the duration. A second ``connected`` with the same sid counts nothing.

        Returns:
            The connection; ``close()`` on it is another way to end it.
        """
        with self.connections.lock:
            if sid is not None and (route, sid) in self._keyed:
                return self._keyed[(route, sid)]
            connection = Connection(self, route)
            connection._active.add(1)
            if sid is not None and len(self._keyed) < MAX_KEYED:
                self._keyed[(route, sid)] = connection
        return connection

    def disconnected(self, route: str, *, sid: Hashable | None = None) -> None:
        """Count a connection on ``route`` as closed (its duration too when ``sid`` is known).

        Without a sid, or with one that is not open, the count goes down only if it is above
        zero: a stray disconnect never makes it negative.
        """
        lock = self.connections.lock
        with lock:
            connection = self._keyed.pop((route, sid), None) if sid is not None else None
        if connection is not None:
            connection.close()
            return
        if sid is not None:
            return  # already closed, or rejected before it was counted
        with lock:
            series = self.connections.series.get((route,))
            if series is None or not _decrement(series[0]):
                message = "websockets.disconnected(%r) without a matching connected(); ignored"
                self._log_once("unmatched", message, route)

    def received(self, route: str, event: str | None = None, n: int = 1) -> None:
        """Count ``n`` messages received on ``route`` (``event``: the Socket.IO event name)."""
        self._count(self.received_messages, route, event, n)

    def sent(self, route: str, event: str | None = None, n: int = 1) -> None:
        """Count ``n`` messages sent on ``route`` (``event``: the Socket.IO event name)."""
        self._count(self.sent_messages, route, event, n)

    def active_total(self) -> int:
        """Open connections over all routes (the JSON API's ``websocket_connections``)."""
        return int(sum(active for _, (active, _duration) in self.connections.snapshot()))

    def reset(self) -> None:
        """Start from zero (after a fork), keeping one lock shared by both tables."""
        lock = threading.Lock()
        for table in self.tables:
            table.reset(lock)
        self._events = set()
        self._keyed = {}

    def _count(self, table: SeriesTable, route: str, event: str | None, n: int) -> None:
        with table.lock:
            key = (route, None if event is None else self._event(event))
            (table.series.get(key) or table.get(key))[0].add(n)

    def _event(self, event: str) -> str:
        """The event name, or ``_OTHER`` beyond ``event_limit`` names. Call with the lock."""
        events = self._events
        if event in events:
            return event
        if len(events) < self.event_limit:
            events.add(event)
            return event
        return OTHER_EVENT


def _decrement(active: Aggregator) -> bool:
    """Count down unless already at zero; True when it counted. Call with the lock."""
    assert isinstance(active, Total)
    if active.value <= 0:
        return False
    active.value -= 1
    return True
