"""configure(): resource + readers + lean store -> one MeterProvider, behind a handle.

Usage::

    import otelmetrics
    handle = otelmetrics.configure(service_name="orders-api")
    ...
    handle.shutdown()   # bounded, even when the collector is unreachable

``instrument(app)`` without ``configure()`` configures from the environment on first use, in the
process that serves requests (after a gunicorn fork), via :func:`default_handle`.
"""

from __future__ import annotations

import logging
import os
import platform
import socket
import sys
import threading
import uuid
import weakref
from collections.abc import Sequence
from importlib.metadata import version
from time import time_ns
from typing import Any, Protocol

from opentelemetry import metrics
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from prometheus_client import CollectorRegistry

from otelmetrics.core.producer import LeanProducer, attach
from otelmetrics.core.store import SeriesTable
from otelmetrics.insights import operations
from otelmetrics.insights.feed import FeedLatency
from otelmetrics.insights.snapshots import SnapshotLog
from otelmetrics.insights.stats import Stats
from otelmetrics.instruments import gauges, process
from otelmetrics.instruments.events import Events
from otelmetrics.instruments.http import HttpServerMetrics
from otelmetrics.instruments.performance import Performance
from otelmetrics.instruments.trading.metrics import TradingMetrics
from otelmetrics.instruments.users import ActiveUsers
from otelmetrics.instruments.websockets import WebsocketMetrics
from otelmetrics.pipeline import prometheus, readers, tracing
from otelmetrics.settings import Settings

__all__ = ["MetricsHandle", "configure", "default_handle"]

_logger = logging.getLogger(__name__)
SCOPE_NAME = "otelmetrics"
VERSION = version("otelmetrics")


