"""Values that outlive the process: a worker's counters and histograms in a memory-mapped file.

Under a pre-fork server each worker keeps its lean series in an :class:`Arena`, a sparse file in
a directory the workers share. A request updates the numbers in place, as it updates a list in
a single process (no system call, no lock between processes), so what a worker answered is in
the file the moment it answered, even if the worker is then killed. A scrape, in any worker,
reads every arena of the server with :func:`read_arena` and adds them up.

An arena is a chain of 1 MiB segment files (``<pid>.arena``, ``<pid>.1.arena``, ...), each
reserved on disk when created (``posix_fallocate``), so a full disk shows as an error then, at
start or as a new series lands in a new segment, never as a crash on a later write. Each
segment: an 8-byte magic, the 8-byte length in use, then entries, each a 4-byte key length, a
4-byte value count, the key (UTF-8 JSON, padded to 8 bytes) and the values (float64). The writer
fills an entry before it moves the length past it, so a reader only ever sees whole entries;
each value is one aligned 8-byte store.
"""

from __future__ import annotations

import errno
import mmap
import os
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

__all__ = ["Arena", "ArenaFull", "current", "read_arena", "use"]

MAGIC = b"OTMARN01"
HEADER = 16
SEGMENT_BYTES = 1024 * 1024  # about 4,000 histogram series
_ENTRY = struct.Struct("<II")
_USED = struct.Struct("<Q")


class ArenaFull(Exception):
    """No room left for another series (the caller keeps it in plain memory instead)."""


class Arena:
    """This process's shared series: :meth:`allocate` returns zeroed float64 slots to update.

    Args:
        path: The first segment's file (``<pid>.arena``); it must not exist.
        size: Each segment's size in bytes.

    Raises:
        OSError: The first segment cannot be created, reserved or mapped.
    """

    def __init__(self, path: Path, size: int = SEGMENT_BYTES) -> None:
        self.path = path
        self.size = size
        self.pid = os.getpid()
        self.declared: set[str] = set()  # instrument keys already written (by core.store)
        self._lock = threading.Lock()
        self._segments = [_Segment(path, size)]

    def allocate(self, key: str, count: int) -> memoryview[float]:
        """``count`` float64 values, zero, under ``key``; a view to update them in place.

        Raises:
            ArenaFull: No room for them, and no new segment could be made (a full disk).
        """
        raw = key.encode()
        with self._lock:
            found = self._segments[-1].allocate(raw, count)
            if found is None:
                found = self._next_segment().allocate(raw, count)
            if found is None:
                raise ArenaFull(f"{key[:60]}: {count} values do not fit in a segment")
            return found

    def _next_segment(self) -> _Segment:
        path = self.path.with_name(f"{self.path.stem}.{len(self._segments)}{self.path.suffix}")
        try:
            segment = _Segment(path, self.size)
        except OSError as exc:
            raise ArenaFull(f"{path}: {exc.strerror}") from None
        self._segments.append(segment)
        return segment

    def close(self) -> None:
        """Unmap (the files stay for the scrapes of the other workers)."""
        for segment in self._segments:
            segment.close()


class _Segment:
    """One file of an arena: a header, then whole entries."""

    def __init__(self, path: Path, size: int) -> None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            _reserve(fd, size)
            self.map = mmap.mmap(fd, size)
        except OSError:
            os.close(fd)
            path.unlink(missing_ok=True)
            raise
        os.close(fd)
        self.map[: len(MAGIC)] = MAGIC
        self.used = HEADER
        _USED.pack_into(self.map, len(MAGIC), self.used)

    def allocate(self, raw: bytes, count: int) -> memoryview[float] | None:
        start = self.used
        size = _ENTRY.size + _padded(len(raw)) + 8 * count
        if start + size > len(self.map):
            return None
        _ENTRY.pack_into(self.map, start, len(raw), count)
        key_at = start + _ENTRY.size
        self.map[key_at : key_at + len(raw)] = raw
        values_at = key_at + _padded(len(raw))
        self.used = start + size
        _USED.pack_into(self.map, len(MAGIC), self.used)  # now readers see the entry
        return memoryview(self.map)[values_at : values_at + 8 * count].cast("d")

    def close(self) -> None:
        try:
            self.map.close()
        except BufferError:  # views still held by series: the mapping goes with the process
            pass


def _reserve(fd: int, size: int) -> None:
    """Reserve the blocks now (a full disk fails here, not as a crash on a later write)."""
    try:
        os.posix_fallocate(fd, 0, size)
    except OSError as exc:
        if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
            raise
        os.ftruncate(fd, size)  # a filesystem that cannot reserve: sparse, as before


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
