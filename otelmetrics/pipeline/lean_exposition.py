"""The lean tables' series as exposition lines, rendered straight from the tables.

The SDK's way to ``/metrics`` builds an OpenTelemetry data point per series (``LeanProducer``)
and then renders each point's labels anew (:mod:`otelmetrics.pipeline.exposition`); at a few
thousand routes that is most of a scrape. Here the lines come from the tables' snapshots, with
the same names, labels and numbers the SDK's way prints (``tests/unit/test_lean_exposition.py``
compares the two):

- each series' label text (its attributes and the promoted resource attributes) is made once
  and kept by the series' key until the resource changes; a table's kept texts are dropped
  when they outnumber its series more than twice (after a reset), so they stay bounded;
- the tables are read a chunk of series at a time, each chunk rendered before the next is
  copied (few live objects, so no full garbage collection mid-scrape);
- the ``le="..."} `` ends of the bucket lines once per bucket layout;
- the text is made as bytes (no encoding pass over it), a series' bucket lines by one ``%``
  of their layout's template, and joined once at the end (or never: gzip takes the pieces);
- between chunks the GIL is given up (``sleep(0)``), so requests served while a large table
  renders wait for one chunk, not for the whole scrape.

Instruments users create themselves stay on the SDK's way; both are one exposition. Usage::

    text = LeanText()
    body = render(data, lean=[text.group(tables, resource)])
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Sequence
from functools import lru_cache
from itertools import accumulate
from time import sleep
from typing import Any, NamedTuple, Protocol

from opentelemetry.sdk.resources import Resource

from otelmetrics.core.aggregators import ExplicitSnapshot
from otelmetrics.core.store import InstrumentSpec
from otelmetrics.pipeline.exposition import (
    TARGET_INFO,
    Family,
    Labels,
    label_text,
    le_labels,
    number,
    point_labels,
    promoted_labels,
    target_info,
)
from otelmetrics.pipeline.naming import metric_name

__all__ = ["KeyedTable", "LeanGroup", "LeanText"]

Row = tuple[Hashable, dict[str, Any], tuple[Any, ...]]


class KeyedTable(Protocol):
    """A lean table as the renderer reads it: a :class:`~otelmetrics.core.store.SeriesTable`,
    or several workers' summed (:class:`~otelmetrics.core.merge.MergedTable`)."""

    specs: tuple[InstrumentSpec, ...]

    def keyed_chunks(self) -> Iterator[Sequence[Row]]: ...


class LeanText:
    """The label text of each series of some lean tables, kept between scrapes."""

    def __init__(self) -> None:
        self._labels: dict[str, dict[Hashable, bytes]] = {}  # first spec's name -> key -> text
        self._promoted: Labels = {}

    def group(self, tables: Sequence[KeyedTable], resource: Resource) -> LeanGroup:
        """``tables`` with their ``resource``, ready for ``exposition.render(lean=...)``."""
        return LeanGroup(self, tables, resource)

    def add_to(
        self, families: dict[str, Family], tables: Sequence[KeyedTable], resource: Resource
    ) -> list[str]:
        """Add the lines of ``tables`` to ``families``; ``resource``'s ``target_info`` samples
        when any line was added."""
        promoted = promoted_labels(resource)
        if promoted != self._promoted:
            self._labels, self._promoted = {}, promoted
        added = False
        for table in tables:
            added = self._add_table(families, table) or added
        return target_info(resource) if added else []

    def _add_table(self, families: dict[str, Family], table: KeyedTable) -> bool:
        """Add a table's lines, a chunk of series at a time, giving up the GIL between chunks
        (requests served meanwhile wait for one chunk, not for the whole scrape)."""
        kept = self._labels.setdefault(table.specs[0].name, {})
        get, promoted = kept.get, self._promoted
        added, count = False, 0
        for rows in table.keyed_chunks():
            sleep(0)
            labels = [
                get(key) or _keep(kept, key, attributes, promoted) for key, attributes, _ in rows
            ]
            for i, spec in enumerate(table.specs):
                added = _add_spec(families, spec, i, rows, labels) or added
            count += len(rows)
        if len(kept) > 2 * count + 64:  # series gone (a reset): keep only what comes next
            kept.clear()
        return added


