"""Bounded attribute values: an allow-list or a cap, beyond which a value becomes ``_OTHER``.

A bad feed that invents a new symbol per message must not create a new series per message::

    symbols = BoundedValues("trading.symbol", None, 100, fix="raise OTELMETRICS_SYMBOL_LIMIT")
    symbols("BTC-USD")   # "BTC-USD"
    symbols("X" * 9)     # "_OTHER" once 100 distinct symbols are kept (warned once)

Memory is bounded too: only kept values are remembered, folded ones are not. Callers that share
an instance between threads hold their own lock around it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from otelmetrics.core.once import LogOnce

_logger = logging.getLogger(__name__)

OTHER = "_OTHER"


class BoundedValues:
    """The values one attribute may take: the allow-list, else the first ``limit`` seen."""

    def __init__(
        self, attribute: str, allowed: Iterable[str] | None, limit: int, *, fix: str
    ) -> None:
        self.attribute = attribute
        self.allowed = frozenset(allowed) if allowed is not None else None
        self.limit = limit
        self.fix = fix  # how to keep more values, for the warning
        self._kept: dict[str, str] = {}
        self._log_once = LogOnce(_logger, later=None)

    def __call__(self, value: str | None) -> str | None:
        """``value`` when it is kept, ``_OTHER`` when it is not, None for None (no attribute).

        Raises:
            TypeError: ``value`` is not a string.
        """
        if value is None:
            return None
        kept = self._kept.get(value)
        return kept if kept is not None else self._admit(value)

    def reset(self) -> None:
        """Forget the values seen (the allow-list stays)."""
        self._kept = {}
        self._log_once.forget()

    def _admit(self, value: str) -> str:
        if not isinstance(value, str):
            raise TypeError(f"{self.attribute} must be a str, got {type(value).__name__}")
        if self.allowed is None:
            admitted = len(self._kept) < self.limit
        else:
            admitted = value in self.allowed
        if admitted:
            self._kept[value] = value
            return value
        self._warn(value)
        return OTHER

    def _warn(self, value: str) -> None:
        if self.allowed is None:
            reason = f"more than {self.limit} distinct values"
        else:
            reason = "a value outside its allow-list"
        self._log_once(
            "folded",
            "%s got %s (first folded: %r); such values are recorded as %s. To keep them: %s.",
            self.attribute,
            reason,
            value,
            OTHER,
            self.fix,
        )
