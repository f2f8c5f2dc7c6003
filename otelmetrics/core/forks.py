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

__all__ = ["ForkGuard"]


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