class LeanGroup(NamedTuple):
    """Lean tables and their resource, as :func:`exposition.render` adds them (``Lines``)."""

    text: LeanText
    tables: Sequence[KeyedTable]
    resource: Resource

    def add_to(self, families: dict[str, Family]) -> list[str]:
        return self.text.add_to(families, self.tables, self.resource)


def _keep(kept: dict[Hashable, bytes], key: Hashable, attributes: Any, promoted: Labels) -> bytes:
    text = kept[key] = label_text(point_labels(attributes, promoted))[1:-1].encode()
    return text


def _add_spec(
    families: dict[str, Family],
    spec: InstrumentSpec,
    i: int,
    rows: Sequence[Row],
    labels: list[bytes],
) -> bool:
    """Add the lines of spec ``i`` of a table; False when it has none (or no text form)."""
    name = metric_name(spec.name, spec.unit or "", spec.kind)
    if not name or name == TARGET_INFO:
        return False
    if spec.kind == "histogram":
        lines = _histogram_lines(name.encode(), spec, i, rows, labels)
    else:
        lines = _number_lines(name.encode(), i, rows, labels)
    if not lines:
        return False
    family = families.get(name) or families.setdefault(name, Family(spec.kind, spec.description))
    if family.kind != spec.kind:
        return False  # the receiver would mix two types under one name; text cannot
    family.chunks += lines
    return True


def _number_lines(name: bytes, i: int, rows: Sequence[Row], labels: list[bytes]) -> list[bytes]:
    return [
        b"%b{%b} %b\n" % (name, text, number(snapshots[i]).encode())
        if text
        else b"%b %b\n" % (name, number(snapshots[i]).encode())
        for (_, _, snapshots), text in zip(rows, labels, strict=True)
    ]


def _histogram_lines(
    name: bytes, spec: InstrumentSpec, i: int, rows: Sequence[Row], labels: list[bytes]
) -> list[bytes]:
    """Cumulative ``_bucket`` lines up to ``le="+Inf"``, ``_count`` and ``_sum`` of each series
    that counted anything (none for exponential buckets: no text form): one ``%`` of the
    layout's template per series, (prefix, count) per bucket then (labels, n, labels, sum)."""
    template = _histogram_template(name, tuple(spec.bounds))
    bucket = name + b"_bucket{"
    size = 2 * len(spec.bounds) + 2
    lines: list[bytes] = []
    for (_, _, snapshots), text in zip(rows, labels, strict=True):
        point = snapshots[i]
        if type(point) is tuple:  # DualBuckets: (explicit, exponential)
            point = point[0]
        if not isinstance(point, ExplicitSnapshot):
            return []
        n = point.n
        if not n:
            continue
        prefix, base = (bucket + text + b",", b"{%b}" % text) if text else (bucket, b"")
        values: list[Any] = [prefix] * size
        values[1::2] = accumulate(point.counts)
        values[-1] = n
        total = point.total
        finite = type(total) is float and total - total == 0  # repr is the text: no inf, nan
        values += (base, n, base, b"%r" % total if finite else number(total).encode())
        lines.append(template % tuple(values))
    return lines


@lru_cache(maxsize=64)
def _histogram_template(name: bytes, bounds: tuple[float, ...]) -> bytes:
    """``%b le="0.005"} %d.0\n`` ... ``%b le="+Inf"} %d.0\n``, then ``<name>_count%b %d.0\n``
    and ``<name>_sum%b %b\n``: one series of a histogram."""
    buckets = b"".join(b"%%b%b%%d.0\n" % end.encode() for end in le_labels(bounds))
    return buckets + name + b"_count%b %d.0\n" + name + b"_sum%b %b\n"
