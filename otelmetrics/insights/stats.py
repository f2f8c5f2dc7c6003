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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib.metadata import version
from time import perf_counter, time
from typing import Any, Protocol, TypeVar

from otelmetrics.core.window import RollingWindow, WindowView
from otelmetrics.insights import health, workers
from otelmetrics.insights.health import Breaches
from otelmetrics.insights.samples import Samples
from otelmetrics.instruments.process import ProcessSampler, Sample

_logger = logging.getLogger(__name__)

SAMPLE_SECONDS = 5.0
SAMPLES_KEPT = 1000
STATISTICS = (
    "request_rate_rpm",
    "error_rate_pct",
    "server_error_rate_pct",
    "latency_p50_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "active_users",
    "memory_usage_pct",
    "memory_usage_mb",
    "cpu_usage_pct",
    "websocket_connections",
    "total_requests",
    "total_errors",
)


T = TypeVar("T")


class WindowSource(Protocol):
    """Reads the rolling window under the lock its writer holds (``HttpServerMetrics``)."""

    def read_window(self, read: Callable[[RollingWindow], T]) -> T: ...


class UserSource(Protocol):
    """The active users (``ActiveUsers``)."""

    def count(self) -> int: ...

    def ids(self) -> list[str]: ...


class ConnectionSource(Protocol):
    """The open websocket connections (``WebsocketMetrics``)."""

    def active_total(self) -> int: ...


