"""The CSV snapshot log of the MT5-style operations views: one row of totals per snapshot.

Never a half-written row.

Usage::

    log = SnapshotLog.from_settings(settings, provider=lambda: operations.snapshot_row(handle))
    log.snapshot()          # POST /snapshot: one row now (returns it)
    log.start()             # with snapshot_interval > 0: one row every interval, on a thread

The columns are the MT5_UI monitor's (``broker_*`` for its ``mt5_*``)::

    ts_utc,uptime_hours,total_requests,total_errors,error_rate,orders_placed,orders_failed,
    order_success_rate,broker_connected,broker_failures

``error_rate`` and ``order_success_rate`` are percentages; ``broker_connected`` is 1, 0 or
empty (no broker reported); an unknown value is empty.

**Atomic rows.** Each row is encoded first, then written with a single ``os.write`` on a file
descriptor opened with ``O_APPEND``, under an exclusive ``flock`` shared by every process
appending to the file (gunicorn workers); the header goes in the same write when the file is new
or empty. A process killed at any instant (``kill -9``) leaves either the whole row or none of it
(tested); a short write (a full disk) is truncated back and raised.

**Durability policy.** With ``fsync=True`` (the default: rows are rare, one per interval or per
rate-limited request) each row is ``fsync``-ed before ``append`` returns, and so is the
directory after a rotation, so a power loss keeps every returned row. ``fsync=False`` leaves
flushing to the OS: a process crash still loses nothing, a power loss may lose the last rows.

**Rotation.** Before a row would take the file past ``max_bytes`` (0: never), the file is renamed
to ``<path>.1`` (``.1`` to ``.2`` and so on, ``backups`` kept; 0: the old rows are dropped) and
a new file with a header is started. Relative paths start at the working directory.
"""

from __future__ import annotations

import csv
import errno
import io
import logging
import os
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

from otelmetrics.core.once import LogOnce

try:
    import fcntl
except ImportError:  # Windows: no flock; rows are still single writes on O_APPEND
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from otelmetrics.insights.snapshot_row import SnapshotRow
    from otelmetrics.settings import Settings

__all__ = ["COLUMNS", "SnapshotLog", "encode_row"]

_logger = logging.getLogger(__name__)

COLUMNS = (
    "ts_utc",
    "uptime_hours",
    "total_requests",
    "total_errors",
    "error_rate",
    "orders_placed",
    "orders_failed",
    "order_success_rate",
    "broker_connected",
    "broker_failures",
)
_REOPEN_ATTEMPTS = 10

Provider = Callable[[], Mapping[str, Any]]


