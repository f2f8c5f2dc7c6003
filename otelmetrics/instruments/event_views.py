"""The shapes of what :class:`~otelmetrics.instruments.events.Events` reports: its two views.

They are the JSON API's ``/errors`` and ``/security`` bodies (without the envelope), so their
keys are a contract, declared in the order they are sent.
"""

from __future__ import annotations

from typing import TypedDict

__all__ = ["ErrorEntry", "ErrorsView", "SecurityEvent", "SecurityView"]


class ErrorEntry(TypedDict):
    """One recorded error: when (ISO-8601 UTC), its scope and message."""

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
