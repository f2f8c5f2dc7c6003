"""``GET /errors`` and ``GET /security``: the errors and the denied API requests, as typed views.

:class:`otelmetrics.instruments.events.Events` keeps both (bounded) and builds these bodies; the
types here are their contract, and the views hand the bodies on unchanged::

    errors_view(events)     # {"errors_24h": 2, "errors_by_scope": {"http": 2}, ...}
    security_view(events)   # {"security_events_24h": 1, "auth_failures_24h": 1, ...}
"""

from __future__ import annotations

from typing import TypedDict, cast

from otelmetrics.instruments.events import Events

__all__ = [
    "ErrorEntry",
    "ErrorsView",
    "SecurityEvent",
    "SecurityView",
    "errors_view",
    "security_view",
]


class ErrorEntry(TypedDict):
    time: str
    scope: str
    message: str


class ErrorsView(TypedDict):
    """``/errors``: errors in the last 24 h and since start, by scope, the latest first."""

    errors_24h: int
    errors_by_scope: dict[str, int]
    total_errors: int
    total_by_scope: dict[str, int]
    last_errors: list[ErrorEntry]


class SecurityEvent(TypedDict):
    """A denied request: ``type`` auth_failure, invalid_token, forbidden or rate_limited."""

    time: str
    type: str
    client: str | None
    path: str


class SecurityView(TypedDict):
    """``/security``: denied API requests in the last 24 h and since start, the latest first."""

    security_events_24h: int
    auth_failures_24h: int
    invalid_token_attempts_24h: int
    events_by_type: dict[str, int]
    total_by_type: dict[str, int]
    recent_events: list[SecurityEvent]


def errors_view(events: Events) -> ErrorsView:
    """``/errors`` (see :meth:`Events.errors`)."""
    return cast(ErrorsView, events.errors())  # Events builds this shape (it cannot import it)


def security_view(events: Events) -> SecurityView:
    """``/security`` (see :meth:`Events.security`)."""
    return cast(SecurityView, events.security())
