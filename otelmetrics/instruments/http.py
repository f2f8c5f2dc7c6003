"""HTTP server metrics with the stable semantic conventions, recorded on the lean path.

The framework adapters (``otelmetrics.flask``, ``otelmetrics.fastapi``) call :meth:`start` when a
request arrives and :meth:`finish` when its body has been sent. Everything is resolved once: the
method set, the status strings used for ``error.type`` and each series' attributes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from time import perf_counter
from typing import TypeVar

from opentelemetry.trace import get_current_span

from otelmetrics.core.pending import PendingWindows
from otelmetrics.core.routes import ROUTE_LIMIT, RouteWindows
from otelmetrics.core.store import Aggregator, InstrumentSpec, Key, Layout, SeriesTable
from otelmetrics.core.window import RollingWindow

T = TypeVar("T")
# duration, request size, response size, active requests, and the list its durations wait in
# for the rolling windows (None without a window)
RequestSeries = tuple[Aggregator, Aggregator, Aggregator, Aggregator, list[float] | None]

# The semconv-advised bucket bounds for http.server.request.duration, in seconds.
DURATION_BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
# Body sizes: powers of four from 64 B to 16 MiB (semconv advises no bounds for sizes).
SIZE_BOUNDS = tuple(float(64 * 4**i) for i in range(10))

DURATION = InstrumentSpec(
    "http.server.request.duration",
    "histogram",
    "s",
    "Duration of HTTP server requests, until the last byte of the body is sent.",
    DURATION_BOUNDS,
)
REQUEST_SIZE = InstrumentSpec(
    "http.server.request.body.size",
    "histogram",
    "By",
    "Size of HTTP server request bodies (from Content-Length, when the client sends it).",
    SIZE_BOUNDS,
)
RESPONSE_SIZE = InstrumentSpec(
    "http.server.response.body.size",
    "histogram",
    "By",
    "Size of HTTP server response bodies (from Content-Length, when the response sets it).",
    SIZE_BOUNDS,
)
ACTIVE = InstrumentSpec(
    "http.server.active_requests",
    "updowncounter",
    "{request}",
    "Number of HTTP server requests in flight.",
)
REQUEST_ATTRIBUTES = (
    "http.request.method",
    "http.route",
    "http.response.status_code",
    "url.scheme",
    "error.type",
)
ACTIVE_ATTRIBUTES = ("http.request.method", "url.scheme")

KNOWN_METHODS = frozenset(
    {"CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "QUERY", "TRACE"}
)
OTHER_METHOD = "_OTHER"
_STATUS_ERRORS = {status: str(status) for status in range(500, 600)}


def normalize_method(method: str) -> str:
    """The method itself when it is a known one, else ``_OTHER`` (bounded cardinality)."""
    return method if method in KNOWN_METHODS else OTHER_METHOD


class HttpServerMetrics:
    """The HTTP request instruments of one handle, and the excluded paths.

    Example::

        started = http.start("GET", "https")
        ...  # serve the request
        http.finish(started, "GET", "/items/{id}", 200, "https", None, None, 512)
    """

    def __init__(
        self,
        *,
        limit: int,
        layout: Layout = "explicit",
        excluded_urls: Sequence[str] = (),
        window: RollingWindow | None = None,
        exemplars: bool = False,
    ) -> None:
        lock = threading.Lock()
        self.requests = SeriesTable(
            (DURATION, REQUEST_SIZE, RESPONSE_SIZE),
            REQUEST_ATTRIBUTES,
            limit=limit,
            layout=layout,
            lock=lock,
        )
        self.active = SeriesTable((ACTIVE,), ACTIVE_ATTRIBUTES, limit=limit, lock=lock)
        self.exemplars = exemplars  # tracing is on: record trace context too
        self.window = window  # the JSON API's rolling statistics, fed under the requests lock
        # and the same per route (a window each, for the first ROUTE_LIMIT routes)
        self.routes = (
            None if window is None else RouteWindows(window.seconds, min(limit, ROUTE_LIMIT))
        )
        self._pending = self._new_pending()
        self._due = float("-inf")  # when the waiting durations go into the windows
        # request key -> its duration/request/response aggregators, its active total and the
        # list its durations wait in for the windows (None without a window)
        self._series: dict[Key, RequestSeries] = {}
        self.excluded_paths = frozenset(url for url in excluded_urls if not url.endswith("*"))
        self.excluded_prefixes = tuple(url[:-1] for url in excluded_urls if url.endswith("*"))

    @property
    def tables(self) -> tuple[SeriesTable, ...]:
        return (self.requests, self.active)

    def is_excluded(self, path: str) -> bool:
        """True for paths kept out of the metrics (exact paths, or prefixes ending in ``*``)."""
        return path in self.excluded_paths or (
            bool(self.excluded_prefixes) and path.startswith(self.excluded_prefixes)
        )

    def start(self, method: str, scheme: str) -> float:
        """Count the request as active; return the start time for :meth:`finish`."""
        active = self.active
        key = (method, scheme)
        lock = active.lock
        lock.acquire()  # cheaper than `with` on the hot path
        try:
            (active.series.get(key) or active.get(key))[0].add(1)
        finally:
            lock.release()
        return perf_counter()

    def finish(
        self,
        started: float,
        method: str,
        route: str | None,
        status: int,
        scheme: str,
        error_type: str | None,
        request_size: int | None,
        response_size: int | None,
        trace: tuple[int, int] | None = None,
    ) -> None:
        """Record one finished request: duration, body sizes and the active-requests decrement.

        ``method`` must already be normalized (:func:`normalize_method`). A 5xx response without
        an exception gets ``error.type`` = the status code, as the conventions say. ``trace`` is
        the (trace_id, span_id) of the request's sampled span, kept as a duration exemplar.
        """
        now = perf_counter()
        duration = now - started
        if error_type is None and status >= 500:
            error_type = _STATUS_ERRORS.get(status)
        key = (method, route, status, scheme, error_type)
        lock = self.requests.lock
        lock.acquire()
        try:
            series = self._series.get(key) or self._resolve(key, method, scheme)
            duration_agg, request_agg, response_agg, active, waiting = series
            duration_agg.add(duration)
            if trace is not None:
                duration_agg.add_exemplar(duration, *trace)  # type: ignore[union-attr]
            if request_size is not None:
                request_agg.add(request_size)
            if response_size is not None:
                response_agg.add(response_size)
            active.add(-1)
            if waiting is not None:  # the windows get it in a batch (core.pending)
                if now >= self._due:
                    self._due = self._pending.flush(now)  # type: ignore[union-attr]
                waiting.append(duration)
        finally:
            lock.release()

    def read_window(self, read: Callable[[RollingWindow], T]) -> T:
        """``read(window)`` under the lock the hot path feeds the window with.

        Raises:
            LookupError: The handle was built without a rolling window.
        """
        window = self.window
        if window is None:
            raise LookupError("this HttpServerMetrics keeps no rolling window")
        with self.requests.lock:
            self._flush()
            return read(window)

    def read_routes(self, read: Callable[[RouteWindows], T]) -> T:
        """``read(routes)`` under the lock the hot path feeds the route windows with.

        Raises:
            LookupError: The handle was built without a rolling window.
        """
        routes = self.routes
        if routes is None:
            raise LookupError("this HttpServerMetrics keeps no rolling window")
        with self.requests.lock:
            self._flush()
            return read(routes)

    def _flush(self) -> None:
        """Put the waiting durations into the windows (call with the lock)."""
        if self._pending is not None:
            self._due = self._pending.flush(perf_counter())

    def _new_pending(self) -> PendingWindows | None:
        if self.window is None or self.routes is None:
            return None
        return PendingWindows(self.window, self.routes)

    def _resolve(self, key: Key, method: str, scheme: str) -> RequestSeries:
        """A request series, its active-requests total and its waiting list, in one tuple.
        Call with the lock."""
        pending = self._pending
        waiting = None if pending is None else pending.durations(key[1], key[2])
        duration, request_size, response_size = self.requests.get(key)
        active = self.active.get((method, scheme))[0]
        series = (duration, request_size, response_size, active, waiting)
        if key in self.requests.series:  # keys folded into the overflow series are not cached
            self._series[key] = series
        return series

    def reset(self) -> None:
        """Start from zero (after a fork), keeping one lock shared by both tables."""
        lock = threading.Lock()
        self.requests.reset(lock)
        self.active.reset(lock)
        self._series = {}  # the window is reset by Stats, which reads it
        if self.routes is not None:
            self.routes = RouteWindows(self.routes.seconds, self.routes.limit)
        self._pending = self._new_pending()
        self._due = float("-inf")


def current_trace() -> tuple[int, int] | None:
    """(trace_id, span_id) of the active span when it is sampled, else None."""
    context = get_current_span().get_span_context()
    return (context.trace_id, context.span_id) if context.trace_flags.sampled else None
