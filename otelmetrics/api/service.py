"""The in-process JSON API, framework-neutral: the checks every request goes through.

The Flask blueprint (:mod:`otelmetrics.api.flask_routes`) and the Starlette router
(:mod:`otelmetrics.api.starlette_routes`) register one route per endpoint of
:data:`otelmetrics.api.endpoints.ENDPOINTS` and hand each request to :meth:`MetricsApi.respond`,
so both frameworks send the same bytes. Every request goes through, in order: the role check
(401 ``{"error": "Authentication required"}``, 403 without the admin role), the rate limit (429
with ``Retry-After``) of the ``denied`` budget for a request refused its role, else of its
endpoint's class, then the endpoint's handler, which validates its parameters (400/404 naming
the parameter and what it allows). Refused requests spend a budget of their own, so a flood
without credentials from one address never starves the valid clients behind it, and
``/health`` has no budget at all. Every 429, 401 and 403 is recorded as a security event (the
source's ``events``: ``/security`` and the ``otelmetrics.api.security_events`` counter). Under
the prefix, a path that is no endpoint answers 404 and a wrong method 405, both in the same
``{"error": ...}`` shape (:func:`not_found`, :func:`wrong_method`)::

    api = MetricsApi(settings, lambda: handle)
    response = api.respond(ENDPOINT["history"], ApiRequest("GET", "/api/metrics/history",
                                                           {"minutes": "5"}, headers, "10.0.0.7"))
    response.status, response.body      # 200, b'{"success":true,"history":[...],...}'
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timezone

from otelmetrics.api.auth import Authorize, RequestInfo, role_for
from otelmetrics.api.call import ApiRequest, ApiResponse, BadParameter, Call, json_response
from otelmetrics.api.endpoints import ENDPOINTS, Endpoint
from otelmetrics.api.ratelimit import RateLimiter, retry_after
from otelmetrics.api.source import MetricsSource
from otelmetrics.api.sse import StreamSlots
from otelmetrics.core.once import LogOnce
from otelmetrics.settings import Settings

__all__ = ["CROSS_SITE", "FORBIDDEN", "UNAUTHORIZED", "MetricsApi", "not_found", "wrong_method"]

_logger = logging.getLogger(__name__)

UNAUTHORIZED = {"error": "Authentication required"}  # the BotV2 MetricsMonitor's, byte for byte
FORBIDDEN = {"error": "Admin role required"}
CROSS_SITE = {"error": "Cross-site request refused"}
CHALLENGE = ("WWW-Authenticate", 'Bearer realm="otelmetrics"')
INTERNAL = {"error": "Internal error; the server log has the details"}
NOT_FOUND = {"error": "Not found: no API endpoint at this path"}
DENIED = "denied"  # the budget of the requests refused for their credentials


class MetricsApi:
    """The API over one source of metrics: checks every request, then calls its handler.

    Args:
        settings: Paths, tokens, rate limits, history length and thresholds.
        resolve: Returns the source whose components are served (called per request, so a
            handle configured lazily in a gunicorn worker is found).
        authorize: The application's authorize hook (see :mod:`otelmetrics.api.auth`).
        limiter: Rate limiter; default one from ``settings.api_rate_limits``.
        now: The current UTC time (tests inject one for export file names).
    """

    def __init__(
        self,
        settings: Settings,
        resolve: Callable[[], MetricsSource],
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
        self._log_once = LogOnce(_logger, logging.ERROR)
        # The endpoints the routers serve: every one but an alias whose path /metrics or the
        # live page has (with the API at the root, say).
        taken = {settings.metrics_path, settings.dashboard_path}
        self.routed = tuple(e for e in ENDPOINTS if e.alias_of is None or self.path(e) not in taken)
        # The alias whose path is the live page's (``<prefix>/dashboard`` by default), if one is.
        self._page_alias = next(
            (e for e in ENDPOINTS if e.alias_of and self.path(e) == settings.dashboard_path), None
        )

    def path(self, endpoint: Endpoint) -> str:
        """The full path of ``endpoint`` (``{name}`` kept as the framework-neutral template)."""
        if endpoint.path is None:
            return self.settings.dashboard_path
        return self.settings.api_prefix.rstrip("/") + endpoint.path

    def respond(
        self, endpoint: Endpoint, request: ApiRequest, params: Mapping[str, str] | None = None
    ) -> ApiResponse:
        """Authorize, rate limit, then answer through the endpoint's handler; never raises.

        At the live page's path a client that asks for JSON and not HTML is answered by the
        alias that shares the path (a browser, or ``Accept: */*``, gets the page).
        """
        if endpoint.path is None and self._page_alias and _asks_for_json(request.headers):
            endpoint = self._page_alias
        denied = self._check_role(endpoint, request)
        budget = DENIED if denied is not None else endpoint.limit
        wait = self.limiter.acquire(request.client, budget)
        if wait is not None:
            seconds = retry_after(wait)
            body = {"error": "Rate limit exceeded", "limit": budget, "retry_after": seconds}
            return self._denied(request, json_response(429, body, ("Retry-After", str(seconds))))
        if denied is not None:
            return self._denied(request, denied)
        call = Call(request, params or {}, self.settings, self.resolve, self.now, self.streams)
        try:
            return endpoint.handler(call)
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
            return json_response(401, UNAUTHORIZED, CHALLENGE)
        if endpoint.role == "admin" and role != "admin":
            return json_response(403, FORBIDDEN)
        return None

    def _denied(self, request: ApiRequest, response: ApiResponse) -> ApiResponse:
        """Record a 401, 403 or 429 as a security event (the source's events); never raises."""
        try:
            self.resolve().events.record_denial(
                response.status,
                client=request.client,
                path=request.path,
                token_presented=_bearer_presented(request.headers),
            )
        except Exception:
            message = "otelmetrics: recording an API security event failed"
            self._log_once("security event", message, exc_info=True)
        return response

    def _failure(self, endpoint: Endpoint) -> ApiResponse:
        message = "otelmetrics: API endpoint %s failed"
        self._log_once(endpoint.name, message, endpoint.name, exc_info=True)
        if endpoint.name == "health":
            body = {"success": False, "status": "unhealthy", "timestamp": self.now().isoformat()}
            return json_response(503, body)
        return json_response(500, INTERNAL)


def not_found() -> ApiResponse:
    """404 for a path under the API prefix that is no endpoint."""
    return json_response(404, NOT_FOUND)


def wrong_method(allowed: tuple[str, ...]) -> ApiResponse:
    """405 for a method an endpoint does not answer, with the ``Allow`` header."""
    body = {"error": "Method not allowed", "allowed": list(allowed)}
    return json_response(405, body, ("Allow", ", ".join(allowed)))


def _asks_for_json(headers: Mapping[str, str]) -> bool:
    accept = headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _bearer_presented(headers: Mapping[str, str]) -> bool:
    """True when the request carried ``Authorization: Bearer <something>``."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(token.strip())
