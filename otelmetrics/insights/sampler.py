"""A daemon thread that calls ``tick`` every few seconds until stopped (again after a fork).

:class:`otelmetrics.insights.stats.Stats` samples its statistics with one::

    sampler = Sampler(stats.tick, 5.0, name="otelmetrics-stats")
    sampler.start()     # a no-op while running; starts a new thread in a forked child
    sampler.stop()      # waits up to a second for a tick in progress

A tick that raises is logged and the thread goes on: one failed sample must not end sampling.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

__all__ = ["Sampler"]

_logger = logging.getLogger(__name__)


class Sampler:
    """Runs ``tick`` every ``seconds`` on a daemon thread named ``name``."""

    def __init__(self, tick: Callable[[], None], seconds: float, *, name: str) -> None:
        self.tick = tick
        self.seconds = seconds
        self.name = name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def started(self) -> bool:
        """True once :meth:`start` was called (the thread may since have been lost to a fork)."""
        return self._thread is not None

    def start(self) -> None:
        """Start the thread, unless it is running (in a forked child it is not: start anew)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread, waiting up to a second for a tick in progress."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(1.0)

    def _run(self) -> None:
        while not self._stop.wait(self.seconds):
            try:
                self.tick()
            except Exception:  # a failed sample must not end the thread
                _logger.warning("otelmetrics: sampling the statistics failed", exc_info=True)
