"""Websocket metrics, at the import path the docs have always given.

The manual API is :class:`~otelmetrics.instruments.websockets.WebsocketMetrics`
(``handle.websockets``); Flask-SocketIO is instrumented by :mod:`otelmetrics.socketio`, which
these two functions import only when called (so importing this module needs no Socket.IO)::

    from otelmetrics.websockets import instrument_socketio
    instrument_socketio(socketio, broadcast_interval=5)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from otelmetrics.instruments.websockets import Connection, WebsocketMetrics

if TYPE_CHECKING:
    from otelmetrics.pipeline import MetricsHandle

__all__ = ["Connection", "WebsocketMetrics", "instrument_socketio", "uninstrument_socketio"]


def instrument_socketio(
    socketio: Any, *, handle: MetricsHandle | None = None, broadcast_interval: float | None = None
) -> None:
    """Count Flask-SocketIO connections, events and emits; answer ``request_metrics``.

    See :func:`otelmetrics.socketio.instrument_socketio`.
    """
    from otelmetrics import socketio as adapter

    adapter.instrument_socketio(socketio, handle=handle, broadcast_interval=broadcast_interval)


def uninstrument_socketio(socketio: Any) -> None:
    """Undo :func:`instrument_socketio`."""
    from otelmetrics import socketio as adapter

    adapter.uninstrument_socketio(socketio)