class MetricsHandle:
    """One configured pipeline: a MeterProvider, its readers and the lean store.

    Attributes:
        settings: The validated settings it was built from.
        meter_provider: The SDK MeterProvider (use it for your own instruments).
        http: The HTTP server metrics the framework adapters record into.
        websockets: Websocket connections and messages (:mod:`otelmetrics.instruments.websockets`).
        users: The active users behind ``app.users.active`` (:mod:`otelmetrics.instruments.users`).
        events: Errors and security events (:mod:`otelmetrics.instruments.events`).
        feed_latency: Rolling feed-latency percentiles per pair (:mod:`otelmetrics.insights.feed`).
        performance: The ``/performance`` sampler (:mod:`otelmetrics.instruments.performance`).
        snapshots: The CSV snapshot log behind ``POST /snapshot`` and the periodic snapshots
            (:mod:`otelmetrics.insights.snapshots`).
        trading: The trading facade an engine calls (:mod:`otelmetrics.trading`).
        prometheus_registry: The registry ``/metrics`` renders, or None without Prometheus.
        resource: The resource every export carries (a forked worker gets its own).
    """

    def __init__(self, settings: Settings, extra_readers: Sequence[MetricReader] = ()) -> None:
        self.settings = settings
        self.instance_id = _instance_id(settings)
        self.start_ns = time_ns()
        self.http = HttpServerMetrics(
            limit=settings.cardinality_limit,
            layout=_layout(settings),
            excluded_urls=settings.resolved_excluded_urls,
        )
        self.http.exemplars = settings.traces_exporter != "none" and not settings.sdk_disabled
        self.prometheus_registry: CollectorRegistry | None = None
        self.resource = build_resource(settings, self.instance_id)
        self._producers: list[LeanProducer] = []
        self._components: list[Component] = [self.http]
        reader_list = self._build_readers(extra_readers)
        self.meter_provider = MeterProvider(metric_readers=reader_list, resource=self.resource)
        scope = InstrumentationScope(SCOPE_NAME, VERSION)
        for reader, (delta, exponential) in zip(reader_list, self._reader_modes, strict=True):
            producer = LeanProducer(
                self._tables,
                scope=scope,
                start_ns=self.start_ns,
                delta=delta,
                exponential=exponential,
            )
            attach(reader, producer, lambda: self.resource)
            self._producers.append(producer)
        self.meter = self.meter_provider.get_meter(SCOPE_NAME, VERSION)
        if settings.process_metrics and not settings.sdk_disabled:
            process.register(
                self.meter, system=settings.system_metrics, limit=settings.cardinality_limit
            )
        gauges.register_pending(self)
        self.websockets = WebsocketMetrics(
            limit=settings.cardinality_limit, layout=_layout(settings)
        )
        self.add_component(self.websockets)
        self.users = ActiveUsers(
            timeout=settings.user_timeout_seconds, max_users=settings.max_users
        )
        self.add_component(self.users)
        if not settings.sdk_disabled:
            self.users.register(self.meter, limit=settings.cardinality_limit)
        self.stats = Stats(self, start=not settings.sdk_disabled)
        self.add_component(self.stats)
        self.events = Events(limit=settings.cardinality_limit)
        self.add_component(self.events)
        self.feed_latency = FeedLatency(
            pairs=settings.feed_pairs,
            seconds=settings.window_seconds,
            max_series=settings.symbol_limit,
        )
        self.add_component(self.feed_latency)
        self.performance = Performance()
        self.trading = TradingMetrics(self)
        self.add_component(self.trading)
        self.snapshots = SnapshotLog.from_settings(
            settings, provider=lambda: operations.snapshot_row(self)
        )
        self.add_component(self.snapshots)  # its periodic thread restarts in a forked worker
        self.prometheus_server = prometheus.serve(self)
        _LIVE.add(self)
        if settings.snapshot_interval > 0 and not settings.sdk_disabled:
            self.snapshots.start()  # stopped by shutdown()

    def add_component(self, component: Component) -> None:
        """Export a domain component's lean tables and reset it after a fork."""
        self._components.append(component)

    def _tables(self) -> list[SeriesTable]:
        return [table for component in self._components for table in component.tables]

    def _build_readers(self, extra: Sequence[MetricReader]) -> list[MetricReader]:
        built: list[MetricReader] = []
        modes: list[tuple[bool, bool]] = []
        otlp_delta = self.settings.temporality != "cumulative"
        otlp_exp = _layout(self.settings) != "explicit"
        for name in self.settings.resolved_exporters:
            if name == "prometheus":
                reader, self.prometheus_registry = readers.prometheus_reader()
                built.append(reader)
                modes.append((False, False))
            elif name == "otlp":
                built.append(readers.periodic(readers.otlp_exporter(self.settings), self.settings))
                modes.append((otlp_delta, otlp_exp))
            elif name == "console":
                built.append(readers.console_reader(self.settings))
                modes.append((False, False))
        for reader in extra:
            built.append(reader)
            modes.append((False, False))
        self._reader_modes = modes
        return built

    def shutdown(self, timeout: float | None = None) -> bool:
        """Flush and stop, returning within ``timeout`` seconds (default: shutdown_timeout).

        The SDK can block far longer when the OTLP endpoint is down, so its shutdown runs on a
        daemon thread that is abandoned at the deadline. Returns True when it finished in time.
        """
        limit = self.settings.shutdown_timeout if timeout is None else timeout
        _LIVE.discard(self)
        self.stats.stop()
        self.snapshots.stop()
        if self.prometheus_server is not None:
            self.prometheus_server.shutdown()
            self.prometheus_server.server_close()
        worker = threading.Thread(
            target=self._shutdown_provider, args=(limit,), name="otelmetrics-shutdown", daemon=True
        )
        worker.start()
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

    def _after_fork_in_child(self) -> None:
        """A forked worker is a new instance: new id, series from zero, same provider."""
        self.instance_id = str(uuid.uuid4())
        self.resource = build_resource(self.settings, self.instance_id)
        self.start_ns = time_ns()
        for component in self._components:
            component.reset()
        for producer in self._producers:
            producer.reset(self.start_ns)


