"""One API call: the request as the adapters see it, what a handler reads, what it answers.

A handler is a function of a :class:`Call`. It reads ``call.source`` (the components, resolved
on first use), the request's query and path parameters and the API's settings, and returns an
:class:`ApiResponse`; a bad parameter raises :class:`BadParameter`, which the API turns into a
400 or 404 naming the parameter and what it allows::

    def history(call: Call) -> ApiResponse:
        most = call.settings.history_minutes
        minutes = int_param(call.request.query, "minutes", most, 1, most)
        found = call.source.stats.history(minutes)
        return call.ok(history=found, count=len(found), minutes=minutes)

Successful bodies share the BotV2 dashboard's envelope:
``{"success": true, ..., "timestamp": <ISO-8601 UTC>}`` (:meth:`Call.ok`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from otelmetrics.api.source import MetricsSource
from otelmetrics.api.sse import MetricsStream, StreamSlots
from otelmetrics.core.encoding import to_json
from otelmetrics.settings import Settings

__all__ = [
    "JSON",
    "NO_STORE",
    "ApiRequest",
    "ApiResponse",
    "BadParameter",
    "Call",
    "int_param",
    "json_response",
]

JSON = "application/json"
NO_STORE = (("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff"))
_INTEGER = re.compile(r"-?[0-9]{1,18}")  # ASCII digits only: no spaces, no other scripts


@dataclass(frozen=True)
class ApiRequest:
    """One request, as the adapters see it (header names lower-case, first query value)."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    client: str | None
    native: Any = field(default=None, repr=False, compare=False)
    # False on a server whose worker would be held by a stream (a non-threaded WSGI worker).
    can_stream: bool = True


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


@dataclass
class Call:
    """What a handler reads of one request and of the API that answers it.

    Attributes:
        request: The request.
        params: Its path parameters (``{"name": ...}`` of ``/metric/{name}``).
        settings: The API's settings (history length, SSE interval and feed event).
        resolve: Returns the source; called once, when a handler first reads :attr:`source`.
        clock: The current UTC time (the envelope's ``timestamp``, export file names).
        streams: The API's open SSE streams.
    """

    request: ApiRequest
    params: Mapping[str, str]
    settings: Settings
    resolve: Callable[[], MetricsSource] = field(repr=False)
    clock: Callable[[], datetime] = field(repr=False)
    streams: StreamSlots = field(repr=False)

    @cached_property
    def source(self) -> MetricsSource:
        """The components this call reads (the live page never resolves them)."""
        return self.resolve()

    def stamp(self) -> dict[str, str]:
        """``{"timestamp": <now, ISO-8601 UTC>}``, the envelope's last field."""
        return {"timestamp": self.clock().isoformat()}

    def ok(self, **body: Any) -> ApiResponse:
        """200 with ``{"success": true, **body, "timestamp": ...}``."""
        return json_response(200, {"success": True, **body, **self.stamp()})
