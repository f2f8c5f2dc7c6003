"""The OpenTelemetry distro and configurator named ``otelmetrics``.

    OTEL_PYTHON_DISTRO=otelmetrics OTEL_PYTHON_CONFIGURATOR=otelmetrics \\
        opentelemetry-instrument gunicorn app:app

does what ``otelmetrics-instrument gunicorn app:app`` does, and the contrib instrumentors
``opentelemetry-bootstrap`` installed keep making spans (``OTEL_TRACES_EXPORTER`` defaults to
``otlp``, as with the OpenTelemetry distro). The HTTP server metrics come from otelmetrics'
lean path only: an app the contrib Flask/FastAPI instrumentor wrapped is handed over to
otelmetrics on its first call, the instrumentor keeping the spans. ``OTEL_METRICS_EXPORTER``
keeps otelmetrics' meaning (unset: the in-app ``/metrics``; with an OTLP endpoint, OTLP too).

``opentelemetry-instrument`` loads the first distro and configurator it finds when no variable
names one; found first but not named, these two behave exactly as the OpenTelemetry ones.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.instrumentation.distro import BaseDistro  # type: ignore[attr-defined]
from opentelemetry.sdk._configuration import _OTelSDKConfigurator

from otelmetrics.launcher.patches import boot_in_process
from otelmetrics.settings.launch import (
    OTEL_PYTHON_CONFIGURATOR,
    OTEL_PYTHON_DISTRO,
    chosen_by_name,
    set_default,
)

__all__ = ["OtelMetricsConfigurator", "OtelMetricsDistro"]


class OtelMetricsDistro(BaseDistro):  # type: ignore[misc]
    """``opentelemetry_distro`` entry point ``otelmetrics``."""

    def _configure(self, **kwargs: Any) -> None:
        if not chosen_by_name(OTEL_PYTHON_DISTRO):
            from opentelemetry.distro import OpenTelemetryDistro

            OpenTelemetryDistro()._configure(**kwargs)  # type: ignore[no-untyped-call]
            return
        set_default("OTEL_TRACES_EXPORTER", "otlp")
        boot_in_process()


class OtelMetricsConfigurator(_OTelSDKConfigurator):
    """``opentelemetry_configurator`` entry point ``otelmetrics``: the SDK's, for traces and
    logs (and for the contrib instrumentors' own metrics); otelmetrics' handle configures
    itself from the environment where an app is instrumented."""

    def _configure(self, **kwargs: Any) -> None:
        super()._configure(**kwargs)  # type: ignore[no-untyped-call]
        if chosen_by_name(OTEL_PYTHON_CONFIGURATOR):
            boot_in_process()
