"""Outgoing HTTP client metrics with the stable semantic conventions, on the lean path.

The client adapters (:mod:`otelmetrics.adapters.http_clients`, for ``requests``, ``httpx`` and
``aiohttp``) call :meth:`HttpClientMetrics.start` before a request is sent and
:meth:`~HttpClientMetrics.finish` when its response (or its exception) is back::

    call = clients.start("GET", "api.exchange.example", 443, "https")
    ...  # send it
    clients.finish(call, 200, None, None, 512)

``server.address`` is bounded: the hosts of ``OTELMETRICS_CLIENT_HOSTS`` when it is set, else
the first :data:`HOST_LIMIT` hosts seen; any other host is recorded as ``_OTHER``. Each kept
host also gets a rolling window (the ``/clients`` view: requests/min, error %, p50/p95/p99).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from time import perf_counter
from typing import TypeVar

from otelmetrics.core.bounded import BoundedValues
from otelmetrics.core.routes import RouteWindows
from otelmetrics.core.store import Aggregator, InstrumentSpec, Key, Layout, SeriesTable
from otelmetrics.core.window import RollingWindow
from otelmetrics.instruments.http import DURATION_BOUNDS, SIZE_BOUNDS, normalize_method

__all__ = ["HOST_LIMIT", "ClientCall", "HttpClientMetrics", "NO_RESPONSE"]

T = TypeVar("T")
# what start() hands finish(): start time, method, address, port, scheme, active total
ClientCall = tuple[float, str, str | None, int | None, str, Aggregator]
# duration, request size, response size, and the host's window (or None)
CallSeries = tuple[Aggregator, Aggregator, Aggregator, RollingWindow | None]

HOST_LIMIT = 100  # distinct server.address values kept without an allow-list
# What the host windows record for a call that got no response (refused, timed out): an error
# of the upstream, counted as a 5xx would be.
NO_RESPONSE = 599

DURATION = InstrumentSpec(
    "http.client.request.duration",
    "histogram",
    "s",
    "Duration of HTTP client requests, until the response headers (or an error) arrived.",
    DURATION_BOUNDS,
)
REQUEST_SIZE = InstrumentSpec(
    "http.client.request.body.size",
    "histogram",
    "By",
    "Size of HTTP client request bodies (from Content-Length, when known).",
    SIZE_BOUNDS,
)
RESPONSE_SIZE = InstrumentSpec(
    "http.client.response.body.size",
    "histogram",
    "By",
    "Size of HTTP client response bodies (from Content-Length, when the server sets it).",
    SIZE_BOUNDS,
)
ACTIVE = InstrumentSpec(
    "http.client.active_requests",
    "updowncounter",
    "{request}",
    "Number of outgoing HTTP requests in flight.",
)
REQUEST_ATTRIBUTES = (
    "http.request.method",
    "server.address",
    "server.port",
    "http.response.status_code",
    "error.type",
    "url.scheme",
    "url.template",
)
ACTIVE_ATTRIBUTES = ("http.request.method", "server.address", "server.port", "url.scheme")
# A client counts 4xx as well as 5xx as errors (semantic conventions, HTTP client spans).
_STATUS_ERRORS = {status: str(status) for status in range(400, 600)}


class HttpClientMetrics:
    """The outgoing-request instruments of one handle, its bounded hosts and their windows.

    Args:
        limit: The cardinality limit of each table.
        layout: The histograms' layout.
        hosts: The ``server.address`` allow-list; None keeps the first ``max_hosts``.
        max_hosts: How many hosts are kept without an allow-list (and get a window).
        window_seconds: The per-host rolling windows' span; None keeps no window.
    """

    def __init__(
        self,
        *,
        limit: int,
        layout: Layout = "explicit",
        hosts: Iterable[str] | None = None,
        window_seconds: float | None = 300.0,
        max_hosts: int = HOST_LIMIT,
    ) -> None:
        self.lock = lock = threading.Lock()
        self.requests = SeriesTable(
            (DURATION, REQUEST_SIZE, RESPONSE_SIZE),
            REQUEST_ATTRIBUTES,
            limit=limit,
            layout=layout,
            lock=lock,
        )
        self.active = SeriesTable((ACTIVE,), ACTIVE_ATTRIBUTES, limit=limit, lock=lock)
        self.hosts = BoundedValues(
            "server.address",
            None if hosts is None else [host.lower() for host in hosts],
            min(limit, max_hosts),
            fix="list the hosts to keep in OTELMETRICS_CLIENT_HOSTS",
        )
        self.windows = (
            None if window_seconds is None else RouteWindows(window_seconds, max_hosts + 2)
        )
        self._series: dict[Key, CallSeries] = {}

    @property
    def tables(self) -> tuple[SeriesTable, ...]:
        return (self.requests, self.active)

    def start(self, method: str, host: str | None, port: int | None, scheme: str) -> ClientCall:
        """Count the call as active; what :meth:`finish` needs, with the start time."""
        method = normalize_method(method)
        lock = self.lock
        lock.acquire()  # cheaper than `with` on the hot path
        try:
            address = self.hosts(host)
            key = (method, address, port, scheme)
            active = self.active
            total = (active.series.get(key) or active.get(key))[0]
            total.add(1)
        finally:
            lock.release()
        return (perf_counter(), method, address, port, scheme, total)

    def finish(
        self,
        call: ClientCall,
        status: int | None,
        error_type: str | None,
        request_size: int | None,
        response_size: int | None,
        template: str | None = None,
    ) -> None:
        """Record one finished call: duration, body sizes and the active-requests decrement.

        ``status`` is None when no response came back, and ``error_type`` then names the
        exception; a 4xx or 5xx response without one gets the status code as ``error.type``.
        """
        now = perf_counter()
        started, method, address, port, scheme, active = call
        duration = now - started
        if error_type is None and status is not None and status >= 400:
            error_type = _STATUS_ERRORS.get(status)
        key = (method, address, port, status, error_type, scheme, template)
        lock = self.lock
        lock.acquire()
        try:
            series = self._series.get(key) or self._resolve(key, address)
            duration_agg, request_agg, response_agg, window = series
            duration_agg.add(duration)
            if request_size is not None:
                request_agg.add(request_size)
            if response_size is not None:
                response_agg.add(response_size)
            active.add(-1)
            if window is not None:
                window.add(duration, NO_RESPONSE if status is None else status, now)
        finally:
            lock.release()

    def read_hosts(self, read: Callable[[RouteWindows], T]) -> T:
        """``read(windows)`` (one per ``server.address``) under the lock the calls feed them with.

        Raises:
            LookupError: Built without a rolling window.
        """
        windows = self.windows
        if windows is None:
            raise LookupError("this HttpClientMetrics keeps no rolling window")
        with self.lock:
            return read(windows)

    def reset_windows(self) -> None:
        """Empty the host windows (``POST /reset``); the exported series stay cumulative."""
        if self.windows is not None:
            with self.lock:
                self.windows.reset()

    def _resolve(self, key: Key, address: str | None) -> CallSeries:
        """A call's series and its host's window, in one tuple. Call with the lock."""
        windows = self.windows
        window = None if windows is None else windows.get(address)
        duration, request_size, response_size = self.requests.get(key)
        series = (duration, request_size, response_size, window)
        if key in self.requests.series:  # keys folded into the overflow series are not cached
            self._series[key] = series
        return series

    def reset(self) -> None:
        """Start from zero (after a fork), keeping one lock shared by both tables."""
        self.lock = lock = threading.Lock()
        self.requests.reset(lock)
        self.active.reset(lock)
        self.hosts.reset()
        self._series = {}
        if self.windows is not None:
            self.windows = RouteWindows(self.windows.seconds, self.windows.limit)
