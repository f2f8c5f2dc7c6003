"""MetricsHandle: one configured pipeline, and the composition root of every component.

The handle builds each shared piece once and passes plain arguments down (the rolling window to
the HTTP instruments and the statistics, the meter to the gauges, a latency callback to the
trading facade); no component receives the handle. Usage::

    import otelmetrics
    handle = otelmetrics.configure(service_name="orders-api")
    handle.trading.order_placed("BTC-USD", "buy")
    handle.shutdown()   # bounded, even when the collector is unreachable
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Sequence
from time import time_ns
from typing import Protocol

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

import otelmetrics.pipeline.lifecycle as lifecycle
from otelmetrics.core.producer import LeanProducer, attach
from otelmetrics.core.store import Layout, SeriesTable
from otelmetrics.core.window import RollingWindow
from otelmetrics.insights.alerts import AlertSince
from otelmetrics.insights.feed import FeedLatency
from otelmetrics.insights.snapshot_row import current_row
from otelmetrics.insights.snapshots import SnapshotLog
from otelmetrics.insights.stats import Stats
from otelmetrics.instruments import process
from otelmetrics.instruments.events import Events
from otelmetrics.instruments.http import HttpServerMetrics
from otelmetrics.instruments.http_client import HttpClientMetrics
from otelmetrics.instruments.performance import Performance
from otelmetrics.instruments.trading.facade import TradingMetrics
from otelmetrics.instruments.users import ActiveUsers
from otelmetrics.instruments.websockets import WebsocketMetrics
from otelmetrics.pipeline.multiprocess import Worker, join_as_worker
from otelmetrics.pipeline.options import histogram_layout, stats_options, trading_options
from otelmetrics.pipeline.prometheus import Answer, scrape, serve
from otelmetrics.pipeline.readers import (
    ScrapeReader,
    console_reader,
    otlp_exporter,
    periodic,
    prometheus_reader,
)
from otelmetrics.pipeline.resource import SCOPE_NAME, VERSION, build_resource, instance_id
from otelmetrics.settings import Settings

__all__ = ["Component", "MetricsHandle", "histogram_layout", "stats_options", "trading_options"]

_logger = logging.getLogger(__name__)


class Component(Protocol):
    """Lean tables that a handle exports, reset when a worker forks."""

    @property
    def tables(self) -> Sequence[SeriesTable]: ...

    def reset(self) -> None: ...


class MetricsHandle:
    """One configured pipeline: a MeterProvider, its readers, the lean store and the components.

    Attributes:
        settings: The validated settings it was built from.
        meter_provider: The SDK MeterProvider (use it for your own instruments).
        http: The HTTP server metrics the framework adapters record into.
        http_clients: The outgoing HTTP calls' metrics the client adapters record into.
        websockets: Websocket connections and messages.
        users: The active users behind ``app.users.active``.
        events: Errors and security events.
        feed_latency: Rolling feed-latency percentiles per pair.
        performance: The ``/performance`` sampler.
        stats: The rolling statistics behind the JSON API.
        snapshots: The CSV snapshot log behind ``POST /snapshot`` and the periodic snapshots.
        trading: The trading facade an engine calls.
        alert_since: Since when each operations alert has fired (``/alerts``, ``/status``).
        prometheus_reader: The reader ``/metrics`` collects from, or None without Prometheus.
        resource: The resource every export carries (a forked worker gets its own).
    """

    def __init__(self, settings: Settings, extra_readers: Sequence[MetricReader] = ()) -> None:
        self.settings = settings
        self.instance_id = instance_id(settings)
        self.start_ns = time_ns()
        self.resource = build_resource(settings, self.instance_id)
        layout = histogram_layout(settings)
        self.http = HttpServerMetrics(
            limit=settings.cardinality_limit,
            layout=layout,
            excluded_urls=settings.resolved_excluded_urls,
            window=RollingWindow(settings.window_seconds),
            exemplars=settings.traces_exporter != "none" and not settings.sdk_disabled,
        )
        self._components: list[Component] = [self.http]
        self._producers: list[LeanProducer] = []
        self.prometheus_reader: ScrapeReader | None = None
        self.meter_provider = self._build_provider(extra_readers)
        self.meter = self.meter_provider.get_meter(SCOPE_NAME, VERSION)
        self._build_components(layout)
        self.prometheus_server = serve(settings, self.prometheus_reader)
        self.worker = self._join_workers()
        lifecycle.track(self)
        if settings.snapshot_interval > 0 and not settings.sdk_disabled:
            self.snapshots.start()  # stopped by shutdown()

    def _build_request_views(self, layout: Layout) -> None:
        """Process gauges, websockets, users, and the statistics over them and the window."""
        settings, live = self.settings, not self.settings.sdk_disabled
        if settings.process_metrics and live:
            process.register(
                self.meter, system=settings.system_metrics, limit=settings.cardinality_limit
            )
        self.websockets = WebsocketMetrics(limit=settings.cardinality_limit, layout=layout)
        self.users = ActiveUsers(
            timeout=settings.user_timeout_seconds, max_users=settings.max_users
        )
        if live:
            self.users.register(self.meter, limit=settings.cardinality_limit)
        self.stats = Stats(
            http=self.http,
            users=self.users,
            websockets=self.websockets,
            options=stats_options(settings),
            start=live,
        )

    def _build_components(self, layout: Layout) -> None:
        """Every component, each with the plain arguments it needs; then listed for export."""
        settings = self.settings
        self._build_request_views(layout)
        self.events = Events(limit=settings.cardinality_limit)
        self.http_clients = HttpClientMetrics(
            limit=settings.cardinality_limit,
            layout=layout,
            hosts=settings.client_hosts,
            window_seconds=settings.window_seconds,
        )
        self.feed_latency = FeedLatency(
            pairs=settings.feed_pairs,
            seconds=settings.window_seconds,
            max_series=settings.symbol_limit,
        )
        self.performance = Performance()
        self.trading = TradingMetrics(
            self.meter, trading_options(settings), on_feed_latency=self.feed_latency.add
        )
        self.alert_since = AlertSince()
        self.snapshots = SnapshotLog.from_settings(
            settings, provider=lambda: current_row(self.stats, self.trading, self.start_ns)
        )
        components: tuple[Component, ...] = (
            self.http_clients,
            self.websockets,
            self.users,
            self.stats,
            self.events,
            self.feed_latency,
            self.trading,
            self.alert_since,
            self.snapshots,  # its periodic thread restarts in a forked worker
        )
        for component in components:
            self.add_component(component)

    def add_component(self, component: Component) -> None:
        """Export a domain component's lean tables and reset it after a fork."""
        self._components.append(component)

    def scrape(
        self,
        client: str | None,
        authorization: str | None,
        accept: str | None,
        accept_encoding: str | None = None,
        scrape_timeout: str | None = None,
    ) -> Answer:
        """The response to a ``/metrics`` scrape by ``client`` (see :func:`prometheus.scrape`)."""
        reader, timeout = self.prometheus_reader, scrape_timeout
        return scrape(
            self.settings, reader, client, authorization, accept, accept_encoding, timeout
        )

    def _tables(self) -> list[SeriesTable]:
        return [table for component in self._components for table in component.tables]

    def _build_provider(self, extra: Sequence[MetricReader]) -> MeterProvider:
        """The SDK provider over every reader, each fed the lean tables by its own producer."""
        built = self._build_readers(extra)
        provider = MeterProvider(
            metric_readers=[r for r, _ in built],
            resource=self.resource,
            shutdown_on_exit=False,  # lifecycle.py shuts down within shutdown_timeout instead
        )
        scope = InstrumentationScope(SCOPE_NAME, VERSION)
        for reader, (delta, exponential) in built:
            producer = LeanProducer(  # /metrics renders the tables itself (lean_exposition)
                self._tables if reader is not self.prometheus_reader else lambda: (),
                scope=scope,
                start_ns=self.start_ns,
                delta=delta,
                exponential=exponential,
            )
            attach(reader, producer, lambda: self.resource)
            self._producers.append(producer)
        return provider

    def _build_readers(
        self, extra: Sequence[MetricReader]
    ) -> list[tuple[MetricReader, tuple[bool, bool]]]:
        """Each reader with its (delta, exponential) modes."""
        built: list[tuple[MetricReader, tuple[bool, bool]]] = []
        otlp_modes = (
            self.settings.temporality != "cumulative",
            histogram_layout(self.settings) != "explicit",
        )
        for name in self.settings.resolved_exporters:
            if name == "prometheus":
                self.prometheus_reader = prometheus_reader(lambda: (self._tables(), self.resource))
                built.append((self.prometheus_reader, (False, False)))
            elif name == "otlp":
                otlp = periodic(otlp_exporter(self.settings), self.settings)
                built.append((otlp, otlp_modes))
            elif name == "console":
                built.append((console_reader(self.settings), (False, False)))
        built.extend((reader, (False, False)) for reader in extra)
        return built

    def shutdown(self, timeout: float | None = None) -> bool:
        """Flush and stop, returning within ``timeout`` seconds (default: shutdown_timeout).

        The SDK can block far longer when the OTLP endpoint is down, so its shutdown runs on a
        daemon thread that is abandoned at the deadline. Returns True when it finished in time.
        """
        limit = self.settings.shutdown_timeout if timeout is None else timeout
        lifecycle.forget(self)
        self.stats.stop()
        self.snapshots.stop()
        if self.worker is not None:
            self.worker.stop()
        if self.prometheus_server is not None:
            self.prometheus_server.shutdown()
            self.prometheus_server.server_close()
        worker = threading.Thread(
            target=self._shutdown_provider, args=(limit,), name="otelmetrics-shutdown", daemon=True
        )
        try:
            worker.start()
        except RuntimeError:  # Python 3.12.0-1 refuses new threads in atexit: the SDK's bound
            self._shutdown_provider(limit)
            return True
        worker.join(limit + 0.5)
        if worker.is_alive():
            _logger.warning(
                "otelmetrics shutdown did not finish within %.1fs (is the OTLP endpoint "
                "reachable?); unexported metrics are dropped",
                limit,
            )
            return False
        return True

    def _shutdown_provider(self, limit: float) -> None:
        try:
            self.meter_provider.shutdown(timeout_millis=limit * 1000)
        except Exception:  # the SDK raises when a reader fails; shutdown must not
            _logger.warning("otelmetrics: a metric reader failed during shutdown", exc_info=True)

    def after_fork_in_child(self) -> None:
        """A forked worker is a new instance: new id, series from zero, same provider."""
        self.instance_id = str(uuid.uuid4())  # never the parent's, even when configured
        self.resource = build_resource(self.settings, self.instance_id)
        self.start_ns = time_ns()
        for component in self._components:
            component.reset()
        for producer in self._producers:
            producer.reset(self.start_ns)
        self.worker = self._join_workers()  # with --preload, the child is the worker

    def _join_workers(self) -> Worker | None:
        """In a pre-fork server's worker, /metrics adds up every worker (multiprocess.py)."""
        reader = self.prometheus_reader
        if reader is None or self.settings.sdk_disabled:
            return None
        return join_as_worker(
            reader,
            self.settings.multiproc_dir,
            lean_names=lambda: {spec.name for table in self._tables() for spec in table.specs},
            resource=lambda: self.resource,
            scrape_process=self.settings.scrape_process,
        )
