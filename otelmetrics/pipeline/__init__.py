"""The composition root: the handle, configure(), readers, the Prometheus endpoint, tracing.

The public faces (``otelmetrics``, ``otelmetrics.flask``, ``otelmetrics.fastapi``, …) import
from here; nothing below the pipeline does.
"""

from otelmetrics.pipeline.default import (
    app_settings,
    configure,
    default_handle,
    observable_gauge,
    settings_from_env,
    wanted_by_an_app,
)
from otelmetrics.pipeline.handle import MetricsHandle
from otelmetrics.pipeline.resource import VERSION

__all__ = [
    "VERSION",
    "MetricsHandle",
    "app_settings",
    "configure",
    "default_handle",
    "observable_gauge",
    "settings_from_env",
    "wanted_by_an_app",
]
