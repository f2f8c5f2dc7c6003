"""The in-process statistics behind the JSON API: current view, history, health and alerts.

One :class:`Stats` per handle (``handle.stats``). It reads the rolling window that the HTTP hot
path feeds (no second record per request), the process sampler, the active users and the
websocket connections. A daemon thread samples every statistic every 5 s (kept: the last 1000
samples of each, 8 KB per statistic) and keeps one snapshot per minute (``history_minutes``).

Each worker process has its own ``Stats``: under gunicorn the JSON view is per worker, and
:meth:`Stats.service_current` merges the workers that share ``OTELMETRICS_STATS_DIR`` (see
:mod:`otelmetrics.insights.workers`); the exported metrics aggregate in Prometheus or the collector.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import deque
from collections.abc import Callable
from importlib.metadata import version
from time import perf_counter, time
from typing import Any, cast

from otelmetrics.core.forks import ForkGuard
from otelmetrics.core.once import LogOnce
from otelmetrics.core.routes import RouteWindows
from otelmetrics.core.window import RollingWindow, WindowView
from otelmetrics.insights import health, workers
from otelmetrics.insights.alerts import Alert
from otelmetrics.insights.health import Breaches
from otelmetrics.insights.routes import RouteRow, route_rows
from otelmetrics.insights.sampler import Sampler
from otelmetrics.insights.samples import Samples
from otelmetrics.insights.service import service_snapshot, shared_directory
from otelmetrics.insights.sources import (
    ConnectionSource,
    StatsOptions,
    UserSource,
    WindowSource,
)
from otelmetrics.insights.statistics import (
    STATISTICS,
    Gauges,
    Health,
    RecentSample,
    SeriesPoint,
    ServiceSnapshot,
    Snapshot,
    Statistics,
    components,
    gauges,
    iso,
    numbers,
    shape,
    statistics_view,
)
from otelmetrics.instruments.process import ProcessSampler, Sample

__all__ = [
    "STATISTICS",
    "ConnectionSource",
    "Stats",
    "StatsOptions",
    "UserSource",
    "WindowSource",
]

_logger = logging.getLogger(__name__)

SAMPLE_SECONDS = 5.0
SAMPLES_KEPT = 1000


class Stats:
    """Rolling-window statistics, as the JSON API serves them.

    Args:
        http: Feeds the rolling window on the request path; read under its lock.
        users: The active users behind ``active_users``.
        websockets: The connections behind ``websocket_connections``.
        options: Window, history, thresholds and the shared directory of several workers.
        clock: Wall clock (epoch seconds) for timestamps; tests inject one.
        monotonic: The clock of the request path (``perf_counter``); tests inject one.
        start: Start the sampling thread (tests call :meth:`tick` themselves).
    """

    STATISTICS = STATISTICS

    def __init__(
        self,
        *,
        http: WindowSource,
        users: UserSource,
        websockets: ConnectionSource,
        options: StatsOptions,
        clock: Callable[[], float] = time,
        monotonic: Callable[[], float] = perf_counter,
        start: bool = True,
    ) -> None:
        self.options = options
        self.version = version("otelmetrics")
        self._http = http
        self._users = users
        self._websockets = websockets
        self._clock = clock
        self._monotonic = monotonic
        if options.stats_dir is not None:
            shared_directory(options.stats_dir)
        self._process = ProcessSampler()
        self._log_once = LogOnce(_logger, later=None)
        self._lock = threading.Lock()
        self._fork = ForkGuard()
        self._sampler = Sampler(lambda: self.tick(), SAMPLE_SECONDS, name="otelmetrics-stats")
        self._clear()
        if start:
            self.start()

    def _clear(self) -> None:
        self._history: deque[tuple[float, Snapshot]] = deque(maxlen=self.options.history_minutes)
        self._samples = Samples(SAMPLES_KEPT, STATISTICS)
        self._breaches = Breaches()
        self._resources_ok = True

    # -- the views -------------------------------------------------------------------------

    def current(self) -> Snapshot:
        """The snapshot now: rates, percentiles (ms), users, resources and totals."""
        return self._snapshot(self._clock())[0]

    def history(self, minutes: int) -> list[Snapshot]:
        """One-minute snapshots of the last ``minutes`` minutes, oldest first."""
        since = self._clock() - minutes * 60
        with self._lock:
            return [snapshot for at, snapshot in self._history if at >= since]

    def recent(self, minutes: int) -> list[RecentSample]:
        """The 5-second samples of the last ``minutes`` minutes (every statistic), oldest first."""
        self._ensure_sample()
        with self._lock:
            rows = self._samples.since(self._clock() - minutes * 60)
        return [  # a sample's values are in STATISTICS order: RecentSample's fields
            cast(RecentSample, {"timestamp": iso(at), **dict(zip(STATISTICS, row, strict=True))})
            for at, row in rows
        ]

    def statistics(self) -> Statistics:
        """The snapshot, the totals since start and the window's configuration."""
        options = self.options
        return statistics_view(
            self.current(),
            window_seconds=options.window_seconds,
            user_timeout_seconds=options.user_timeout_seconds,
            history_minutes=options.history_minutes,
        )

    def health(self) -> Health:
        """Status (healthy, degraded, unhealthy), components, threshold checks, current rpm."""
        current, requests = self._snapshot(self._clock())
        thresholds = self.options.thresholds
        checks = {
            found.statistic: health.check(found, current, requests, thresholds)
            for found in health.HEALTH_CHECKS
        }
        return {
            "status": health.status(checks),
            "components": components(resources=self._resources_ok),
            "checks": checks,
            "current_rpm": current["request_rate_rpm"],
        }

    def alerts(self) -> list[Alert]:
        """The thresholds breached now, with severity, category and since when."""
        now = self._clock()
        current, requests = self._snapshot(now)
        thresholds = self.options.thresholds
        with self._lock:
            found = self._breaches.alerts(current, requests, thresholds, now)
            return list(found)

    def routes(self) -> list[RouteRow]:
        """Each route over the window: rate, error and 5xx rates, p50/p95/p99 ms; worst first."""
        now = self._monotonic()
        return route_rows(self._http.read_routes(lambda routes: routes.views(now)))

    def series(self, name: str, last_n: int) -> list[SeriesPoint]:
        """The last ``last_n`` 5-second samples of one statistic. KeyError for unknown names."""
        if name not in STATISTICS:
            raise KeyError(name)
        self._ensure_sample()
        with self._lock:
            return [
                {"timestamp": iso(at), "value": value}
                for at, value in self._samples.last(STATISTICS.index(name), last_n)
            ]

    def summary(self) -> dict[str, dict[str, float | int]]:
        """Count, mean, min, max and latest of every statistic over the kept samples."""
        self._ensure_sample()
        with self._lock:
            return {name: self._samples.summary(i) for i, name in enumerate(STATISTICS)}

    def service_current(self) -> ServiceSnapshot:
        """The snapshot of every worker that shares ``stats_dir``, merged (see workers.py).

        Raises:
            LookupError: No ``stats_dir`` is configured.
        """
        directory = self.options.stats_dir
        if directory is None:
            raise LookupError("set OTELMETRICS_STATS_DIR to merge the workers' statistics")
        now = self._clock()
        return service_snapshot(
            directory, self._state(now), now, window_seconds=self.options.window_seconds
        )

    @property
    def tables(self) -> tuple[()]:
        return ()  # a handle component that exports nothing: it reads the HTTP window

    def active_user_ids(self) -> list[str]:
        return sorted(self._users.ids())

    # -- sampling ----------------------------------------------------------------------------

    def tick(self) -> None:
        """Take one sample; keep a history snapshot when a new minute has begun."""
        now = self._clock()
        snapshot, requests = self._snapshot(now)
        with self._lock:
            self._samples.append(now, numbers(snapshot))
            last = self._history[-1][0] if self._history else None
            if last is None or now // 60 > last // 60:
                self._history.append((now, snapshot))
            for _ in self._breaches.alerts(snapshot, requests, self.options.thresholds, now):
                pass  # keeps each alert's since-when current
        if self.options.stats_dir is not None:
            workers.publish(self.options.stats_dir, self._state(now))

    def start(self) -> None:
        """Start the sampling thread (again, in a forked child)."""
        self._sampler.start()

    def stop(self) -> None:
        """Stop the sampling thread (waiting up to a second for a sample in progress)."""
        self._sampler.stop()

    def reset(self) -> None:
        """Start from zero: the window, the totals, the samples, the history and the alerts."""
        self._http.read_window(RollingWindow.reset)
        self._http.read_routes(RouteWindows.reset)
        if self._fork.forked():  # the parent's sampler may have held the lock at the fork
            self._lock = threading.Lock()
        with self._lock:
            self._clear()
        if self._sampler.started:
            self.start()  # after a fork the thread is gone

    # -- internals ---------------------------------------------------------------------------

    def _ensure_sample(self) -> None:
        if not self._samples.size:
            self.tick()

    def _window(self) -> tuple[WindowView, list[int]]:
        now = self._monotonic()
        return self._http.read_window(lambda window: (window.view(now), list(window.totals)))

    def _snapshot(self, now: float) -> tuple[Snapshot, int]:
        """The snapshot at ``now``, and how many requests the window holds."""
        view, totals = self._window()
        return shape(now, view, totals, self._gauges()), view.requests

    def _gauges(self) -> Gauges:
        return gauges(
            self._resources(),
            active_users=self._users.count(),
            websockets=self._websockets.active_total(),
        )

    def _state(self, epoch: float) -> dict[str, Any]:
        """This worker's window, totals and gauges, for the other workers to merge."""
        now = self._monotonic()
        state = self._http.read_window(lambda window: workers.window_state(window, now, epoch))
        return {**state, "at": epoch, "pid": os.getpid(), "gauges": self._gauges()}

    def _resources(self) -> Sample | None:
        try:
            sample = self._process.sample()
        except Exception:  # psutil can fail in odd sandboxes; the API still answers
            self._resources_ok = False
            self._log_once("sample", "otelmetrics: process sampling failed", exc_info=True)
            return None
        self._resources_ok = True
        self._log_once.forget("sample")  # a later failure is news again
        return sample
