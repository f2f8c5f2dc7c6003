"""Worker arenas: series in a memory-mapped file that a scrape in another process reads."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from otelmetrics.core import shared
from otelmetrics.core.aggregators import (
    ExplicitBuckets,
    SharedExplicitBuckets,
    SharedTotal,
)
from otelmetrics.core.shared import Arena, ArenaFull, read_arena
from otelmetrics.core.store import InstrumentSpec, SeriesTable

DURATION = InstrumentSpec("d", "histogram", "s", "a duration", (0.1, 1.0))
COUNT = InstrumentSpec("c", "counter", "1", "a count")


@pytest.fixture
def arena(tmp_path):
    found = Arena(tmp_path / "worker.arena", size=1 << 12)
    yield found
    shared.use(None)
    found.close()


def test_entries_read_back_with_their_values(arena):
    values = arena.allocate("first", 3)
    values[0] += 1
    values[2] += 2.5
    arena.allocate("second", 0)
    assert list(read_arena(arena.path)) == [("first", (1.0, 0.0, 2.5)), ("second", ())]


def test_a_file_that_is_not_an_arena_reads_as_nothing(tmp_path):
    path = tmp_path / "other"
    path.write_bytes(b"not an arena at all")
    assert list(read_arena(path)) == []


def test_a_full_segment_is_followed_by_another(arena):
    for i in range(100):  # 100 entries of 96 bytes: 3 segments of 4 KB
        arena.allocate(f"series-{i:03d}", 10)[0] = i
    files = sorted(arena.path.parent.glob("worker*.arena"))
    assert [path.name for path in files] == ["worker.1.arena", "worker.2.arena", "worker.arena"]
    read = {key: values[0] for path in files for key, values in read_arena(path)}
    assert read == {f"series-{i:03d}": float(i) for i in range(100)}


def test_an_entry_larger_than_a_segment_is_refused(arena):
    arena.allocate("kept", 10)
    with pytest.raises(ArenaFull, match="do not fit"):
        arena.allocate("too much", 1 << 14)
    assert [key for key, _ in read_arena(arena.path)] == ["kept"]


def test_shared_buckets_snapshot_as_plain_ones_do(arena):
    plain, in_arena = (
        ExplicitBuckets((0.1, 1.0)),
        SharedExplicitBuckets((0.1, 1.0), arena.allocate("h", 5)),
    )
    for value in (0.05, 0.5, 0.5, 3.0):
        plain.add(value)
        in_arena.add(value)
    assert in_arena.snapshot() == plain.snapshot()
    total = SharedTotal(arena.allocate("t", 1))
    total.add(2)
    total.add(-0.5)
    assert total.snapshot() == 1.5


def test_tables_keep_their_series_in_the_current_arena(arena):
    shared.use(arena)
    table = SeriesTable((DURATION, COUNT), ("route",), limit=10)
    with table.lock:
        duration, count = table.get(("/a",))
        duration.add(0.5)
        count.add(3)
    entries = [(json.loads(key), values) for key, values in read_arena(arena.path)]
    assert entries == [
        (["S", "d", "histogram", "s", "a duration", [0.1, 1.0]], ()),
        (["V", "d", [["route", "/a"]]], (0.0, 1.0, 0.0, 0.5, 1.0)),
        (["S", "c", "counter", "1", "a count", []], ()),
        (["V", "c", [["route", "/a"]]], (3.0,)),
    ]


def test_a_forked_child_never_writes_into_its_parents_arena(arena):
    shared.use(arena)
    assert shared.current() is arena
    arena.pid = -1  # what a forked child sees: the arena is its parent's
    assert shared.current() is None
    table = SeriesTable((COUNT,), ("route",), limit=10)
    with table.lock:
        (count,) = table.get(("/a",))
    assert not isinstance(count, SharedTotal)


def test_what_a_killed_process_counted_is_in_its_file(tmp_path):
    path = tmp_path / "killed.arena"
    code = (
        "import sys, time\n"
        "from otelmetrics.core.shared import Arena\n"
        f"values = Arena(__import__('pathlib').Path({str(path)!r})).allocate('n', 1)\n"
        "for _ in range(1000):\n"
        "    values[0] += 1\n"
        "print('counted', flush=True)\n"
        "time.sleep(60)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert process.stdout is not None and process.stdout.readline() == b"counted\n"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    process.stdout.close()
    assert list(read_arena(path)) == [("n", (1000.0,))]  # the file outlives its writer
