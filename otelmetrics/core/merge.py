"""The series of several workers' arenas, added up: what one scrape of the server returns.

Counters and histograms add over every arena, those of workers that have exited included, so
a total never goes down while the server lives. Up-down counters (requests in flight, open
connections) add over the live workers only: a killed worker's in-flight requests are over.
The result reads like a :class:`~otelmetrics.core.store.SeriesTable` (``specs`` and
``snapshot()``), so the same producer turns it into OpenTelemetry data::

    tables = merge_arenas(live=[...], exited=[...])
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from time import sleep
from typing import Any

from otelmetrics.core.aggregators import ExplicitSnapshot
from otelmetrics.core.shared import SEGMENT_BYTES, Arena, read_arena
from otelmetrics.core.store import SNAPSHOT_CHUNK, InstrumentSpec, arena_values

__all__ = ["MergedTable", "merge_arenas", "write_merged"]


class MergedTable:
    """One instrument's series summed over arenas (a table of one spec)."""

    def __init__(self, spec: InstrumentSpec) -> None:
        self.specs: tuple[InstrumentSpec, ...] = (spec,)
        self._rows: dict[str, tuple[dict[str, Any], list[float]]] = {}

    def add(self, key: str, attributes: list[Any], values: tuple[float, ...]) -> None:
        """Add one arena's ``values`` to the series ``key`` (its entry's key, the same text in
        every worker) of ``attributes`` (its items)."""
        found = self._rows.get(key)
        if found is None:
            self._rows[key] = (dict(attributes), list(values))
            return
        summed = found[1]
        for i, value in enumerate(values):
            summed[i] += value

    def rows(self) -> list[tuple[dict[str, Any], list[float]]]:
        """Each series' attributes and summed values, as the arenas hold them."""
        return list(self._rows.values())

    def snapshot(self) -> list[tuple[dict[str, Any], tuple[Any, ...]]]:
        return [(attributes, snapshots) for _, attributes, snapshots in self._keyed(self._rows)]

    def keyed_chunks(self) -> Iterator[list[tuple[str, dict[str, Any], tuple[Any, ...]]]]:
        """Each series' key, attributes and summed snapshot, ``SNAPSHOT_CHUNK`` at a time (as
        ``SeriesTable``'s)."""
        rows = list(self._rows.items())
        for start in range(0, len(rows), SNAPSHOT_CHUNK):
            yield self._keyed(dict(rows[start : start + SNAPSHOT_CHUNK]))

    def _keyed(
        self, rows: dict[str, tuple[dict[str, Any], list[float]]]
    ) -> list[tuple[str, dict[str, Any], tuple[Any, ...]]]:
        spec = self.specs[0]
        if spec.kind != "histogram":
            return [(key, attributes, (values[0],)) for key, (attributes, values) in rows.items()]
        at = len(spec.bounds) + 1
        return [
            (key, attributes, (_histogram(spec.bounds, values, at),))
            for key, (attributes, values) in rows.items()
        ]


def _histogram(bounds: tuple[float, ...], values: list[float], at: int) -> ExplicitSnapshot:
    counts = tuple(int(n) for n in values[:at])
    return ExplicitSnapshot(bounds, counts, values[at], int(values[at + 1]), None, None)


def merge_arenas(
    live: Iterable[Path], exited: Iterable[Path], parsed: dict[str, list[Any]] | None = None
) -> list[MergedTable]:
    """The instruments of every arena, summed (up-down counters: the ``live`` ones only).

    ``parsed``: each series key's JSON, parsed once and kept by the caller between scrapes (the
    same text in every worker); dropped when it outnumbers the keys read more than twice. The
    GIL is given up between chunks of entries, so requests wait for one chunk at most.
    """
    tables: dict[str, MergedTable] = {}
    parsed = {} if parsed is None else parsed
    read = 0
    for path, alive in [*((path, True) for path in live), *((path, False) for path in exited)]:
        for raw, values in _entries(path):
            read += 1
            if not read % SNAPSHOT_CHUNK:
                sleep(0)
            key = parsed.get(raw)
            if key is None:
                key = parsed[raw] = json.loads(raw)
            kind, name, rest = key[0], key[1], key[2:]
            if kind == "S":
                if name not in tables:
                    tables[name] = MergedTable(_spec(name, rest))
                continue
            table = tables.get(name)
            if table is None or (not alive and table.specs[0].kind == "updowncounter"):
                continue
            table.add(raw, rest[0], values)
    if len(parsed) > 2 * read + 64:
        parsed.clear()
    return list(tables.values())


def write_merged(tables: Sequence[MergedTable], path: Path) -> None:
    """Write ``tables`` as one arena, one segment, at ``path`` (replacing a partial one)."""
    path.unlink(missing_ok=True)
    rows = [(table, *row) for table in tables for row in table.rows()]
    needed = sum(len(json.dumps(list(a.items()))) + 128 + 8 * len(v) for _, a, v in rows)
    arena = Arena(path, size=SEGMENT_BYTES + 1024 * len(tables) + needed)
    for table in tables:
        for attributes, values in table.rows():
            arena_values(arena, table.specs[0], attributes)[:] = array("d", values)
    arena.close()


def _entries(path: Path) -> Iterable[tuple[str, tuple[float, ...]]]:
    try:
        return list(read_arena(path))
    except (OSError, ValueError):  # gone while compacted, or not an arena: nothing to add
        return []


def _spec(name: str, rest: list[Any]) -> InstrumentSpec:
    kind, unit, description, bounds = rest
    return InstrumentSpec(name, kind, unit, description, tuple(bounds))
