"""The bounded attribute values of the trading facade, and the caches that resolve them once.

A call's raw arguments (symbol, side, venue, ...) become bounded attribute values: an
allow-list or a cap (``OTELMETRICS_SYMBOLS``, ``OTELMETRICS_SYMBOL_LIMIT``), beyond which a
value is recorded as ``_OTHER``. Each call kind keeps a cache from its raw arguments to the
resolved series, so a repeated call costs one dict lookup. A cache stops growing at
CACHE_LIMIT keys: a flood of new symbols then resolves each call again (slower, still bounded),
it never grows memory.
"""

from __future__ import annotations

from typing import NamedTuple, TypeVar

from otelmetrics.core.bounded import BoundedValues
from otelmetrics.core.store import Key

KIND_LIMIT = 20  # distinct order types, event types kept before _OTHER
CACHE_LIMIT = 4096  # raw-argument keys remembered per call kind
V = TypeVar("V")


class Labels(NamedTuple):
    """The bounded attribute values of one facade."""

    symbols: BoundedValues  # symbols and exchange pairs
    venues: BoundedValues
    order_types: BoundedValues
    breakers: BoundedValues
    events: BoundedValues


def make_labels(
    symbols: tuple[str, ...] | None, venues: tuple[str, ...] | None, limit: int
) -> Labels:
    """The facade's bounded values: allow-lists (None: any) and the cap of each."""
    cap = "raise OTELMETRICS_SYMBOL_LIMIT or set an allow-list"
    return Labels(
        BoundedValues(
            "trading.symbol", symbols, limit, fix=f"add it to OTELMETRICS_SYMBOLS or {cap}"
        ),
        BoundedValues("trading.venue", venues, limit, fix=f"add it to OTELMETRICS_VENUES or {cap}"),
        BoundedValues("trading.order.type", None, KIND_LIMIT, fix="use fewer order types"),
        BoundedValues("circuit_breaker.name", None, limit, fix="raise OTELMETRICS_SYMBOL_LIMIT"),
        BoundedValues("exchange.event.type", None, KIND_LIMIT, fix="use fewer event types"),
    )


def required(values: BoundedValues, value: str | None) -> str:
    """The bounded ``value``; a TypeError for None where the attribute is required."""
    kept = values(value)
    if kept is None:
        raise TypeError(f"{values.attribute} is required, got None")
    return kept


def lowered(value: str) -> str:
    """``value`` in lower case; a TypeError when it is not a string."""
    if not isinstance(value, str):
        raise TypeError(f"expected a str, got {type(value).__name__}")
    return value.lower()


def remember(cache: dict[Key, V], key: Key, value: V) -> V:
    """Cache ``value`` under the raw-argument ``key`` while the cache is small; return it."""
    if len(cache) < CACHE_LIMIT:
        cache[key] = value
    return value
