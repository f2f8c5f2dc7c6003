"""The allowed choices and the default mappings that settings and the config file share.

This module imports nothing from the package: the environment reader, the validation and the
YAML file reader all build on it, so their imports point one way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = [
    "COMPRESSIONS",
    "DEFAULT_RATE_LIMITS",
    "DEFAULT_THRESHOLDS",
    "EXPORTERS",
    "HISTOGRAM_AGGREGATIONS",
    "MAPPING_FIELDS",
    "PROTOCOLS",
    "SSE_EVENT_NAME",
    "TEMPORALITIES",
    "TRACE_EXPORTERS",
]

EXPORTERS = frozenset({"otlp", "prometheus", "console", "none"})
PROTOCOLS = frozenset({"grpc", "http/protobuf"})
TEMPORALITIES = frozenset({"cumulative", "delta", "lowmemory"})
HISTOGRAM_AGGREGATIONS = frozenset(
    {"explicit_bucket_histogram", "base2_exponential_bucket_histogram"}
)
COMPRESSIONS = frozenset({"none", "gzip", "deflate"})
TRACE_EXPORTERS = frozenset({"otlp", "console", "none"})

# Requests per minute per client for each endpoint class of the JSON API. ``denied`` is the
# budget of the requests refused for their credentials (401, 403): a client without a valid
# token spends its own, never the read budget of the clients behind the same address.
DEFAULT_RATE_LIMITS = {"read": 100, "export": 10, "snapshot": 10, "reset": 5, "denied": 100}
# Health and alert thresholds: above them a check fails. The first four are the service
# health checks (error rate, p99 latency, memory, CPU); the rest are the MT5-style operations
# alerts: the error rate since start (%), errors and invalid-token attempts in 24 h, and
# failed orders today.
DEFAULT_THRESHOLDS = {
    "error_rate_pct": 5.0,
    "latency_p99_ms": 1000.0,
    "memory_usage_pct": 80.0,
    "cpu_usage_pct": 80.0,
    "total_error_rate_pct": 10.0,
    "errors_24h": 100.0,
    "invalid_tokens_24h": 10.0,
    "failed_orders_today": 10.0,
}
# An SSE event name: safe on an `event:` line (no spaces, no newlines).
SSE_EVENT_NAME = re.compile(r"[A-Za-z0-9_.:-]+")
# The mapping settings and their defaults: a partial mapping (a kwarg, or ``Settings(...)``
# built directly) keeps the other keys' defaults, and an unknown key is an error.
MAPPING_FIELDS: tuple[tuple[str, Mapping[str, float]], ...] = (
    ("thresholds", DEFAULT_THRESHOLDS),
    ("api_rate_limits", DEFAULT_RATE_LIMITS),
)
