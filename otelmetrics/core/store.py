"""The lean store: series of otelmetrics' own instruments, resolved once per attribute set.

The OpenTelemetry SDK validates and hashes the attribute dict on every ``record`` (~15 µs);
here a series is looked up by a plain tuple key and its attributes dict is built once, when the
series is created. Several instruments that share attribute keys share one table, one lock and
one lookup (an HTTP request updates duration and body sizes together).

Cardinality is capped per table: beyond ``limit - 1`` series, new attribute sets fold into one
overflow series marked ``otel.metric.overflow=true`` and one warning is logged.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from otelmetrics.core import shared
from otelmetrics.core.aggregators import (
    DualBuckets,
    ExplicitBuckets,
    ExponentialBuckets,
    SharedExplicitBuckets,
    SharedTotal,
    Total,
)
from otelmetrics.core.once import LogOnce

_logger = logging.getLogger(__name__)

Kind = Literal["histogram", "counter", "updowncounter"]
Layout = Literal["explicit", "exponential", "both"]
Aggregator = ExplicitBuckets | ExponentialBuckets | DualBuckets | Total
Key = tuple[Any, ...]
OVERFLOW_ATTRIBUTES = {"otel.metric.overflow": True}
_OVERFLOW_KEY: Key = ("otel.metric.overflow",)
SNAPSHOT_CHUNK = 64  # series copied per hold of the lock by keyed_chunks()


@dataclass(frozen=True)
class InstrumentSpec:
    """Name, kind, unit and (for histograms) the advised bucket bounds of a lean instrument."""

    name: str
    kind: Kind
    unit: str
    description: str
    bounds: tuple[float, ...] = ()


class SeriesTable:
    """Series of one or more instruments keyed by the same attribute names.

    Callers hold ``lock`` around ``get`` and the aggregators' ``add``; collection copies a
    snapshot under the same lock, so a record is never torn.
    """

    def __init__(
        self,
        specs: Sequence[InstrumentSpec],
        attribute_names: Sequence[str],
        *,
        limit: int,
        layout: Layout = "explicit",
        lock: threading.Lock | None = None,
    ) -> None:
        self.specs = tuple(specs)
        self.attribute_names = tuple(attribute_names)
        self.limit = limit
        self.lock = lock or threading.Lock()
        self.series: dict[Key, tuple[Aggregator, ...]] = {}
        self._attributes: dict[Key, dict[str, Any]] = {}
        self._layout = layout
        self._factories = tuple(_factory(spec, layout) for spec in self.specs)
        self._log_once = LogOnce(_logger, later=None)

    def get(self, key: Key) -> tuple[Aggregator, ...]:
        """The aggregators for ``key``, created on first use. Call with ``lock`` held."""
        found = self.series.get(key)
        if found is not None:
            return found
        if len(self.series) >= self.limit - 1:
            return self._overflow(key)
        return self._create(key, self._attributes_of(key))

    def snapshot(self) -> list[tuple[dict[str, Any], tuple[Any, ...]]]:
        """Each series' attributes and its aggregators' snapshots, copied under the lock."""
        with self.lock:
            return [
                (self._attributes[key], tuple(agg.snapshot() for agg in aggs))
                for key, aggs in self.series.items()
            ]

    def keyed_chunks(self) -> Iterator[list[tuple[Key, dict[str, Any], tuple[Any, ...]]]]:
        """:meth:`snapshot` with each series' key, ``SNAPSHOT_CHUNK`` series at a time, each
        chunk copied under the lock when asked for: a reader that is done with one chunk
        before it asks for the next keeps requests waiting for one chunk at most, and its
        copies never pile up (nor into the garbage collector's oldest generation)."""
        with self.lock:
            items = list(self.series.items())
            attributes = self._attributes
        for start in range(0, len(items), SNAPSHOT_CHUNK):
            with self.lock:
                chunk = [
                    (key, attributes[key], tuple([agg.snapshot() for agg in aggs]))
                    for key, aggs in items[start : start + SNAPSHOT_CHUNK]
                ]
            yield chunk

    def reset(self, lock: threading.Lock | None = None) -> None:
        """Forget every series (after a fork: the child starts from zero).

        Args:
            lock: The lock to go on with, shared with the other tables of one instrument (a
                forked child makes a new one: the parent's may be held); default: a new one.
        """
        self.lock = lock or threading.Lock()
        self.series = {}
        self._attributes = {}

    def _attributes_of(self, key: Key) -> dict[str, Any]:
        return {
            name: value
            for name, value in zip(self.attribute_names, key, strict=True)
            if value is not None
        }

    def _create(self, key: Key, attributes: dict[str, Any]) -> tuple[Aggregator, ...]:
        arena = shared.current()
        if arena is None:
            aggs = tuple(make() for make in self._factories)
        else:
            aggs = tuple(self._in_arena(arena, i, attributes) for i in range(len(self.specs)))
        self._attributes[key] = attributes
        self.series[key] = aggs
        return aggs

    def _in_arena(self, arena: shared.Arena, i: int, attributes: dict[str, Any]) -> Aggregator:
        """The aggregator of spec ``i`` with its sums in ``arena`` (exponential buckets, which
        only OTLP exports per worker, stay in the process; so does all of it when full)."""
        spec = self.specs[i]
        if spec.kind == "histogram" and self._layout == "exponential":
            return self._factories[i]()
        try:
            values = arena_values(arena, spec, attributes)
        except shared.ArenaFull:
            self._log_once("full", "%s is full; new series stay in this worker", arena.path)
            return self._factories[i]()
        if spec.kind != "histogram":
            return SharedTotal(values)
        explicit = SharedExplicitBuckets(spec.bounds, values)
        if self._layout == "explicit":
            return explicit
        dual = DualBuckets(spec.bounds)
        dual.explicit = explicit
        return dual

    def _overflow(self, key: Key) -> tuple[Aggregator, ...]:
        self._log_once(
            "overflow",
            "%s reached its cardinality limit of %d series; further attribute sets are "
            "folded into otel.metric.overflow=true (first folded: %r). Raise "
            "OTELMETRICS_CARDINALITY_LIMIT or drop the high-cardinality attribute.",
            self.specs[0].name,
            self.limit,
            key,
        )
        found = self.series.get(_OVERFLOW_KEY)
        if found is None:
            found = self._create(_OVERFLOW_KEY, dict(OVERFLOW_ATTRIBUTES))
        return found


def arena_values(
    arena: shared.Arena, spec: InstrumentSpec, attributes: dict[str, Any]
) -> memoryview[float]:
    """Room in ``arena`` for one series of ``spec``: the instrument is declared once (``S``),
    then the series (``V``): ``len(bounds) + 3`` values for a histogram, 1 for a sum."""
    if spec.name not in arena.declared:
        declaration = ["S", spec.name, spec.kind, spec.unit, spec.description, list(spec.bounds)]
        arena.allocate(json.dumps(declaration), 0)
        arena.declared.add(spec.name)
    count = len(spec.bounds) + 3 if spec.kind == "histogram" else 1
    return arena.allocate(json.dumps(["V", spec.name, list(attributes.items())]), count)


def _factory(spec: InstrumentSpec, layout: Layout) -> Callable[[], Aggregator]:
    if spec.kind != "histogram":
        return Total
    if layout == "exponential":
        return ExponentialBuckets
    bounds = spec.bounds
    if layout == "both":
        return lambda: DualBuckets(bounds)
    return lambda: ExplicitBuckets(bounds)
