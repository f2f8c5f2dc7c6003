"""Optional tracing: the official instrumentors make the spans, otelmetrics keeps the metrics.

Tracing is off unless ``OTEL_TRACES_EXPORTER`` (or ``traces_exporter=``) is ``otlp`` or
``console``. Then the contrib Flask/FastAPI instrumentors are applied with a no-op meter
provider, so the request metrics are recorded once, on otelmetrics' own path.

An app those instrumentors already wrapped (under ``opentelemetry-instrument``) is taken over
(:func:`take_over`): their wrapper comes off and goes back on for spans only, so each request is
counted once, on otelmetrics' lean path, and ``/metrics`` and the JSON API see it.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from opentelemetry import trace
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

from otelmetrics.settings import Settings

_logger = logging.getLogger(__name__)


def configure(settings: Settings, resource: Resource) -> None:
    """Install an SDK TracerProvider when traces are turned on and none is installed yet."""
    if settings.traces_exporter == "none" or settings.sdk_disabled:
        return
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(_exporter(settings)))
    trace.set_tracer_provider(provider)


def _exporter(settings: Settings) -> SpanExporter:
    if settings.traces_exporter == "console":
        return ConsoleSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    base = (settings.otlp_endpoint or "http://localhost:4318").rstrip("/")
    return OTLPSpanExporter(endpoint=base + "/v1/traces", headers=dict(settings.otlp_headers))


def auto_instrumented(app: Any) -> bool:
    """True when ``opentelemetry-instrument`` (or the user) already applied the contrib one."""
    return bool(getattr(app, "_is_instrumented_by_opentelemetry", False))


def distro_defaults_applied() -> bool:
    """True under ``opentelemetry-instrument`` with the OpenTelemetry distro, which sets
    ``OTEL_METRICS_EXPORTER=otlp`` (and traces, logs) when the variable is unset."""
    return "opentelemetry.distro" in sys.modules


def take_over(app: Any, framework: str) -> None:
    """Take the contrib instrumentor's wrapper off an auto-instrumented app (a no-op for
    others); :func:`add_spans` puts it back for spans only when tracing is on."""
    if not auto_instrumented(app):
        return
    if framework == "flask":
        _unwrap_flask(app)
    else:
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        FastAPIInstrumentor.uninstrument_app(app)
    _logger.info("otelmetrics: took the HTTP metrics of %r over from the contrib instrumentor", app)


def _unwrap_flask(app: Any) -> None:
    """``FlaskInstrumentor.uninstrument_app`` for apps its ``_InstrumentedFlask`` class made
    too (they keep no ``_teardown_request``, so that method fails on them)."""
    app.wsgi_app = app.__dict__.pop("_original_wsgi_app", app.wsgi_app)
    before = app.__dict__.pop("_before_request", None)
    teardown = app.__dict__.pop("_teardown_request", None)
    app.before_request_funcs[None] = [
        f for f in app.before_request_funcs.get(None, ()) if f is not before
    ]
    app.teardown_request_funcs[None] = [
        f
        for f in app.teardown_request_funcs.get(None, ())
        if f is not teardown and not f.__qualname__.startswith("_wrapped_teardown_request.")
    ]
    app._is_instrumented_by_opentelemetry = False


def add_spans(app: Any, framework: str, settings: Settings) -> None:
    """Apply the contrib instrumentor for spans only (no metrics) when tracing is on."""
    if settings.traces_exporter == "none" or settings.sdk_disabled or auto_instrumented(app):
        return
    no_metrics = NoOpMeterProvider()
    excluded = ",".join(settings.resolved_excluded_urls)
    if framework == "flask":
        from opentelemetry.instrumentation.flask import FlaskInstrumentor

        FlaskInstrumentor.instrument_app(  # type: ignore[no-untyped-call]
            app, meter_provider=no_metrics, excluded_urls=excluded
        )
    else:
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        FastAPIInstrumentor.instrument_app(app, meter_provider=no_metrics, excluded_urls=excluded)
    app._otelmetrics_spans = True


def remove_spans(app: Any, framework: str) -> None:
    if not getattr(app, "_otelmetrics_spans", False):
        return
    if framework == "flask":
        from opentelemetry.instrumentation.flask import FlaskInstrumentor

        FlaskInstrumentor.uninstrument_app(app)  # type: ignore[no-untyped-call]
    else:
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        FastAPIInstrumentor.uninstrument_app(app)
    app._otelmetrics_spans = False
