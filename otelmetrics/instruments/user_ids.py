"""Who made a request: the user-id extractors behind ``app.users.active``.

An extractor is ``extractor(request) -> str | None`` (a ``flask.Request`` or a
``starlette.requests.Request``); an int id is turned into a string, ``None`` or ``""`` means
anonymous. The app's own (``OtelMetrics(app, user_id=...)``, ``instrument_app(app,
user_id=...)``) wins over the module-level one (:func:`set_user_id_extractor`), which wins over
the default, :func:`user_id_from`. Re-exported by the public face :mod:`otelmetrics.users`.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from otelmetrics.core.once import LogOnce

if TYPE_CHECKING:
    from otelmetrics.instruments.users import ActiveUsers

__all__ = ["UserIdExtractor", "UserTracker", "set_user_id_extractor", "user_id_from"]

_logger = logging.getLogger(__name__)

UserIdExtractor = Callable[[Any], object]
HEADER_ENVIRON = "HTTP_X_USER_ID"  # the X-User-Id header, in a WSGI environ
HEADER_ASGI = b"x-user-id"  # and in an ASGI scope

_extractor: UserIdExtractor | None = None


def set_user_id_extractor(extractor: UserIdExtractor | None) -> None:
    """Set the extractor used by every app instrumented without its own ``user_id=``.

    Args:
        extractor: ``extractor(request) -> str | None``; ``None`` restores :func:`user_id_from`.

    Raises:
        TypeError: ``extractor`` is not callable.
    """
    if extractor is not None and not callable(extractor):
        raise TypeError(f"set_user_id_extractor needs a callable or None, got {extractor!r}")
    global _extractor
    _extractor = extractor


def user_id_from(request: Any) -> str | None:
    """The default extractor: a Flask session or login user, a request-state user, a header.

    Flask: ``session["user_id"]``, then flask_login's logged-in user (the ``_user_id`` it keeps
    in the session; its user loader is never called). The session is read only when the request
    carries a cookie of its name (reading it otherwise adds ``Vary: Cookie`` to anonymous
    responses). Starlette: ``request.state.user_id``, ``request.state.user`` (a string, or an
    object's ``id``), then an authenticated ``request.user`` (``AuthenticationMiddleware``).
    Both: then the ``X-User-Id`` header.

    Args:
        request: A ``flask.Request`` or a ``starlette.requests.Request``.

    Returns:
        The user id, or None for an anonymous request.
    """
    environ = getattr(request, "environ", None)
    found = _flask_user(environ) if environ is not None else scope_user(request.scope)
    return _as_id(found)


def _flask_user(environ: Mapping[str, Any]) -> object:
    cookies = environ.get("HTTP_COOKIE")
    if cookies:
        flask = sys.modules["flask"]
        if flask.current_app.config["SESSION_COOKIE_NAME"] in cookies:
            session = flask.session._get_current_object()
            found = session.get("user_id")
            if found is None:
                found = session.get("_user_id")
            if found is not None:
                return found
    return environ.get(HEADER_ENVIRON)


def scope_user(scope: Mapping[str, Any]) -> object:
    """The default extractor's Starlette part, read straight from the ASGI scope."""
    state = scope.get("state")
    if state:
        found = state.get("user_id")
        if found is None and (user := state.get("user")) is not None:
            found = user if isinstance(user, str | int) else getattr(user, "id", None)
        if found is not None:
            return found
    user = scope.get("user")
    if user is not None and getattr(user, "is_authenticated", False):
        return getattr(user, "identity", None)
    for name, value in scope["headers"]:
        if name == HEADER_ASGI:
            return value.decode("latin-1")
    return None


def _as_id(found: object) -> str | None:
    if found is None or found == "":
        return None
    return found if isinstance(found, str) else str(found)


class UserTracker:
    """Notes the user of a request: the extractor, made safe, feeding :class:`ActiveUsers`.

    Args:
        users: Where to count.
        extractor: The app's own extractor; None: the module-level one, else the default.
    """

    __slots__ = ("users", "extractor", "_log_once")

    def __init__(self, users: ActiveUsers, extractor: UserIdExtractor | None = None) -> None:
        self.users = users
        self.extractor = extractor
        self._log_once = LogOnce(_logger, logging.ERROR, later=None)

    def __call__(self, request: Any) -> None:
        """Count the request's user, if any; never raises."""
        extract = self.extractor or _extractor or user_id_from
        try:
            self._note(extract(request))
        except Exception:
            self._log(extract)

    def wsgi(self, environ: Mapping[str, Any], current_request: Callable[[], Any]) -> None:
        """Count a Flask request's user; the default extractor reads the environ, and skips an
        anonymous request (no cookie, no header) without touching the request context."""
        extract = self.extractor or _extractor
        try:
            if extract is not None:
                found = current_request()  # None outside a request context
                if found is not None:
                    self._note(extract(found))
            elif "HTTP_COOKIE" in environ or HEADER_ENVIRON in environ:
                self._note(_flask_user(environ))
        except Exception:
            self._log(extract or user_id_from)

    def asgi(self, scope: Mapping[str, Any], make_request: Callable[[Any], Any]) -> None:
        """Count an ASGI request's user; the default extractor skips building the request."""
        extract = self.extractor or _extractor
        try:
            found = scope_user(scope) if extract is None else extract(make_request(scope))
            if found is not None:  # anonymous requests stop here
                self._note(found)
        except Exception:
            self._log(extract or user_id_from)

    def _note(self, found: object) -> None:
        user_id = _as_id(found)
        if user_id is not None:
            self.users.seen(user_id)

    def _log(self, extract: UserIdExtractor) -> None:
        message = "user id extractor %r failed; the request goes on"
        self._log_once("failed", message, extract, exc_info=True)
