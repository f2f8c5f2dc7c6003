"""Who may read the JSON API: a pluggable hook, bearer tokens, or open reads on purpose.

Secure by default: every endpoint except ``/health`` and the (data-free) live page needs a role.
A request gets one from, in order:

1. the ``authorize`` hook you pass to the adapter, which sees a :class:`RequestInfo` and returns
   ``"read"``, ``"admin"`` or ``None`` (use it to admit your app's own logged-in session)::

       def authorize(info):
           user = flask.session.get("user")      # the hook runs inside the request
           if user is None:
               return None                       # fall through to the bearer tokens
           return "admin" if user in ADMINS else "read"

       OtelMetrics(app, authorize=authorize)

2. ``Authorization: Bearer <token>`` matching ``OTELMETRICS_API_ADMIN_TOKEN`` (admin) or
   ``OTELMETRICS_API_TOKEN`` (read), compared in constant time;
3. ``OTELMETRICS_API_PUBLIC=true``: anyone may read (never reset, never list user ids).

No role: 401 ``{"error": "Authentication required"}``. A read role on an admin endpoint: 403.
A hook that raises denies the request (and is logged once).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from otelmetrics.core.once import LogOnce
from otelmetrics.settings import Settings

__all__ = ["Authorize", "RequestInfo", "Role", "role_for"]

_logger = logging.getLogger(__name__)
_log_once = LogOnce(_logger, logging.ERROR)  # a failing hook fails every request: say it once

Role = Literal["read", "admin"]
ROLES: frozenset[str] = frozenset({"read", "admin"})


@dataclass(frozen=True)
class RequestInfo:
    """What an authorize hook sees of one API request.

    Attributes:
        method: ``GET`` or ``POST``.
        path: The request path, prefix included.
        client: The peer address (the proxy's, behind a reverse proxy), or None.
        headers: Request headers with lower-case names.
        request: The framework's own request object (``flask.Request`` or
            ``starlette.requests.Request``), e.g. to read a session.
    """

    method: str
    path: str
    client: str | None
    headers: Mapping[str, str]
    request: Any = field(default=None, repr=False, compare=False)


Authorize = Callable[[RequestInfo], "Role | None"]


def role_for(settings: Settings, hook: Authorize | None, info: RequestInfo) -> Role | None:
    """The role this request holds: the hook's, else a bearer token's, else public read.

    Args:
        settings: Supplies ``api_token``, ``api_admin_token`` and ``api_public``.
        hook: The application's authorize hook, or None.
        info: The request.

    Returns:
        ``"admin"``, ``"read"`` or None (no access).
    """
    role = _hook_role(hook, info) if hook is not None else None
    if role is None:
        role = _token_role(settings, info.headers.get("authorization"))
    if role is None and settings.api_public:
        role = "read"
    return role


def _hook_role(hook: Authorize, info: RequestInfo) -> Role | None:
    try:
        role = hook(info)
    except Exception:
        message = "otelmetrics: the API authorize hook raised; the request is denied"
        _log_once("raised", message, exc_info=True)
        return None
    if role is not None and not (isinstance(role, str) and role in ROLES):  # a list: unhashable
        message = "otelmetrics: the API authorize hook returned %r (denied); return %s"
        _log_once("returned", message, role, "'read', 'admin' or None")
        return None
    return role


def _token_role(settings: Settings, authorization: str | None) -> Role | None:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    given = token.strip().encode()
    # Compare with both tokens every time: the time taken says nothing about which one matched.
    admin = _matches(given, settings.api_admin_token)
    read = _matches(given, settings.api_token)
    if admin:
        return "admin"
    return "read" if read else None


def _matches(given: bytes, expected: str | None) -> bool:
    if not expected:
        return False
    return hmac.compare_digest(given, expected.encode())
