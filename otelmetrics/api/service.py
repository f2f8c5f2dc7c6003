"""The in-process JSON API, framework-neutral: the endpoint table and the checks.

The Flask blueprint (:mod:`otelmetrics.api.flask_routes`) and the Starlette router
(:mod:`otelmetrics.api.starlette_routes`) register one route per :data:`ENDPOINTS` entry and hand
each request to :meth:`MetricsApi.respond`, so both frameworks send the same bytes. Every request
goes through, in order: the rate limit of its endpoint class (429 with ``Retry-After``), the role
check (401 ``{"error": "Authentication required"}``, 403 without the admin role), then parameter
validation (400/404 naming the parameter and what it allows). Every 429, 401 and 403 is recorded as
a security event (``handle.events``: ``/security`` and the ``otelmetrics.api.security_events``
counter)::

    api = MetricsApi(settings, lambda: handle)
    response = api.respond(ENDPOINT["history"], ApiRequest("GET", "/api/metrics/history",
                                                           {"minutes": "5"}, headers, "10.0.0.7"))
    response.status, response.body      # 200, b'{"success":true,"history":[...],...}'

The bodies are in :mod:`otelmetrics.api.handlers` and, for the operations views,
:mod:`otelmetrics.api.operations`; successful ones follow seed 001:
``{"success": true, ..., "timestamp": <ISO-8601 UTC>}``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from otelmetrics.api.auth import Authorize, RequestInfo, Role, role_for
from otelmetrics.api.handlers import HANDLERS as REQUEST_HANDLERS
from otelmetrics.api.handlers import ApiResponse, BadParameter, json_response
from otelmetrics.api.operations import OPERATIONS_HANDLERS
from otelmetrics.api.ratelimit import RateLimiter, retry_after
from otelmetrics.api.sse import StreamSlots
from otelmetrics.settings import Settings

if TYPE_CHECKING:
    from otelmetrics.pipeline.handle import MetricsHandle

__all__ = ["ENDPOINT", "ENDPOINTS", "ApiRequest", "ApiResponse", "Endpoint", "MetricsApi"]

_logger = logging.getLogger(__name__)

UNAUTHORIZED = {"error": "Authentication required"}  # seed 001, byte for byte
FORBIDDEN = {"error": "Admin role required"}
CROSS_SITE = {"error": "Cross-site request refused"}
CHALLENGE = ("WWW-Authenticate", 'Bearer realm="otelmetrics"')
HANDLERS = {**REQUEST_HANDLERS, **OPERATIONS_HANDLERS}


@dataclass(frozen=True)
class Endpoint:
    """One API endpoint: its method, path under the prefix, role and rate-limit class.

    ``role`` None means no authorization (``/health``, the data-free live page). A ``path``
    of None is the live page, served at ``settings.dashboard_path`` rather than under the prefix.
    """

    name: str
    method: str
    path: str | None
    role: Role | None
    limit: str
    summary: str


ENDPOINTS = (
    Endpoint("current", "GET", "/current", "read", "read", "the current snapshot"),
    Endpoint("history", "GET", "/history", "read", "read", "one snapshot per minute"),
    Endpoint("statistics", "GET", "/statistics", "read", "read", "current, totals, config"),
    Endpoint("reset", "POST", "/reset", "admin", "reset", "reset the statistics"),
    Endpoint("export_json", "GET", "/export/json", "read", "export", "download as JSON"),
    Endpoint("export_csv", "GET", "/export/csv", "read", "export", "download history as CSV"),
    Endpoint("health", "GET", "/health", None, "read", "healthy, degraded or unhealthy"),
    Endpoint("alerts", "GET", "/alerts", "read", "read", "thresholds breached now"),
    Endpoint("metric", "GET", "/metric/{name}", "read", "read", "one statistic's series"),
    Endpoint("summary", "GET", "/summary", "read", "read", "count/mean/min/max/latest"),
    Endpoint("users", "GET", "/users", "admin", "read", "active user ids"),
    Endpoint("sse", "GET", "/sse/metrics", "read", "read", "Server-Sent Events stream"),
    Endpoint("dashboard", "GET", None, None, "read", "the live page"),
    # The operations views (seeds 002-004; bodies in otelmetrics.api.operations).
    Endpoint("performance", "GET", "/performance", "read", "read", "process resources"),
    Endpoint("trading", "GET", "/trading", "read", "read", "orders, positions, P&L today"),
    Endpoint("errors", "GET", "/errors", "read", "read", "errors in 24 h, the last 10"),
    Endpoint("security", "GET", "/security", "read", "read", "denied API requests"),
    Endpoint("status", "GET", "/status", "read", "read", "the quick check"),
    Endpoint("dashboard_data", "GET", "/dashboard-data", "read", "read", "every view at once"),
    Endpoint("all", "GET", "/all", "read", "export", "everything collected"),
    Endpoint("snapshot", "POST", "/snapshot", "admin", "snapshot", "append a CSV row"),
    Endpoint("clear", "POST", "/clear", "admin", "reset", "alias of /reset"),
)
ENDPOINT = {endpoint.name: endpoint for endpoint in ENDPOINTS}


@dataclass(frozen=True)
class ApiRequest:
    """One request, as the adapters see it (header names lower-case, first query value)."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    client: str | None
    native: Any = field(default=None, repr=False, compare=False)


