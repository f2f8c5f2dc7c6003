"""Trivial FastAPI app, instrumented as ``$BENCH_VARIANT`` says; served by uvicorn::

    uvicorn fastapi_app:app --loop uvloop --http httptools --no-access-log

Variants: ``bare``; ``floor`` (``AsgiFloor`` of ``floor.py``, the outermost user middleware:
two clock reads and one locked add per request, what any timing middleware pays);
``otelmetrics`` (``otelmetrics.instrument(app)``, configured from the environment: in-app
/metrics, plus OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set);
``otelmetrics-native-off`` (the same on ``FastAPI(telemetry={"metrics": False})``: FastAPI
0.165 records its own ``http.server.request.duration`` through the global MeterProvider
once one is configured, which otelmetrics does); ``otel`` (FastAPIInstrumentor + an SDK
MeterProvider exporting OTLP/HTTP); ``prom`` (prometheus-fastapi-instrumentator defaults).
Under ``uvicorn --workers 2`` (``MULTIWORKER_VARIANTS``) also ``prom-multiproc``: the same
instrumentator with ``PROMETHEUS_MULTIPROC_DIR`` set, its multiprocess mode (the /metrics
handler adds up every worker's files with prometheus_client's ``MultiProcessCollector``).
"""

from __future__ import annotations

import inspect
import os
from typing import Any

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

NATIVE_TELEMETRY = "telemetry" in inspect.signature(FastAPI).parameters
# The bare app, unmodified, run under a launcher (the benchmarks start it): ``launcher`` under
# ``otelmetrics-instrument``, ``distro`` under ``opentelemetry-instrument`` with the
# OpenTelemetry distro (see http_bench.py and inproc.py)
LAUNCHED_VARIANTS = ("launcher", "distro")
VARIANTS = (
    ("bare", "floor", "otelmetrics", "otel", "prom")
    + (("otelmetrics-native-off",) if NATIVE_TELEMETRY else ())
    + LAUNCHED_VARIANTS
)
MULTIWORKER_VARIANTS = ("bare", "otelmetrics", "prom-multiproc")


def create_app(variant: str) -> FastAPI:
    options: dict[str, Any] = {}
    if variant == "otelmetrics-native-off":
        options["telemetry"] = {"metrics": False}
    app = FastAPI(**options)

    @app.get("/hello", response_class=PlainTextResponse)
    async def hello() -> PlainTextResponse:
        return PlainTextResponse("hello")

    if variant not in VARIANTS + MULTIWORKER_VARIANTS:
        raise SystemExit(
            f"unknown BENCH_VARIANT {variant!r}; use one of {VARIANTS + MULTIWORKER_VARIANTS}"
        )
    if variant == "floor":
        from floor import AsgiFloor
        from starlette.middleware import Middleware

        app.user_middleware.insert(0, Middleware(AsgiFloor))
    elif variant.startswith("otelmetrics"):
        import otelmetrics

        otelmetrics.instrument(app)
    elif variant == "otel":
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
        from sdk_provider import make_meter_provider

        FastAPIInstrumentor.instrument_app(app, meter_provider=make_meter_provider("fastapi-otel"))
    elif variant in ("prom", "prom-multiproc"):  # multiproc: PROMETHEUS_MULTIPROC_DIR is set
        from prometheus_fastapi_instrumentator import Instrumentator

        Instrumentator().instrument(app).expose(app)
    return app


app = create_app(os.environ.get("BENCH_VARIANT", "bare"))
