"""Values that outlive the process: a worker's counters and histograms in a memory-mapped file.

Under a pre-fork server each worker keeps its lean series in an :class:`Arena`, a sparse file in
a directory the workers share. A request updates the numbers in place, as it updates a list in
a single process (no system call, no lock between processes), so what a worker answered is in
the file the moment it answered, even if the worker is then killed. A scrape, in any worker,
reads every arena of the server with :func:`read_arena` and adds them up.

Layout: an 8-byte magic, the 8-byte length in use, then entries, each a 4-byte key length, a
4-byte value count, the key (UTF-8 JSON, padded to 8 bytes) and the values (float64). The
writer fills an entry before it moves the length past it, so a reader only ever sees whole
entries; each value is one aligned 8-byte store.
"""

from __future__ import annotations

import mmap
import os
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

__all__ = ["Arena", "ArenaFull", "current", "read_arena", "use"]

MAGIC = b"OTMARN01"
HEADER = 16
ARENA_BYTES = 64 * 1024 * 1024  # sparse: only the pages written take disk or memory
_ENTRY = struct.Struct("<II")
_USED = struct.Struct("<Q")


class ArenaFull(Exception):
    """No room left for another series (the caller keeps it in plain memory instead)."""


class Arena:
    """This process's shared series: :meth:`allocate` returns zeroed float64 slots to update.

    Args:
        path: The file to create (it must not exist: one arena per process and start).
        size: Its size in bytes (a sparse file: untouched pages cost nothing).

    Raises:
        OSError: The file cannot be created, sized or mapped (the message names the path).
    """

    def __init__(self, path: Path, size: int = ARENA_BYTES) -> None:
        self.path = path
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.ftruncate(fd, size)
            self._map = mmap.mmap(fd, size)
        finally:
            os.close(fd)
        self._map[: len(MAGIC)] = MAGIC
        self._used = HEADER
        _USED.pack_into(self._map, len(MAGIC), self._used)
        self._lock = threading.Lock()
        self.pid = os.getpid()
        self.declared: set[str] = set()  # instrument keys already written (by core.store)

    def allocate(self, key: str, count: int) -> memoryview[float]:
        """``count`` float64 values, zero, under ``key``; a view to update them in place.

        Raises:
            ArenaFull: The file has no room for them.
        """
        raw = key.encode()
        size = _ENTRY.size + _padded(len(raw)) + 8 * count
        with self._lock:
            start = self._used
            if start + size > len(self._map):
                raise ArenaFull(f"{self.path} is full ({len(self._map)} bytes)")
            _ENTRY.pack_into(self._map, start, len(raw), count)
            key_at = start + _ENTRY.size
            self._map[key_at : key_at + len(raw)] = raw
            values_at = key_at + _padded(len(raw))
            self._used = start + size
            _USED.pack_into(self._map, len(MAGIC), self._used)  # now readers see it
        return memoryview(self._map)[values_at : values_at + 8 * count].cast("d")

    def close(self) -> None:
        """Unmap (the file stays for the scrapes of the other workers)."""
        try:
            self._map.close()
        except BufferError:  # views still held by series: the mapping goes with the process
            pass


_current: Arena | None = None


def use(arena: Arena | None) -> None:
    """Keep this process's new series in ``arena`` (None: in plain memory)."""
    global _current
    _current = arena


def current() -> Arena | None:
    """This process's arena; never one a forked child inherited from its parent."""
    arena = _current
    return arena if arena is not None and arena.pid == os.getpid() else None


def read_arena(path: Path) -> Iterator[tuple[str, tuple[float, ...]]]:
    """Every (key, values) of the arena at ``path``; nothing for a file that is not one."""
    with path.open("rb") as file:
        header = file.read(HEADER)
        if len(header) < HEADER or not header.startswith(MAGIC):
            return
        (used,) = _USED.unpack_from(header, len(MAGIC))
        data = header + file.read(used - HEADER)  # only what is in use, not the sparse rest
    at = HEADER
    while at + _ENTRY.size <= min(used, len(data)):
        key_length, count = _ENTRY.unpack_from(data, at)
        key_at = at + _ENTRY.size
        values_at = key_at + _padded(key_length)
        end = values_at + 8 * count
        if end > used:
            return
        yield (
            data[key_at : key_at + key_length].decode(),
            struct.unpack_from(f"<{count}d", data, values_at),
        )
        at = end


def _padded(length: int) -> int:
    return (length + 7) & ~7
