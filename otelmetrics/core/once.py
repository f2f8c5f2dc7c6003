"""Log a failure the first time it happens, and at debug level after that.

Code on the request path and in callbacks must not raise, and must not flood the log either::

    _log_once = LogOnce(logging.getLogger(__name__))

    try:
        read()
    except Exception:
        _log_once("read", "otelmetrics: reading %s failed", what, exc_info=True)

Keys are kinds of failure (a method name, a field), never request data, so the set of keys
stays small. ``forget(key)`` logs the next failure of that kind loudly again (after a recovery).
A warning that a limit was reached says all there is to say the first time: ``later=None``
keeps the repeats out of the log altogether (they may come once per request under a flood).
"""

from __future__ import annotations

import logging
from collections.abc import Hashable

__all__ = ["LogOnce"]


class LogOnce:
    """Logs the first message of each key at ``level``, later ones at ``later``; thread-safe.

    Two threads failing at once may both log at ``level``: a duplicate line, never a lost one.

    Args:
        logger: Where to log.
        level: The level of each key's first message (default WARNING).
        later: The level of the repeats (default DEBUG); None drops them.
    """

    __slots__ = ("_later", "_level", "_logger", "_seen")

    def __init__(
        self,
        logger: logging.Logger,
        level: int = logging.WARNING,
        later: int | None = logging.DEBUG,
    ) -> None:
        self._logger = logger
        self._level = level
        self._later = later
        self._seen: set[Hashable] = set()

    def __call__(self, key: Hashable, message: str, *args: object, exc_info: bool = False) -> bool:
        """Log ``message % args``; True when this was the key's first (loud) message."""
        if key not in self._seen:
            self._seen.add(key)
            self._logger.log(self._level, message, *args, exc_info=exc_info)
            return True
        if self._later is not None:
            self._logger.log(self._later, message, *args, exc_info=exc_info)
        return False

    def forget(self, key: Hashable | None = None) -> None:
        """Log ``key``'s next message (every key's, when None) at the loud level again."""
        if key is None:
            self._seen.clear()
        else:
            self._seen.discard(key)