@dataclass(frozen=True)
class StatsOptions:
    """What the statistics need of the settings (the same names as there)."""

    window_seconds: float = 300.0
    history_minutes: int = 60
    user_timeout_seconds: float = 300.0
    thresholds: Mapping[str, float] = field(default_factory=dict)
    stats_dir: str | None = None


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
            _shared_directory(options.stats_dir)
        self._process = ProcessSampler()
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._clear()
        if start:
            self.start()

    def _clear(self) -> None:
        self._history: deque[tuple[float, dict[str, Any]]] = deque(
            maxlen=self.options.history_minutes
        )
        self._samples = Samples(SAMPLES_KEPT, STATISTICS)
        self._breaches = Breaches()
        self._resources_ok = True

    # -- the views -------------------------------------------------------------------------

    def current(self) -> dict[str, Any]:
        """The seed-001 snapshot: rates, percentiles (ms), users, resources and totals."""
        return self._snapshot(self._clock())[0]

    def history(self, minutes: int) -> list[dict[str, Any]]:
        """One-minute snapshots of the last ``minutes`` minutes, oldest first."""
        since = self._clock() - minutes * 60
        with self._lock:
            return [snapshot for at, snapshot in self._history if at >= since]

    def statistics(self) -> dict[str, Any]:
        current = self.current()
        requests, errors = current["total_requests"], current["total_errors"]
        return {
            "current": current,
            "totals": {
                "total_requests": requests,
                "total_errors": errors,
                "total_error_rate_pct": _pct(errors, requests),
            },
            "configuration": {
                "window_seconds": self.options.window_seconds,
                "user_timeout_seconds": self.options.user_timeout_seconds,
                "max_history_minutes": self.options.history_minutes,
            },
        }

    def health(self) -> dict[str, Any]:
        """Status (healthy, degraded, unhealthy), components, threshold checks, current rpm."""
        current, requests = self._snapshot(self._clock())
        thresholds = self.options.thresholds
        checks = {
            found.statistic: health.check(found, current, requests, thresholds)
            for found in health.CHECKS
        }
        return {
            "status": health.status(checks),
            "components": self._components(),
            "checks": checks,
            "current_rpm": current["request_rate_rpm"],
        }

    def alerts(self) -> list[dict[str, Any]]:
        """The thresholds breached now, with severity, category and since when."""
        now = self._clock()
        current, requests = self._snapshot(now)
        with self._lock:
            return list(self._breaches.alerts(current, requests, self.options.thresholds, now))

    def series(self, name: str, last_n: int) -> list[dict[str, Any]]:
        """The last ``last_n`` 5-second samples of one statistic. KeyError for unknown names."""
        if name not in STATISTICS:
            raise KeyError(name)
        self._ensure_sample()
        with self._lock:
            return [
                {"timestamp": _iso(at), "value": value}
                for at, value in self._samples.last(STATISTICS.index(name), last_n)
            ]

    def summary(self) -> dict[str, dict[str, float | int]]:
        """Count, mean, min, max and latest of every statistic over the kept samples."""
        self._ensure_sample()
        with self._lock:
            return {name: self._samples.summary(i) for i, name in enumerate(STATISTICS)}

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
            self._samples.append(now, [float(snapshot[name]) for name in STATISTICS])
            last = self._history[-1][0] if self._history else None
            if last is None or now // 60 > last // 60:
                self._history.append((now, snapshot))
            for _ in self._breaches.alerts(snapshot, requests, self.options.thresholds, now):
                pass  # keeps each alert's since-when current
        if self.options.stats_dir is not None:
            workers.publish(self.options.stats_dir, self._state(now))

    def start(self) -> None:
        """Start the sampling thread (again, in a forked child)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="otelmetrics-stats", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the sampling thread (waiting up to a second for a sample in progress)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(1.0)

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            try:
                self.tick()
            except Exception:  # a failed sample must not end the thread
                _logger.warning("otelmetrics: sampling the statistics failed", exc_info=True)

    def reset(self) -> None:
        """Start from zero: the window, the totals, the samples, the history and the alerts."""
        self._http.read_window(RollingWindow.reset)
        if self._pid != os.getpid():  # a forked child: the parent's sampler may have held it
            self._lock, self._pid = threading.Lock(), os.getpid()
        with self._lock:
            self._clear()
        if self._thread is not None:
            self.start()  # after a fork the thread is gone

    # -- internals ---------------------------------------------------------------------------

    def _ensure_sample(self) -> None:
        if not self._samples.size:
            self.tick()

    def _window(self) -> tuple[WindowView, list[int]]:
        now = self._monotonic()
        return self._http.read_window(lambda window: (window.view(now), list(window.totals)))

    def _snapshot(self, now: float) -> tuple[dict[str, Any], int]:
        """The snapshot at ``now``, and how many requests the window holds."""
        view, totals = self._window()
        return _shape(now, view, totals, self._gauges()), view.requests

    def _gauges(self) -> dict[str, float]:
        process = self._resources()
        return {
            "active_users": self._users.count(),
            "memory_usage_pct": round(process.memory_utilization * 100, 2) if process else 0.0,
            "memory_usage_mb": round(process.rss / 1048576, 1) if process else 0.0,
            "cpu_usage_pct": round(process.cpu_utilization * 100, 2) if process else 0.0,
            "websocket_connections": self._websockets.active_total(),
        }

    def service_current(self) -> dict[str, Any]:
        """The snapshot of every worker that shares ``stats_dir``, merged (see workers.py)."""
        directory = self.options.stats_dir
        if directory is None:
            raise LookupError("set OTELMETRICS_STATS_DIR to merge the workers' statistics")
        now = self._clock()
        states = workers.collect(directory, self._state(now), now)
        merged = workers.merge(states, now, self.options.window_seconds)
        view = WindowView(
            merged["requests"],
            merged["errors"],
            merged["server_errors"],
            merged["seconds"],
            *merged["percentiles"],
        )
        gauges = {name: round(value, 2) for name, value in merged["gauges"].items()}
        return {**_shape(now, view, merged["totals"], gauges), "workers": merged["workers"]}

    def _state(self, epoch: float) -> dict[str, Any]:
        """This worker's window, totals and gauges, for the other workers to merge."""
        now = self._monotonic()
        state = self._http.read_window(lambda window: workers.window_state(window, now, epoch))
        return {**state, "at": epoch, "pid": os.getpid(), "gauges": self._gauges()}

    def _resources(self) -> Sample | None:
        try:
            sample = self._process.sample()
        except Exception:  # psutil can fail in odd sandboxes; the API still answers
            if self._resources_ok:
                _logger.warning("otelmetrics: process sampling failed", exc_info=True)
            self._resources_ok = False
            return None
        self._resources_ok = True
        return sample

    def _components(self) -> dict[str, str]:
        def state(ok: bool) -> str:
            return "operational" if ok else "unavailable"

        return {
            "metrics_monitor": state(True),
            "request_tracking": state(True),
            "resource_monitoring": state(self._resources_ok),
            "websocket_tracking": state(True),
        }


def _shape(
    now: float, view: WindowView, totals: Sequence[int], gauges: dict[str, float]
) -> dict[str, Any]:
    """Seed 001's snapshot fields (and the 5xx rate) from a window view, totals and gauges."""
    minutes = view.seconds / 60
    return {
        "timestamp": _iso(now),
        "request_rate_rpm": round(view.requests / minutes, 2) if minutes else 0.0,
        "error_rate_pct": _pct(view.errors, view.requests),
        "server_error_rate_pct": _pct(view.server_errors, view.requests),
        "latency_p50_ms": round(view.p50 * 1000, 3),
        "latency_p95_ms": round(view.p95 * 1000, 3),
        "latency_p99_ms": round(view.p99 * 1000, 3),
        "active_users": gauges["active_users"],
        "memory_usage_pct": gauges["memory_usage_pct"],
        "memory_usage_mb": gauges["memory_usage_mb"],
        "cpu_usage_pct": gauges["cpu_usage_pct"],
        "websocket_connections": gauges["websocket_connections"],
        "total_requests": totals[0],
        "total_errors": totals[1],
    }


def _shared_directory(path: str) -> None:
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"OTELMETRICS_STATS_DIR={path!r} cannot be created ({exc})") from None
    if not os.access(path, os.W_OK):
        raise ValueError(f"OTELMETRICS_STATS_DIR={path!r} is not writable: pick a directory")


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat()
