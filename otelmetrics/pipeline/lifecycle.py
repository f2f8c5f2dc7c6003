"""The handles alive in this process, and what happens to them when it forks and when it exits.

A forked worker starts every live handle over (a new ``service.instance.id``, series from zero).
At exit (a plain return, ``sys.exit``, a gunicorn or uvicorn worker told to stop) every live
handle shuts down within its ``shutdown_timeout``, one last export attempted inside it. The
SDK's own exit-time shutdown is switched off: it waits on an unreachable endpoint for as long
as its retries take, which eats an orchestrator's grace period.
"""

from __future__ import annotations

import atexit
import os
import weakref
from typing import Protocol

__all__ = ["forget", "track"]


class Live(Protocol):
    """What the process lifecycle asks of a handle."""

    def after_fork_in_child(self) -> None: ...

    def shutdown(self, timeout: float | None = None) -> bool: ...


_LIVE: weakref.WeakSet[Live] = weakref.WeakSet()


def track(handle: Live) -> None:
    """Start ``handle`` over in forked children and shut it down (bounded) at exit."""
    _LIVE.add(handle)


def forget(handle: Live) -> None:
    """``handle`` was shut down: nothing more to do for it at fork or exit."""
    _LIVE.discard(handle)


def _after_fork_in_child() -> None:
    for handle in list(_LIVE):
        handle.after_fork_in_child()


def _at_exit() -> None:
    for handle in list(_LIVE):
        handle.shutdown()  # each bounded by its own shutdown_timeout; never raises


os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_at_exit)
