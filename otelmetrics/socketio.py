"""Flask-SocketIO: one call counts connections per namespace, events received and emits sent.

Usage::

    from flask_socketio import SocketIO
    from otelmetrics.socketio import instrument_socketio

    socketio = SocketIO(app)
    instrument_socketio(socketio, broadcast_interval=5)   # metrics_update every 5 s

Each namespace is a ``websocket.route``; connections count from the moment python-socketio registers
them as connected until they leave (a connect handler that refuses, or raises, leaves the count
untouched; a disconnect handler that raises still counts the client out). Events received and emits
sent carry the event name (capped, see :mod:`otelmetrics.instruments.websockets`); an emit counts
one message per recipient. A client's ``request_metrics`` event is answered with a
``metrics_update`` event holding the current snapshot (unless the app handles ``request_metrics``
itself), as the BotV2 dashboard expects.

The hooks wrap python-socketio's client manager (``connect``, ``disconnect``, ``emit``) and its
event dispatcher, the seams its own admin-UI instrumentation (``Server.instrument``) wraps; the
wrappers never raise into Socket.IO (a failure is logged once).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import flask_socketio  # type: ignore[import-untyped]

from otelmetrics.core.once import LogOnce
from otelmetrics.pipeline import MetricsHandle, default_handle
from otelmetrics.settings import Settings

__all__ = ["instrument_socketio", "uninstrument_socketio"]

_logger = logging.getLogger(__name__)
REQUEST_EVENT = "request_metrics"
UPDATE_EVENT = "metrics_update"
_INSTALLED: weakref.WeakKeyDictionary[Any, _Hooks] = weakref.WeakKeyDictionary()


def instrument_socketio(
    socketio: Any, *, handle: MetricsHandle | None = None, broadcast_interval: float | None = None
) -> None:
    """Count a Flask-SocketIO server's connections, events and emits; answer ``request_metrics``.

    Idempotent: a second call logs a warning and changes nothing.

    Args:
        socketio: The ``flask_socketio.SocketIO``, after ``SocketIO(app)`` or ``init_app(app)``.
        handle: The handle to record into; default: the configured one.
        broadcast_interval: When set, emit ``metrics_update`` with the snapshot to every client
            of the ``/`` namespace every this many seconds (a Socket.IO background task).

    Raises:
        ValueError: ``socketio`` has no server yet, or the interval is not positive.
    """
    if getattr(socketio, "server", None) is None:
        raise ValueError(
            "instrument_socketio needs an initialised SocketIO: call it after SocketIO(app) "
            "or socketio.init_app(app)"
        )
    if broadcast_interval is not None and not broadcast_interval > 0:
        raise ValueError(
            f"broadcast_interval={broadcast_interval!r}: use a positive number of seconds, "
            "or None for no broadcast"
        )
    if socketio in _INSTALLED:
        _logger.warning("otelmetrics: this SocketIO server is already instrumented")
        return
    settings = handle.settings if handle else Settings.from_env()
    if settings.sdk_disabled:
        return
    hooks = _Hooks(socketio, handle, broadcast_interval)
    _INSTALLED[socketio] = hooks
    hooks.install()


def uninstrument_socketio(socketio: Any) -> None:
    """Undo :func:`instrument_socketio` (stops the broadcast, restores the hooks)."""
    hooks = _INSTALLED.pop(socketio, None)
    if hooks is not None:
        hooks.uninstall()


class _Hooks:
    """The wrappers installed on one Socket.IO server, and how to take them off."""

    def __init__(self, socketio: Any, handle: MetricsHandle | None, interval: float | None):
        self.socketio = socketio
        self.server = socketio.server
        self.handle = handle
        self.interval = interval
        self.saved: list[tuple[Any, str, Any]] = []
        self.answering = False
        self.running = False
        self.log_once = LogOnce(_logger, logging.ERROR, later=None)

    def resolve(self) -> MetricsHandle:
        if self.handle is None:
            self.handle = default_handle()
        return self.handle

    def install(self) -> None:
        manager = self.server.manager
        self._wrap(manager, "connect", self._connect)
        self._wrap(manager, "disconnect", self._disconnect)
        self._wrap(manager, "emit", self._emit)
        self._wrap(self.server, "_trigger_event", self._trigger_event)
        if REQUEST_EVENT not in self.server.handlers.get("/", {}):
            self.socketio.on_event(REQUEST_EVENT, self._answer, namespace="/")
            self.answering = True
        if self.interval is not None:
            self.running = True
            self.socketio.start_background_task(self._broadcast)

    def uninstall(self) -> None:
        self.running = False
        for owner, name, before in reversed(self.saved):
            if before is None:
                delattr(owner, name)
            else:
                setattr(owner, name, before)
        if self.answering:
            self.server.handlers.get("/", {}).pop(REQUEST_EVENT, None)

    def snapshot(self) -> dict[str, Any]:
        """The JSON API's current snapshot when the handle has one, else ours."""
        handle = self.resolve()
        stats = getattr(handle, "stats", None)
        if stats is not None:
            current: dict[str, Any] = stats.current()
            return current
        return {
            "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "websocket_connections": handle.websockets.active_total(),
            "active_users": handle.users.count(),
        }

    def _wrap(self, owner: Any, name: str, make: Callable[[Any], Any]) -> None:
        self.saved.append((owner, name, vars(owner).get(name)))
        setattr(owner, name, make(getattr(owner, name)))

    def _safely(self, what: str, action: Callable[[], object]) -> None:
        try:
            action()
        except Exception:
            message = "otelmetrics: counting a Socket.IO %s failed"
            self.log_once(what, message, what, exc_info=True)

    def _connect(self, original: Callable[..., Any]) -> Callable[..., Any]:
        def connect(sid: Any, namespace: str, *args: Any, **kwargs: Any) -> Any:
            found = original(sid, namespace, *args, **kwargs)
            key = sid if found is None else found  # the manager returns the Socket.IO sid
            self._safely("connect", lambda: self.resolve().websockets.connected(namespace, sid=key))
            return found

        return connect

    def _disconnect(self, original: Callable[..., Any]) -> Callable[..., Any]:
        def disconnect(sid: Any, namespace: str | None = None, **kwargs: Any) -> Any:
            try:
                return original(sid, namespace=namespace, **kwargs)
            finally:
                self._gone(sid, namespace or "/")

        return disconnect

    def _gone(self, sid: Any, namespace: str) -> None:
        self._safely(
            "disconnect", lambda: self.resolve().websockets.disconnected(namespace, sid=sid)
        )

    def _emit(self, original: Callable[..., Any]) -> Callable[..., Any]:
        def emit(event: str, data: Any, namespace: str, *args: Any, **kwargs: Any) -> Any:
            found = original(event, data, namespace, *args, **kwargs)
            self._safely("emit", lambda: self._count_sent(event, namespace, kwargs))
            return found

        return emit

    def _count_sent(self, event: str, namespace: str, kwargs: dict[str, Any]) -> None:
        room = kwargs.get("to") or kwargs.get("room")
        skip = kwargs.get("skip_sid")
        skipped = skip if isinstance(skip, list) else [skip]
        participants = self.server.manager.get_participants(namespace, room)
        recipients = sum(1 for sid, _ in participants if sid not in skipped)
        if recipients:
            self.resolve().websockets.sent(namespace, event, recipients)

    def _trigger_event(self, original: Callable[..., Any]) -> Callable[..., Any]:
        def trigger_event(event: str, namespace: str, *args: Any) -> Any:
            if event == "disconnect":
                try:
                    return original(event, namespace, *args)
                finally:  # counted out even when the app's disconnect handler raises
                    self._gone(args[0], namespace)
            if event != "connect":
                self._safely("event", lambda: self.resolve().websockets.received(namespace, event))
            return original(event, namespace, *args)

        return trigger_event

    def _answer(self, *_: Any) -> None:
        """The ``request_metrics`` handler: the snapshot goes back to the requester."""
        self._safely("request_metrics", lambda: flask_socketio.emit(UPDATE_EVENT, self.snapshot()))

    def _broadcast(self) -> None:
        assert self.interval is not None
        while self.running:
            self.socketio.sleep(self.interval)
            if self.running:
                self._safely("broadcast", lambda: self.socketio.emit(UPDATE_EVENT, self.snapshot()))
