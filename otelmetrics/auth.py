"""What an ``authorize`` hook receives and returns (the JSON API's access control).

::

    from otelmetrics.auth import RequestInfo

    def authorize(info: RequestInfo) -> str | None:
        return "admin" if info.headers.get("x-desk") == "ops" else None

The checks themselves are in :mod:`otelmetrics.api.auth`.
"""

from otelmetrics.api.auth import Authorize, RequestInfo, Role

__all__ = ["Authorize", "RequestInfo", "Role"]
