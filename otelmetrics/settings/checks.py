"""Validation: each step checks one concern and raises ``ValueError`` for the first bad value.

The message names the setting, the argument and environment variable(s) that set it, the bad
value and the fix::

    otelmetrics setting cardinality_limit (argument cardinality_limit= or env
    OTELMETRICS_CARDINALITY_LIMIT) = 1 is invalid: use 2 or more

:func:`check_settings` runs the steps in order; :meth:`Settings.validate
<otelmetrics.settings.Settings.validate>` calls it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import fields
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from otelmetrics.settings.defaults import (
    COMPRESSIONS,
    EXPORTERS,
    HISTOGRAM_AGGREGATIONS,
    MAPPING_FIELDS,
    PROTOCOLS,
    SSE_EVENT_NAME,
    TEMPORALITIES,
    TRACE_EXPORTERS,
)
from otelmetrics.settings.fields import SettingsFields

__all__ = ["check_settings", "invalid"]

_CHOICES: dict[str, frozenset[str]] = {
    "exporters": EXPORTERS,
    "otlp_protocol": PROTOCOLS,
    "otlp_compression": COMPRESSIONS,
    "temporality": TEMPORALITIES,
    "histogram_aggregation": HISTOGRAM_AGGREGATIONS,
    "traces_exporter": TRACE_EXPORTERS,
}
_ENV_NAMES = {spec.name: " or ".join(spec.metadata["env"].names) for spec in fields(SettingsFields)}


def invalid(name: str, value: object, fix: str) -> ValueError:
    """The error for setting ``name``: its argument and variable(s), the bad value and the fix
    (a value may come from either, so both are named)."""
    where = f"argument {name}= or env {_ENV_NAMES[name]}"
    return ValueError(f"otelmetrics setting {name} ({where}) = {value!r} is invalid: {fix}")


def check_settings(settings: SettingsFields) -> None:
    """Raise ``ValueError`` naming the setting and the fix for the first bad value."""
    for check in _STEPS:
        check(settings)


def _check_choices(settings: SettingsFields) -> None:
    for name, allowed in _CHOICES.items():
        values = getattr(settings, name)
        if values is None:
            continue
        for value in values if isinstance(values, tuple) else (values,):
            if not isinstance(value, str) or value not in allowed:
                raise invalid(name, value, f"use one of {sorted(allowed)}")


def _check_pipeline_numbers(settings: SettingsFields) -> None:
    for name in ("export_interval", "export_timeout", "otlp_timeout", "shutdown_timeout"):
        if not getattr(settings, name) > 0:
            raise invalid(name, getattr(settings, name), "use a positive number")
    if settings.cardinality_limit < 2:
        raise invalid("cardinality_limit", settings.cardinality_limit, "use 2 or more")
    port = settings.prometheus_port
    if port is not None and not 0 <= port <= 65535:
        raise invalid("prometheus_port", port, "use a port 0..65535")


def _check_paths(settings: SettingsFields) -> None:
    for name in ("metrics_path", "api_prefix", "dashboard_path"):
        if not getattr(settings, name).startswith("/"):
            raise invalid(name, getattr(settings, name), "start the path with '/'")


def _check_domain_numbers(settings: SettingsFields) -> None:
    for name in ("window_seconds", "sse_interval", "user_timeout_seconds"):
        if not getattr(settings, name) > 0:
            raise invalid(name, getattr(settings, name), "use a positive number of seconds")
    for name in ("history_minutes", "max_users", "symbol_limit", "sse_max_streams"):
        if getattr(settings, name) < 1:
            raise invalid(name, getattr(settings, name), "use 1 or more")


def _check_mappings(settings: SettingsFields) -> None:
    for name, defaults in MAPPING_FIELDS:
        unknown = sorted(set(getattr(settings, name)) - set(defaults))
        if unknown:
            raise invalid(name, unknown, f"use keys of {sorted(defaults)}")
    if any(value < 1 for value in settings.api_rate_limits.values()):
        raise invalid("api_rate_limits", dict(settings.api_rate_limits), "use 1 or more per minute")


def _check_timezone(settings: SettingsFields) -> None:
    try:
        ZoneInfo(settings.timezone)
    except (ValueError, ZoneInfoNotFoundError):
        fix = "use an IANA name such as Europe/London"
        raise invalid("timezone", settings.timezone, fix) from None


def _check_thresholds(settings: SettingsFields) -> None:
    for key, value in settings.thresholds.items():
        if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
            raise invalid("thresholds", {key: value}, "use a finite number >= 0")


def _check_snapshots(settings: SettingsFields) -> None:
    for name in ("snapshot_max_bytes", "snapshot_backups", "snapshot_interval"):
        if not getattr(settings, name) >= 0:
            raise invalid(name, getattr(settings, name), "use 0 or more (0 turns it off)")
    if not settings.snapshot_path.strip():
        raise invalid("snapshot_path", settings.snapshot_path, "give a file path")


def _check_feeds(settings: SettingsFields) -> None:
    for name in ("feed_pairs", "breaker_names"):
        names = getattr(settings, name) or ()
        if not all(isinstance(item, str) and item.strip() for item in names):
            raise invalid(name, names, "give non-empty names, e.g. BTC-USD,ETH-USD")
    if not SSE_EVENT_NAME.fullmatch(settings.sse_feed_event):
        fix = "use letters, digits and _ . : - only, e.g. kraken_metrics"
        raise invalid("sse_feed_event", settings.sse_feed_event, fix)


def _check_endpoints(settings: SettingsFields) -> None:
    for name in ("otlp_endpoint", "otlp_metrics_endpoint"):
        endpoint = getattr(settings, name)
        if endpoint is None:
            continue
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            fix = "give a URL such as http://localhost:4318 (scheme and host)"
            raise invalid(name, endpoint, fix)


# Paths of Prometheus's own OTLP receiver, which rejects delta sums and histograms.
_PROMETHEUS_OTLP_PATHS = ("/api/v1/otlp", "/api/v1/otlp/v1/metrics")


def _check_temporality_target(settings: SettingsFields) -> None:
    """Delta (or lowmemory) straight into Prometheus would lose every counter and histogram."""
    if settings.temporality == "cumulative":
        return
    if settings.exporters is not None and "otlp" not in settings.exporters:
        return
    for name in ("otlp_metrics_endpoint", "otlp_endpoint"):
        endpoint = getattr(settings, name)
        if endpoint is not None and urlsplit(endpoint).path.rstrip("/") in _PROMETHEUS_OTLP_PATHS:
            fix = (
                f"{name} {endpoint!r} is Prometheus's OTLP receiver, which rejects delta sums "
                "and histograms: use cumulative, or export through an OpenTelemetry Collector "
                "with the delta_to_cumulative processor (collector/otelcol-config.yaml)"
            )
            raise invalid("temporality", settings.temporality, fix)


# The order in which a bad value is reported when several are bad.
_STEPS: tuple[Callable[[SettingsFields], None], ...] = (
    _check_choices,
    _check_pipeline_numbers,
    _check_paths,
    _check_domain_numbers,
    _check_mappings,
    _check_timezone,
    _check_thresholds,
    _check_snapshots,
    _check_feeds,
    _check_endpoints,
    _check_temporality_target,
)