def _line(values: list[str]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(values)
    return out.getvalue().encode()


HEADER = _line(list(COLUMNS))


def encode_row(row: Mapping[str, Any]) -> bytes:
    """One CSV line of ``row``'s values in :data:`COLUMNS` order, newline included.

    Raises:
        ValueError: ``row`` lacks a column or has one more; the message names them.
    """
    missing = [name for name in COLUMNS if name not in row]
    extra = sorted(set(row) - set(COLUMNS))
    if missing or extra:
        raise ValueError(
            f"a snapshot row needs exactly the columns {', '.join(COLUMNS)}; "
            f"missing {missing}, unknown {extra}"
        )
    return _line([_cell(row[name]) for name in COLUMNS])


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return " ".join(str(value).split())  # one line per row, whatever the value holds


class SnapshotLog:
    """Appends rows to a rotating CSV file; optionally one every ``interval`` seconds.

    Args:
        path: The CSV file (``snapshot_path``); its directory is created when missing.
        provider: Returns the next row (a mapping of :data:`COLUMNS`); needed by
            :meth:`snapshot` and the periodic thread.
        max_bytes: Rotate before the file would grow past this size; 0 never rotates.
        backups: Rotated files kept (``<path>.1`` is the newest).
        interval: Seconds between periodic snapshots once :meth:`start` ed; 0 is off.
        fsync: ``fsync`` each row (see the module's durability policy).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        provider: Provider | None = None,
        max_bytes: int = 10_485_760,
        backups: int = 5,
        interval: float = 0.0,
        fsync: bool = True,
    ) -> None:
        if max_bytes < 0 or backups < 0 or interval < 0:
            raise ValueError(
                f"SnapshotLog: max_bytes={max_bytes!r}, backups={backups!r} and "
                f"interval={interval!r} must be 0 or more"
            )
        self.path = os.path.abspath(path)
        self.provider = provider
        self.max_bytes = max_bytes
        self.backups = backups
        self.interval = interval
        self.fsync = fsync
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = False
        self._log_once = LogOnce(_logger)

    @classmethod
    def from_settings(cls, settings: Settings, provider: Provider | None = None) -> SnapshotLog:
        """A log configured by ``snapshot_path``, ``_max_bytes``, ``_backups``, ``_interval``."""
        return cls(
            settings.snapshot_path,
            provider=provider,
            max_bytes=settings.snapshot_max_bytes,
            backups=settings.snapshot_backups,
            interval=settings.snapshot_interval,
        )

    @property
    def tables(self) -> tuple[()]:
        return ()  # a handle component for its reset (the thread restarts in a forked child)

    # -- writing --------------------------------------------------------------------------

    def snapshot(self) -> SnapshotRow:
        """Append the provider's row now and return it (its columns checked by :meth:`append`).

        Raises:
            RuntimeError: No provider was given.
            ValueError: The row lacks a column.
            OSError: The file cannot be written (nothing of the row was kept).
        """
        if self.provider is None:
            raise RuntimeError("SnapshotLog.snapshot() needs a provider; pass provider=...")
        row = dict(self.provider())
        self.append(row)
        return cast("SnapshotRow", row)

    def append(self, row: Mapping[str, Any]) -> None:
        """Append one whole row (and the header when the file is new or empty).

        Raises:
            ValueError: The row lacks a column or has an unknown one.
            OSError: The write failed; the file holds no part of the row.
        """
        line = encode_row(row)
        with self._lock:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            fd = self._open_locked()
            try:
                size = os.fstat(fd).st_size
                if self.max_bytes and size and size + len(line) > self.max_bytes:
                    self._rotate()
                    os.close(fd)
                    fd = self._open_locked()
                    size = os.fstat(fd).st_size
                self._write(fd, line if size else HEADER + line, size)
            finally:
                os.close(fd)  # also releases the flock

    def _open_locked(self) -> int:
        """An O_APPEND descriptor of ``path``, flock-ed, still the file at ``path``."""
        for _ in range(_REOPEN_ATTEMPTS):
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            if fcntl is None:
                return fd
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                if os.stat(self.path).st_ino == os.fstat(fd).st_ino:
                    return fd
            except FileNotFoundError:
                pass  # rotated away while we waited for the lock: open the new file
            os.close(fd)
        raise OSError(errno.EAGAIN, "the snapshot file kept being rotated away", self.path)

    def _write(self, fd: int, data: bytes, size: int) -> None:
        written = os.write(fd, data)
        if written != len(data):
            os.ftruncate(fd, size)  # no half row: take the partial write back
            raise OSError(errno.ENOSPC, f"short write ({written} of {len(data)} bytes)", self.path)
        if self.fsync:
            os.fsync(fd)

    def _rotate(self) -> None:
        """path.N-1 -> path.N, ..., path -> path.1 (renames only), or drop it (no backups)."""
        if self.backups == 0:
            os.unlink(self.path)
        else:
            for index in range(self.backups - 1, 0, -1):
                older = f"{self.path}.{index}"
                if os.path.exists(older):
                    os.replace(older, f"{self.path}.{index + 1}")
            os.replace(self.path, f"{self.path}.1")
        if self.fsync:
            _fsync_directory(os.path.dirname(self.path))

    # -- the periodic thread --------------------------------------------------------------

    def start(self) -> None:
        """Append a row every ``interval`` seconds on a daemon thread (idempotent).

        Raises:
            ValueError: ``interval`` is 0 or no provider was given.
        """
        if self.interval <= 0 or self.provider is None:
            raise ValueError(
                "SnapshotLog.start() needs interval > 0 (OTELMETRICS_SNAPSHOT_INTERVAL) and a "
                "provider"
            )
        self._started = True
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="otelmetrics-snapshots", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the periodic thread (it ends within one interval; no row is cut)."""
        self._started = False
        self._stop.set()

    def reset(self) -> None:
        """After a fork: a new lock, and the periodic thread again if it was running."""
        self._lock = threading.Lock()
        if self._started and not (self._thread is not None and self._thread.is_alive()):
            self._thread = None
            self.start()

    def _run(self) -> None:
        stop = self._stop
        while not stop.wait(self.interval):
            try:
                self.snapshot()
                self._log_once.forget()  # after a recovery, the next failure is news again
            except Exception:  # a failed snapshot must not end the thread
                message = "otelmetrics: snapshot to %s failed"
                self._log_once("failed", message, self.path, exc_info=True)


def _fsync_directory(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # not supported here (Windows)
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
