"""Settings: the one place that reads the environment.

A keyword argument wins, then the environment variable, then the YAML config file (for the
operations settings it may hold, :mod:`otelmetrics.config_file`), then the default::

    settings = Settings.from_env(service_name="orders-api")   # kwarg beats OTEL_SERVICE_NAME
    settings = Settings.from_env(environ={"OTEL_SERVICE_NAME": "x"})  # tests pass their own env

Standard ``OTEL_*`` variables keep their specified meaning; project-only settings use the
``OTELMETRICS_`` prefix. Every value is validated here, so a bad value fails at setup with the
variable name, the bad value and the fix in the message.

This module only re-exports. Inside, imports point one way::

    defaults  ->  env  ->  fields  ->  checks  ->  model (Settings)
    defaults  ->  file (the YAML reader)  ------------^

``defaults`` holds the choices and default mappings; ``env`` the variables, their parsers and
the kwarg-then-env precedence; ``fields`` every field with its default and variables;
``checks`` the validation steps; ``file`` the YAML config file; ``model`` :class:`Settings`.
"""

from otelmetrics.settings.defaults import (
    COMPRESSIONS,
    DEFAULT_RATE_LIMITS,
    DEFAULT_THRESHOLDS,
    EXPORTERS,
    HISTOGRAM_AGGREGATIONS,
    PROTOCOLS,
    SSE_EVENT_NAME,
    TEMPORALITIES,
    TRACE_EXPORTERS,
)
from otelmetrics.settings.model import Settings

__all__ = [
    "COMPRESSIONS",
    "DEFAULT_RATE_LIMITS",
    "DEFAULT_THRESHOLDS",
    "EXPORTERS",
    "HISTOGRAM_AGGREGATIONS",
    "PROTOCOLS",
    "SSE_EVENT_NAME",
    "Settings",
    "TEMPORALITIES",
    "TRACE_EXPORTERS",
]
