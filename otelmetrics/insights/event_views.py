"""``GET /errors`` and ``GET /security``: the errors and the denied API requests, as typed views.

:class:`otelmetrics.instruments.events.Events` keeps both (bounded) and builds these bodies, of
the types in :mod:`otelmetrics.instruments.event_views`; the views hand them on unchanged::

    errors_view(events)     # {"errors_24h": 2, "errors_by_scope": {"http": 2}, ...}
    security_view(events)   # {"security_events_24h": 1, "auth_failures_24h": 1, ...}
"""

from __future__ import annotations

from otelmetrics.instruments.event_views import (
    ErrorEntry,
    ErrorsView,
    SecurityEvent,
    SecurityView,
)
from otelmetrics.instruments.events import Events

__all__ = [
    "ErrorEntry",
    "ErrorsView",
    "SecurityEvent",
    "SecurityView",
    "errors_view",
    "security_view",
]


def errors_view(events: Events) -> ErrorsView:
    """``/errors`` (see :meth:`Events.errors`)."""
    return events.errors()


def security_view(events: Events) -> SecurityView:
    """``/security`` (see :meth:`Events.security`)."""
    return events.security()