def build_resource(settings: Settings, instance_id: str) -> Resource:
    """service.*, deployment, host, process and telemetry.sdk attributes (no env reads here)."""
    attributes: dict[str, Any] = {
        "telemetry.sdk.language": "python",
        "telemetry.sdk.name": "opentelemetry",
        "telemetry.sdk.version": version("opentelemetry-sdk"),
        "telemetry.distro.name": SCOPE_NAME,
        "telemetry.distro.version": VERSION,
        "service.name": "unknown_service:python",
        "host.name": socket.gethostname(),
        "host.arch": platform.machine(),
        "os.type": sys.platform,
        "process.pid": os.getpid(),
        "process.runtime.name": sys.implementation.name,
        "process.runtime.version": platform.python_version(),
        "process.executable.name": os.path.basename(sys.executable),
    }
    attributes.update(settings.resource_attributes)
    for key, value in (
        ("service.name", settings.service_name),
        ("service.version", settings.service_version),
        ("deployment.environment.name", settings.environment),
    ):
        if value:
            attributes[key] = value
    attributes["service.instance.id"] = instance_id
    return Resource(attributes)


def _instance_id(settings: Settings) -> str:
    return settings.resource_attributes.get("service.instance.id") or str(uuid.uuid4())


def _layout(settings: Settings) -> Any:
    if settings.histogram_aggregation != "base2_exponential_bucket_histogram":
        return "explicit"
    return "both" if "prometheus" in settings.resolved_exporters else "exponential"


class Component(Protocol):
    """Lean tables that a handle exports, reset when a worker forks."""

    @property
    def tables(self) -> Sequence[SeriesTable]: ...

    def reset(self) -> None: ...


_LIVE: weakref.WeakSet[MetricsHandle] = weakref.WeakSet()
_default: MetricsHandle | None = None
_default_lock = threading.Lock()


def configure(
    *,
    metric_readers: Sequence[MetricReader] = (),
    set_global: bool = True,
    **options: Any,
) -> MetricsHandle:
    """Build one MeterProvider from keyword options, then ``OTEL_*`` env, then defaults.

    Args:
        metric_readers: Extra SDK readers (an ``InMemoryMetricReader`` in tests); they receive
            the lean HTTP series too.
        set_global: Make this the handle ``instrument(app)`` uses by default and, if none is
            set yet, the OpenTelemetry global MeterProvider.
        **options: Any :class:`~otelmetrics.settings.Settings` field, e.g. ``service_name``,
            ``otlp_endpoint``, ``exporters=("otlp", "prometheus")``, ``export_interval`` (s).

    Returns:
        The handle; call ``handle.shutdown()`` at exit (it is bounded).

    Raises:
        ValueError: A setting is invalid; the message names it and says the fix.
    """
    settings = Settings.from_env(**options)
    if settings.sdk_disabled:
        _logger.info("OTEL_SDK_DISABLED is true: otelmetrics records and exports nothing")
    handle = MetricsHandle(settings, metric_readers)
    tracing.configure(settings, handle.resource)
    if set_global:
        _set_default(handle)
    return handle


def _set_default(handle: MetricsHandle) -> None:
    global _default
    previous, _default = _default, handle
    if previous is not None and previous is not handle:
        _logger.info("otelmetrics.configure() called again: the previous handle is shut down")
        previous.shutdown()
    if not isinstance(metrics.get_meter_provider(), MeterProvider):
        metrics.set_meter_provider(handle.meter_provider)


def default_handle() -> MetricsHandle:
    """The handle set by ``configure()``, configuring from the environment on first use."""
    handle = _default
    if handle is not None:
        return handle
    with _default_lock:
        if _default is None:
            configure()
        assert _default is not None
        return _default


def _after_fork_in_child() -> None:
    for handle in list(_LIVE):
        handle._after_fork_in_child()


os.register_at_fork(after_in_child=_after_fork_in_child)
