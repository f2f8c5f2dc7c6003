"""Server-Sent Events for ``GET <prefix>/sse/metrics``: formatting and the event sequence.

The stream opens with a ``retry:`` hint, a ``metrics_update`` event and the extra events (the
API sends one: ``kraken_metrics``, the crypto-ai-bot dashboard's exchange-feed view, named by
``sse_feed_event``), then every ``sse_interval`` seconds sends a ``metrics_update`` (the
``/current`` snapshot), the extra events and a ``heartbeat`` (``{"timestamp": <ms since
epoch>}``, as the crypto-ai-bot publisher sent it)::

    retry: 5000

    id: 1
    event: metrics_update
    data: {"timestamp": "...", "request_rate_rpm": 42.5, ...}

    id: 1
    event: kraken_metrics
    data: {"latency_p50_ms": 12.5, ..., "ws_status": "connected", "timestamp": 1769303790123}

    id: 2
    event: metrics_update
    ...
    id: 2
    event: heartbeat
    data: {"timestamp": 1769303790123}

Clients that cannot keep a stream open poll ``GET <prefix>/current`` instead. The framework
adapters own the waiting (a thread sleeps under Flask, a task awaits under Starlette) and end the
stream when the client goes away or after ``max_events`` updates (a query parameter, so tests
and one-shot clients can bound it).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from otelmetrics.core.encoding import to_json
from otelmetrics.core.once import LogOnce

__all__ = ["MetricsStream", "format_event"]

_logger = logging.getLogger(__name__)

MEDIA_TYPE = "text/event-stream"
# Headers every SSE response carries: no caching, no proxy buffering (nginx honours the last).
HEADERS = (("Cache-Control", "no-store"), ("X-Accel-Buffering", "no"))


def format_event(event: str | None, data: Any, *, event_id: int | None = None) -> bytes:
    """One SSE event: ``id``, ``event`` and ``data`` lines (JSON data), then a blank line.

    Args:
        event: The event type (``metrics_update``), or None for the default ``message``.
        data: A JSON-serialisable value; the JSON is one line, so one ``data:`` line.
        event_id: Sent as ``id:`` so a reconnecting client reports the last one it saw.

    Raises:
        ValueError: ``event`` contains a line break (it would split the event).
    """
    if event is not None and ("\n" in event or "\r" in event):
        raise ValueError(f"SSE event name {event!r} must not contain a line break")
    lines = []
    if event_id is not None:
        lines.append(f"id: {event_id}")
    if event is not None:
        lines.append(f"event: {event}")
    lines.append("data: " + to_json(data))
    return ("\n".join(lines) + "\n\n").encode()


class StreamSlots:
    """How many SSE streams one API keeps open at once (``OTELMETRICS_SSE_MAX_STREAMS``).

    Each open stream holds a worker thread under Flask; without a cap, a client with a read
    token could hold them all.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open = 0
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Reserve a slot; False when ``limit`` streams are open."""
        with self._lock:
            if self.open >= self.limit:
                return False
            self.open += 1
            return True

    def give_back(self) -> None:
        with self._lock:
            self.open = max(0, self.open - 1)


class MetricsStream:
    """The events of one SSE connection; the adapter waits ``interval`` between :meth:`tick` s.

    Args:
        snapshot: Returns the current metrics dict (``Stats.current``).
        interval: Seconds between ticks (``sse_interval``).
        max_events: Stop after this many ``metrics_update`` events; None streams until the
            client disconnects.
        events: Further ``(event name, payload callable)`` pairs sent after each
            ``metrics_update`` (a payload that raises is skipped and logged once).
        wall_clock: Seconds since the epoch, for the heartbeat (injected in tests).
        on_close: Called once by :meth:`close` (gives the stream's slot back).
    """

    def __init__(
        self,
        snapshot: Callable[[], Any],
        interval: float,
        *,
        max_events: int | None = None,
        events: Sequence[tuple[str, Callable[[], Any]]] = (),
        wall_clock: Callable[[], float] = time.time,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        for name, _ in events:
            format_event(name, None)  # a bad event name fails here, not in the stream
        self.snapshot = snapshot
        self.interval = interval
        self.max_events = max_events
        self.events = tuple(events)
        self.wall_clock = wall_clock
        self.sent = 0  # updates so far (attempts: a failed snapshot counts too)
        self._log_once = LogOnce(_logger, logging.ERROR, later=None)
        self._on_close = on_close

    def close(self) -> None:
        """The stream is over (ended, or its client left): run ``on_close`` once."""
        on_close, self._on_close = self._on_close, None
        if on_close is not None:
            on_close()

    @property
    def done(self) -> bool:
        """True once ``max_events`` updates were attempted."""
        return self.max_events is not None and self.sent >= self.max_events

    def opening(self) -> bytes:
        """The first chunk: the reconnect delay, an immediate ``metrics_update`` and the extra
        events."""
        retry = f"retry: {max(1, round(self.interval * 1000))}\n\n".encode()
        return retry + self._update()

    def tick(self) -> bytes:
        """One interval's chunk: a ``metrics_update``, the extra events and a ``heartbeat``."""
        update = self._update()
        beat = {"timestamp": int(self.wall_clock() * 1000)}
        return update + format_event("heartbeat", beat, event_id=self.sent)

    def _update(self) -> bytes:
        self.sent += 1
        chunk = self._event("metrics_update", self.snapshot)
        for name, payload in self.events:
            chunk += self._event(name, payload)
        return chunk

    def _event(self, name: str, payload: Callable[[], Any]) -> bytes:
        """One event of this update, or nothing when its payload raises (logged once)."""
        try:
            data = payload()
        except Exception:
            message = "otelmetrics: the SSE %s payload failed; skipping it"
            self._log_once(name, message, name, exc_info=True)
            return b""
        return format_event(name, data, event_id=self.sent)
