"""Notice, cheaply, that an object now lives in a forked child process.

A lock that a parent's thread held at ``fork()`` stays held forever in the child (the thread is
gone), so state shared with background threads takes a new lock in a new process::

    self._fork = ForkGuard()
    ...
    def reset(self) -> None:
        if self._fork.forked():
            self._lock = threading.Lock()
        with self._lock:
            ...
"""

from __future__ import annotations

import os

__all__ = ["ForkGuard", "pre_fork_master"]


def pre_fork_master() -> int | None:
    """The pid of the pre-fork server that started this process as a worker, or None.

    gunicorn's arbiter sets ``SERVER_SOFTWARE`` (``gunicorn/<version>``) before it forks and
    its workers are its children (the arbiter itself, with ``--preload``, is not a worker);
    ``uvicorn --workers`` (and hypercorn) spawn theirs with :mod:`multiprocessing`. This is the
    one environment read outside the settings: the server's own marker, not a setting.
    """
    pid = os.getpid()
    if pid not in _MASTERS:
        _MASTERS.clear()
        _MASTERS[pid] = _find_master()
    return _MASTERS[pid]


_MASTERS: dict[int, int | None] = {}


def _find_master() -> int | None:
    if os.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn/"):
        import psutil

        parent = os.getppid()
        try:
            command = " ".join(psutil.Process(parent).cmdline())
        except psutil.Error:
            return None
        return parent if "gunicorn" in command else None
    import multiprocessing
    import sys

    spawner = multiprocessing.parent_process()
    if spawner is not None and ("uvicorn" in sys.modules or "hypercorn" in sys.modules):
        return spawner.pid
    return None


class ForkGuard:
    """Remembers the pid it was made (or last checked) in."""

    __slots__ = ("pid",)

    def __init__(self) -> None:
        self.pid = os.getpid()

    def forked(self) -> bool:
        """True once in each new process: the first call after a fork; then False again."""
        pid = os.getpid()
        if pid == self.pid:
            return False
        self.pid = pid
        return True
