"""otelmetrics: production-grade OpenTelemetry metrics for Flask and FastAPI in one call.

Usage::

    import otelmetrics
    otelmetrics.configure(service_name="orders-api")   # optional: env alone works too
    otelmetrics.instrument(app)                        # Flask or FastAPI/Starlette

Framework entry points: :class:`otelmetrics.flask.OtelMetrics` (``init_app``) and
:func:`otelmetrics.fastapi.instrument_app` / ``OtelMetricsMiddleware``.
"""

from otelmetrics.instrument import (
    instrument,
    instrument_http_clients,
    uninstrument,
    uninstrument_http_clients,
    url_template,
)
from otelmetrics.pipeline import VERSION as __version__
from otelmetrics.pipeline import MetricsHandle, configure, observable_gauge
from otelmetrics.settings import Settings

__all__ = [
    "MetricsHandle",
    "Settings",
    "__version__",
    "configure",
    "instrument",
    "instrument_http_clients",
    "observable_gauge",
    "uninstrument",
    "uninstrument_http_clients",
    "url_template",
]
