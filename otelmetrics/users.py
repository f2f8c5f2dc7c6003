"""Active users, at the import path the docs give: replace how a request's user id is read.

::

    from otelmetrics import users
    users.set_user_id_extractor(lambda request: request.headers.get("X-Account"))

The gauge is :class:`~otelmetrics.instruments.users.ActiveUsers` (``handle.users``); the
extractors are in :mod:`otelmetrics.instruments.user_ids`.
"""

from otelmetrics.instruments.user_ids import UserIdExtractor, set_user_id_extractor, user_id_from
from otelmetrics.instruments.users import ActiveUsers

__all__ = ["ActiveUsers", "UserIdExtractor", "set_user_id_extractor", "user_id_from"]
