"""What the trading facade does with an invalid call: raise when strict, else log once and drop.

An invalid value (a NaN P&L, a negative latency, an unknown breaker state) is *rejected*; an
unexpected error inside a call (a symbol that is not a string) makes the call *fail*. Either
way nothing of the call is recorded. In strict mode both raise; otherwise the first of each
kind is logged at WARNING on the ``otelmetrics.trading`` logger and later ones at DEBUG.
"""

from __future__ import annotations

import logging
from math import inf

from otelmetrics.core.once import LogOnce

_logger = logging.getLogger("otelmetrics.trading")  # the public module users know


class Checks:
    """The validity checks of one facade and its strictness.

    Args:
        strict: Raise on invalid calls instead of logging once and dropping them.
    """

    __slots__ = ("_log_once", "strict")

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self._log_once = LogOnce(_logger)

    def seconds(self, value: float, what: str) -> float | None:
        """``value`` as float seconds, or None (after :meth:`reject`) when invalid."""
        seconds = float(value)
        if 0.0 <= seconds < inf:
            return seconds
        self.reject(
            "seconds",
            f"{what} must be a finite number of seconds >= 0, got {value!r} (measure it with "
            "time.perf_counter() differences, not wall-clock timestamps)",
        )
        return None

    def reject(self, kind: str, message: str) -> None:
        """An invalid value: raise ValueError when strict; else log the first of each kind.

        Raises:
            ValueError: In strict mode, with ``message``.
        """
        if self.strict:
            raise ValueError(f"otelmetrics.trading: {message}")
        self._log_once(
            ("invalid", kind),
            "otelmetrics.trading dropped an invalid call: %s. Further invalid %s calls are "
            "dropped silently; OTELMETRICS_STRICT=true raises instead.",
            message,
            kind,
        )

    def failed(self, method: str, exc: Exception) -> None:
        """An unexpected error in ``method`` (a wrong argument type): re-raised when strict.

        Raises:
            Exception: ``exc`` itself, in strict mode.
        """
        if self.strict:
            raise exc
        self._log_once(
            ("failed", method),
            "otelmetrics.trading.%s dropped a call: %s: %s (logged once per method)",
            method,
            type(exc).__name__,
            exc,
        )