class MetricsApi:
    """The API of one handle: checks every request, then builds the response.

    Args:
        settings: Paths, tokens, rate limits, history length and thresholds.
        resolve: Returns the handle whose ``stats`` are served (resolved per request, so a
            handle configured lazily in a gunicorn worker is found).
        authorize: The application's authorize hook (see :mod:`otelmetrics.api.auth`).
        limiter: Rate limiter; default one from ``settings.api_rate_limits``.
        now: The current UTC time (tests inject one for export file names).
    """

    def __init__(
        self,
        settings: Settings,
        resolve: Callable[[], MetricsHandle],
        *,
        authorize: Authorize | None = None,
        limiter: RateLimiter | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self.settings = settings
        self.resolve = resolve
        self.authorize = authorize
        self.limiter = limiter or RateLimiter(settings.api_rate_limits)
        self.streams = StreamSlots(settings.sse_max_streams)
        self.now = now
        self._failed: set[str] = set()

    def path(self, endpoint: Endpoint) -> str:
        """The full path of ``endpoint`` (``{name}`` kept as the framework-neutral template)."""
        if endpoint.path is None:
            return self.settings.dashboard_path
        return self.settings.api_prefix.rstrip("/") + endpoint.path

    def respond(
        self, endpoint: Endpoint, request: ApiRequest, params: Mapping[str, str] | None = None
    ) -> ApiResponse:
        """Rate limit, authorize, validate, then answer; never raises."""
        wait = self.limiter.acquire(request.client, endpoint.limit)
        if wait is not None:
            seconds = retry_after(wait)
            body = {"error": "Rate limit exceeded", "limit": endpoint.limit, "retry_after": seconds}
            return self._denied(request, json_response(429, body, ("Retry-After", str(seconds))))
        denied = self._check_role(endpoint, request)
        if denied is not None:
            return self._denied(request, denied)
        try:
            return HANDLERS[endpoint.name](self, request, params or {})
        except BadParameter as exc:
            allowed = {"parameter": exc.parameter, "allowed": exc.allowed}
            return json_response(exc.status, {"error": str(exc), **allowed})
        except Exception:
            return self._failure(endpoint)

    def _check_role(self, endpoint: Endpoint, request: ApiRequest) -> ApiResponse | None:
        if endpoint.role is None:
            return None
        if request.method == "POST" and request.headers.get("sec-fetch-site") == "cross-site":
            # A browser posting from another site (CSRF through a session an authorize hook
            # admits): refused whatever it carries. Non-browser clients send no such header.
            return json_response(403, CROSS_SITE)
        info = RequestInfo(
            request.method, request.path, request.client, request.headers, request.native
        )
        role = role_for(self.settings, self.authorize, info)
        if role is None:
            return json_response(
                401, UNAUTHORIZED, ("WWW-Authenticate", 'Bearer realm="otelmetrics"')
            )
        if endpoint.role == "admin" and role != "admin":
            return json_response(403, FORBIDDEN)
        return None

    def _denied(self, request: ApiRequest, response: ApiResponse) -> ApiResponse:
        """Record a 401, 403 or 429 as a security event (``handle.events``); never raises."""
        try:
            self.resolve().events.record_denial(
                response.status,
                client=request.client,
                path=request.path,
                token_presented=_bearer_presented(request.headers),
            )
        except Exception:
            self._log_once("security event", "otelmetrics: recording an API security event failed")
        return response

    def _failure(self, endpoint: Endpoint) -> ApiResponse:
        self._log_once(endpoint.name, f"otelmetrics: API endpoint {endpoint.name} failed")
        if endpoint.name == "health":
            return json_response(503, {"success": False, "status": "unhealthy", **self.stamp()})
        return json_response(500, {"error": "Internal error; the server log has the details"})

    def _log_once(self, kind: str, message: str) -> None:
        """Log the first failure of each kind as an error (with the traceback), later ones at
        debug level."""
        level = logging.DEBUG if kind in self._failed else logging.ERROR
        self._failed.add(kind)
        _logger.log(level, "%s", message, exc_info=True)

    def stamp(self) -> dict[str, str]:
        """``{"timestamp": <now, ISO-8601 UTC>}``, the envelope's last field."""
        return {"timestamp": self.now().isoformat()}

    def ok(self, **body: Any) -> ApiResponse:
        """200 with ``{"success": true, **body, "timestamp": ...}``."""
        return json_response(200, {"success": True, **body, **self.stamp()})


def _bearer_presented(headers: Mapping[str, str]) -> bool:
    """True when the request carried ``Authorization: Bearer <something>``."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(token.strip())
