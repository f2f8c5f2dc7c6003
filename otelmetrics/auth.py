"""The JSON API's access control, for an ``authorize`` hook and for endpoints of your own.

::

    from otelmetrics.auth import RequestInfo

    def authorize(info: RequestInfo) -> str | None:
        return "admin" if info.headers.get("x-desk") == "ops" else None

:func:`role_for` gives a request the role the JSON API would (the hook, then the bearer
tokens); ``UNAUTHORIZED`` and ``FORBIDDEN`` are the API's 401 and 403 bodies. The checks
themselves are in :mod:`otelmetrics.api.auth`.
"""

from otelmetrics.api.auth import Authorize, RequestInfo, Role, role_for
from otelmetrics.api.service import FORBIDDEN, UNAUTHORIZED

__all__ = ["FORBIDDEN", "UNAUTHORIZED", "Authorize", "RequestInfo", "Role", "role_for"]
