"""configure() and the one default handle: what ``instrument(app)`` and ``trading.get()`` use.

This module owns the global, as ``opentelemetry.metrics`` owns the global MeterProvider: nothing
below the pipeline reads it. A gauge declared before any ``configure()`` waits here and joins
every handle configured later (the proxy for calls made before setup)::

    otelmetrics.observable_gauge("orders.open", open_orders, unit="{order}")  # before setup
    handle = otelmetrics.configure(service_name="orders-api")                 # registers it

``instrument(app)`` without ``configure()`` configures from the environment on first use, in the
process that serves requests (after a gunicorn fork), via :func:`default_handle`; in a pre-fork
server's worker, as the worker starts (:func:`wanted_by_an_app`).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from opentelemetry import metrics
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader

from otelmetrics.core.forks import pre_fork_master
from otelmetrics.instruments import gauges
from otelmetrics.pipeline.handle import MetricsHandle
from otelmetrics.pipeline.resource import SCOPE_NAME
from otelmetrics.pipeline.tracing import configure as configure_tracing
from otelmetrics.pipeline.tracing import distro_defaults_applied
from otelmetrics.settings import Settings

__all__ = [
    "app_settings",
    "configure",
    "default_handle",
    "observable_gauge",
    "settings_from_env",
    "wanted_by_an_app",
]

_logger = logging.getLogger(__name__)

_default: MetricsHandle | None = None
_default_lock = threading.Lock()


@dataclass(frozen=True)
class _GaugeSpec:
    name: str
    callback: gauges.Callback
    unit: str
    description: str


_PENDING: list[_GaugeSpec] = []


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
    settings = settings_from_env(**options)
    if settings.sdk_disabled:
        _logger.info("OTEL_SDK_DISABLED is true: otelmetrics records and exports nothing")
    handle = MetricsHandle(settings, metric_readers)
    for spec in _PENDING:
        _register(handle, spec)
    configure_tracing(settings, handle.resource)
    if set_global:
        _set_default(handle)
    return handle


def settings_from_env(**options: Any) -> Settings:
    """``Settings.from_env(**options)``, but ``OTEL_METRICS_EXPORTER=otlp`` as the
    OpenTelemetry distro defaults it under ``opentelemetry-instrument`` keeps the in-app
    ``/metrics`` too (the app must not go dark); ``otelmetrics``' own distro leaves it alone."""
    settings = Settings.from_env(**options)
    keep_endpoint = options.get("exporters") is None and settings.exporters == ("otlp",)
    if keep_endpoint and distro_defaults_applied():
        return replace(settings, exporters=("prometheus", "otlp"))
    return settings


def app_settings(handle: MetricsHandle | None) -> Settings:
    """The settings an app instrumented with ``handle`` is served by: its own, else those of
    the handle ``configure()`` made (``configure(api_public=True)`` then ``instrument(app)``),
    else the environment's (the default handle is then made on the first request)."""
    if handle is not None:
        return handle.settings
    return _default.settings if _default is not None else settings_from_env()


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


def wanted_by_an_app() -> None:
    """An app was instrumented without a handle: under a pre-fork server each worker
    configures the default handle as it starts, not on its first request, so a worker that
    serves nothing still reports its gauges (with ``--preload``, right after the fork)."""
    global _wanted
    _wanted = True
    if pre_fork_master() is not None:
        default_handle()


_wanted = False


def _configure_in_a_new_worker() -> None:
    if _wanted and pre_fork_master() is not None:
        try:
            default_handle()
        except Exception:  # a bad setting fails the first request loudly instead
            _logger.exception("otelmetrics: configuring this worker failed")


os.register_at_fork(after_in_child=_configure_in_a_new_worker)


def observable_gauge(
    name: str,
    callback: gauges.Callback,
    *,
    unit: str = "1",
    description: str = "",
    handle: MetricsHandle | None = None,
) -> None:
    """Register ``callback`` as an observable gauge.

    A gauge callback takes ``CallbackOptions`` and yields ``Observation``s; keep it fast and
    free of side effects (read a value your app already keeps)::

        from opentelemetry.metrics import Observation

        def open_orders(options):
            yield Observation(len(book.open_orders), {"venue": "kraken"})

        otelmetrics.observable_gauge("orders.open", open_orders, unit="{order}")

    A callback that raises is logged once (then at debug level) and reports nothing for that
    collection; the other gauges still report. Distinct attribute sets beyond the cardinality
    limit fold into one ``otel.metric.overflow=true`` observation.

    Args:
        name: Dotted OTel metric name, e.g. ``trading.positions.open``.
        callback: ``callback(options)`` yielding ``Observation(value, attributes)``.
        unit: UCUM unit (``1``, ``s``, ``By``, ``{order}``).
        description: One sentence for the metric's HELP text.
        handle: The handle to register on; default: the configured one, or every handle
            configured later when none exists yet.

    Raises:
        ValueError: The name is empty or the callback is not callable.
    """
    if not name or not callable(callback):
        raise ValueError(f"observable_gauge needs a metric name and a callable, got {name!r}")
    spec = _GaugeSpec(name, callback, unit, description)
    target = handle or _default
    if target is None:
        _PENDING.append(spec)
    else:
        _register(target, spec)


def _register(handle: MetricsHandle, spec: _GaugeSpec) -> None:
    gauges.register(
        handle.meter_provider.get_meter(SCOPE_NAME),
        spec.name,
        spec.callback,
        spec.unit,
        spec.description,
        limit=handle.settings.cardinality_limit,
    )
