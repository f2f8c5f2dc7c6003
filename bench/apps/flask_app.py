"""Trivial Flask app, instrumented as ``$BENCH_VARIANT`` says; served by gunicorn::

    gunicorn -w 1 -k gthread --threads 4 flask_app:app

Variants: ``bare``; ``floor`` (``WsgiFloor`` of ``floor.py`` around ``app.wsgi_app``: two clock
reads and one locked add per request, what any timing middleware pays); ``otelmetrics``
(``otelmetrics.instrument(app)``, configured from the environment: in-app /metrics, plus OTLP
when OTEL_EXPORTER_OTLP_ENDPOINT is set); ``otel`` (FlaskInstrumentor + an SDK MeterProvider
exporting OTLP/HTTP); ``prom`` (prometheus-flask-exporter defaults). Under ``gunicorn -w 2``
(``MULTIWORKER_VARIANTS``) also ``prom-multiproc``: ``GunicornPrometheusMetrics(app)``,
prometheus-flask-exporter's multiprocess mode, with ``PROMETHEUS_MULTIPROC_DIR`` set and the
hooks of ``gunicorn_prom_multiproc.py``.
"""

from __future__ import annotations

import os

from flask import Flask

# The bare app, unmodified, run under a launcher (the benchmarks start it): ``launcher`` under
# ``otelmetrics-instrument``, ``distro`` under ``opentelemetry-instrument`` with the
# OpenTelemetry distro (see http_bench.py and inproc.py)
LAUNCHED_VARIANTS = ("launcher", "distro")
VARIANTS = ("bare", "floor", "otelmetrics", "otel", "prom", *LAUNCHED_VARIANTS)
MULTIWORKER_VARIANTS = ("bare", "otelmetrics", "prom-multiproc")


def create_app(variant: str) -> Flask:
    app = Flask(__name__)

    @app.route("/hello")
    def hello() -> str:
        return "hello"

    if variant == "floor":
        from floor import WsgiFloor

        app.wsgi_app = WsgiFloor(app.wsgi_app)  # type: ignore[method-assign]
    elif variant == "otelmetrics":
        import otelmetrics

        otelmetrics.instrument(app)
    elif variant == "otel":
        from opentelemetry.instrumentation.flask import FlaskInstrumentor
        from sdk_provider import make_meter_provider

        FlaskInstrumentor().instrument_app(  # type: ignore[no-untyped-call]
            app, meter_provider=make_meter_provider("flask-otel")
        )
    elif variant == "prom":
        from prometheus_flask_exporter import PrometheusMetrics  # type: ignore[import-untyped]

        PrometheusMetrics(app)
    elif variant == "prom-multiproc":
        from prometheus_flask_exporter.multiprocess import (  # type: ignore[import-untyped]
            GunicornPrometheusMetrics,
        )

        GunicornPrometheusMetrics(app)
    elif variant != "bare" and variant not in LAUNCHED_VARIANTS:
        raise SystemExit(
            f"unknown BENCH_VARIANT {variant!r}; use one of {VARIANTS + MULTIWORKER_VARIANTS}"
        )
    return app


app = create_app(os.environ.get("BENCH_VARIANT", "bare"))
