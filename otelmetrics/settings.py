"""Settings: the one place that reads the environment.

A keyword argument wins, then the environment variable, then the YAML config file (for the
operations settings it may hold, :mod:`otelmetrics.config_file`), then the default::

    settings = Settings.from_env(service_name="orders-api")   # kwarg beats OTEL_SERVICE_NAME
    settings = Settings.from_env(environ={"OTEL_SERVICE_NAME": "x"})  # tests pass their own env

Standard ``OTEL_*`` variables keep their specified meaning; project-only settings use the
``OTELMETRICS_`` prefix. Every value is validated here, so a bad value fails at setup with the
variable name, the bad value and the fix in the message.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["Settings"]

EXPORTERS = frozenset({"otlp", "prometheus", "console", "none"})
PROTOCOLS = frozenset({"grpc", "http/protobuf"})
TEMPORALITIES = frozenset({"cumulative", "delta", "lowmemory"})
HISTOGRAM_AGGREGATIONS = frozenset(
    {"explicit_bucket_histogram", "base2_exponential_bucket_histogram"}
)
COMPRESSIONS = frozenset({"none", "gzip", "deflate"})
TRACE_EXPORTERS = frozenset({"otlp", "console", "none"})

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off", ""})


def _parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError("expected true or false")


def _parse_list(raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _parse_pairs(raw: str) -> dict[str, str]:
    """Parse ``k1=v1,k2=v2`` (W3C baggage style, values percent-decoded)."""
    pairs = {}
    for item in _parse_list(raw):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{item!r} is not key=value")
        pairs[key.strip()] = unquote(value.strip())
    return pairs


# Requests per minute per client for each endpoint class of the JSON API.
DEFAULT_RATE_LIMITS = {"read": 100, "export": 10, "snapshot": 10, "reset": 5}
# Health and alert thresholds (seeds 001/002): above them a check fails. The operations alerts
# of seed 004: the error rate since start (%), errors and invalid-token attempts in 24 h, and
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
SSE_EVENT_NAME = re.compile(r"[A-Za-z0-9_.:-]+")


def _parse_limits(raw: str) -> dict[str, int]:
    limits = dict(DEFAULT_RATE_LIMITS)
    for key, value in _parse_pairs(raw).items():
        if key not in DEFAULT_RATE_LIMITS:
            raise ValueError(f"unknown endpoint class {key!r}; use {sorted(DEFAULT_RATE_LIMITS)}")
        limits[key] = int(value)
    return limits


def _parse_thresholds(raw: str) -> dict[str, float]:
    """The thresholds given (merged over the file's and the defaults in ``from_env``)."""
    thresholds = {}
    for key, value in _parse_pairs(raw).items():
        if key not in DEFAULT_THRESHOLDS:
            raise ValueError(f"unknown threshold {key!r}; use {sorted(DEFAULT_THRESHOLDS)}")
        thresholds[key] = float(value)
    return thresholds


def _parse_millis(raw: str) -> float:
    return float(raw) / 1000.0


def _lower(raw: str) -> str:
    return raw.strip().lower()


@dataclass(frozen=True)
class _Var:
    names: tuple[str, ...]  # first present wins: signal-specific before generic
    parse: Callable[[str], Any]


def _var(*names: str, parse: Callable[[str], Any] = str.strip) -> dict[str, Any]:
    return {"env": _Var(names, parse)}


@dataclass(frozen=True)
class Settings:
    """Validated configuration for :func:`otelmetrics.configure`.

    Each field names its environment variable(s) in ``metadata["env"]``; the README's
    configuration table lists them all.
    """

    sdk_disabled: bool = field(default=False, metadata=_var("OTEL_SDK_DISABLED", parse=_parse_bool))
    service_name: str | None = field(default=None, metadata=_var("OTEL_SERVICE_NAME"))
    service_version: str | None = field(default=None, metadata=_var("OTELMETRICS_SERVICE_VERSION"))
    environment: str | None = field(default=None, metadata=_var("OTELMETRICS_ENVIRONMENT"))
    resource_attributes: Mapping[str, str] = field(
        default_factory=dict, metadata=_var("OTEL_RESOURCE_ATTRIBUTES", parse=_parse_pairs)
    )
    exporters: tuple[str, ...] | None = field(
        default=None, metadata=_var("OTEL_METRICS_EXPORTER", parse=_parse_list)
    )
    otlp_endpoint: str | None = field(default=None, metadata=_var("OTEL_EXPORTER_OTLP_ENDPOINT"))
    otlp_metrics_endpoint: str | None = field(
        default=None, metadata=_var("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")
    )
    otlp_protocol: str = field(
        default="http/protobuf",
        metadata=_var(
            "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL", parse=_lower
        ),
    )
    otlp_headers: Mapping[str, str] = field(  # may hold an API key: kept out of repr()
        default_factory=dict,
        repr=False,
        metadata=_var(
            "OTEL_EXPORTER_OTLP_METRICS_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS", parse=_parse_pairs
        ),
    )
    otlp_timeout: float = field(
        default=10.0,
        metadata=_var(
            "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT", parse=_parse_millis
        ),
    )
    otlp_compression: str = field(
        default="none",
        metadata=_var(
            "OTEL_EXPORTER_OTLP_METRICS_COMPRESSION", "OTEL_EXPORTER_OTLP_COMPRESSION", parse=_lower
        ),
    )
    temporality: str = field(
        default="cumulative",
        metadata=_var("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", parse=_lower),
    )
    histogram_aggregation: str = field(
        default="explicit_bucket_histogram",
        metadata=_var("OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION", parse=_lower),
    )
    export_interval: float = field(
        default=60.0, metadata=_var("OTEL_METRIC_EXPORT_INTERVAL", parse=_parse_millis)
    )
    export_timeout: float = field(
        default=30.0, metadata=_var("OTEL_METRIC_EXPORT_TIMEOUT", parse=_parse_millis)
    )
    prometheus_host: str = field(
        default="localhost", metadata=_var("OTEL_EXPORTER_PROMETHEUS_HOST")
    )
    prometheus_port: int | None = field(
        default=None, metadata=_var("OTEL_EXPORTER_PROMETHEUS_PORT", parse=int)
    )
    metrics_path: str = field(default="/metrics", metadata=_var("OTELMETRICS_METRICS_PATH"))
    metrics_token: str | None = field(
        default=None, repr=False, metadata=_var("OTELMETRICS_METRICS_TOKEN")
    )
    metrics_public: bool = field(
        default=False, metadata=_var("OTELMETRICS_METRICS_PUBLIC", parse=_parse_bool)
    )
    excluded_urls: tuple[str, ...] | None = field(
        default=None, metadata=_var("OTELMETRICS_EXCLUDED_URLS", parse=_parse_list)
    )
    cardinality_limit: int = field(
        default=2000, metadata=_var("OTELMETRICS_CARDINALITY_LIMIT", parse=int)
    )
    process_metrics: bool = field(
        default=True, metadata=_var("OTELMETRICS_PROCESS_METRICS", parse=_parse_bool)
    )
    system_metrics: bool = field(
        default=False, metadata=_var("OTELMETRICS_SYSTEM_METRICS", parse=_parse_bool)
    )
    traces_exporter: str = field(
        default="none", metadata=_var("OTEL_TRACES_EXPORTER", parse=_lower)
    )
    shutdown_timeout: float = field(
        default=5.0, metadata=_var("OTELMETRICS_SHUTDOWN_TIMEOUT", parse=float)
    )
    # The in-process JSON API, its live page and rolling window.
    api_prefix: str = field(default="/api/metrics", metadata=_var("OTELMETRICS_API_PREFIX"))
    dashboard_path: str = field(
        default="/api/metrics/dashboard", metadata=_var("OTELMETRICS_DASHBOARD_PATH")
    )
    api_token: str | None = field(default=None, repr=False, metadata=_var("OTELMETRICS_API_TOKEN"))
    api_admin_token: str | None = field(
        default=None, repr=False, metadata=_var("OTELMETRICS_API_ADMIN_TOKEN")
    )
    api_public: bool = field(
        default=False, metadata=_var("OTELMETRICS_API_PUBLIC", parse=_parse_bool)
    )
    api_rate_limits: Mapping[str, int] = field(
        default_factory=lambda: dict(DEFAULT_RATE_LIMITS),
        metadata=_var("OTELMETRICS_API_RATE_LIMITS", parse=_parse_limits),
    )
    window_seconds: float = field(
        default=300.0, metadata=_var("OTELMETRICS_WINDOW_SECONDS", parse=float)
    )
    history_minutes: int = field(
        default=60, metadata=_var("OTELMETRICS_HISTORY_MINUTES", parse=int)
    )
    stats_dir: str | None = field(default=None, metadata=_var("OTELMETRICS_STATS_DIR"))
    sse_max_streams: int = field(
        default=16, metadata=_var("OTELMETRICS_SSE_MAX_STREAMS", parse=int)
    )
    sse_interval: float = field(default=5.0, metadata=_var("OTELMETRICS_SSE_INTERVAL", parse=float))
    response_time_header: bool = field(
        default=False, metadata=_var("OTELMETRICS_RESPONSE_TIME_HEADER", parse=_parse_bool)
    )
    thresholds: Mapping[str, float] = field(
        default_factory=lambda: dict(DEFAULT_THRESHOLDS),
        metadata=_var("OTELMETRICS_THRESHOLDS", parse=_parse_thresholds),
    )
    # Domain metrics: users, trading.
    user_timeout_seconds: float = field(
        default=300.0, metadata=_var("OTELMETRICS_USER_TIMEOUT_SECONDS", parse=float)
    )
    max_users: int = field(default=10_000, metadata=_var("OTELMETRICS_MAX_USERS", parse=int))
    strict: bool | None = field(
        default=None, metadata=_var("OTELMETRICS_STRICT", parse=_parse_bool)
    )
    currency: str = field(default="USD", metadata=_var("OTELMETRICS_CURRENCY"))
    symbols: tuple[str, ...] | None = field(
        default=None, metadata=_var("OTELMETRICS_SYMBOLS", parse=_parse_list)
    )
    venues: tuple[str, ...] | None = field(
        default=None, metadata=_var("OTELMETRICS_VENUES", parse=_parse_list)
    )
    symbol_limit: int = field(default=100, metadata=_var("OTELMETRICS_SYMBOL_LIMIT", parse=int))
    timezone: str = field(default="UTC", metadata=_var("OTELMETRICS_TIMEZONE"))
    # Operations views (seeds 002-004): the YAML file, the CSV snapshot log, feeds and breakers.
    config_file: str | None = field(default=None, metadata=_var("OTELMETRICS_CONFIG_FILE"))
    snapshot_path: str = field(
        default="logs/metrics.csv", metadata=_var("OTELMETRICS_SNAPSHOT_PATH")
    )
    snapshot_max_bytes: int = field(
        default=10_485_760, metadata=_var("OTELMETRICS_SNAPSHOT_MAX_BYTES", parse=int)
    )
    snapshot_backups: int = field(
        default=5, metadata=_var("OTELMETRICS_SNAPSHOT_BACKUPS", parse=int)
    )
    snapshot_interval: float = field(
        default=0.0, metadata=_var("OTELMETRICS_SNAPSHOT_INTERVAL", parse=float)
    )
    feed_pairs: tuple[str, ...] | None = field(
        default=None, metadata=_var("OTELMETRICS_FEED_PAIRS", parse=_parse_list)
    )
    breaker_names: tuple[str, ...] | None = field(
        default=None, metadata=_var("OTELMETRICS_BREAKER_NAMES", parse=_parse_list)
    )
    sse_feed_event: str = field(
        default="kraken_metrics", metadata=_var("OTELMETRICS_SSE_FEED_EVENT")
    )
    sse_feed_venue: str | None = field(default=None, metadata=_var("OTELMETRICS_SSE_FEED_VENUE"))

    def __post_init__(self) -> None:
        # A partial mapping (a kwarg, or Settings(...) built directly) keeps the other defaults:
        # an endpoint class left out must not lose its rate limit.
        for name, defaults in _MAPPINGS:
            object.__setattr__(self, name, {**defaults, **getattr(self, name)})

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from keyword overrides, then ``environ``, then the file, then defaults.

        The YAML file (``config_file``, from a kwarg or ``OTELMETRICS_CONFIG_FILE``) supplies
        the operations settings it holds (see :mod:`otelmetrics.config_file`); ``thresholds``
        merge key by key: default, then the file's, then the env's or the kwarg's.

        Args:
            environ: The environment to read; ``os.environ`` when omitted.
            **overrides: Field values that win over the environment. ``None`` means "not given".

        Raises:
            TypeError: An override names no setting.
            ValueError: A value is invalid; the message names the variable (or the file and
                line) and the fix.
        """
        env = os.environ if environ is None else environ
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(overrides) - set(known))
        if unknown:
            raise TypeError(f"unknown otelmetrics setting(s) {unknown}; valid: {sorted(known)}")
        values = {}
        for name, spec in known.items():
            if overrides.get(name) is not None:
                values[name] = overrides[name]
            elif (parsed := _from_environ(spec.metadata["env"], env)) is not None:
                values[name] = parsed
        from_file = _load_config_file(values.get("config_file"))
        for name, value in from_file.items():
            values.setdefault(name, value)
        values["thresholds"] = {
            **DEFAULT_THRESHOLDS,
            **from_file.get("thresholds", {}),
            **values.get("thresholds", {}),
        }
        settings = cls(**values)
        settings.validate()
        return settings

    @property
    def resolved_exporters(self) -> tuple[str, ...]:
        """The exporters to build: explicit ones, else the embedded default.

        With nothing configured only the in-app Prometheus endpoint runs, so nothing points at
        a service that is not there; an OTLP endpoint turns OTLP export on as well.
        """
        if self.sdk_disabled:
            return ()
        if self.exporters is not None:
            return tuple(e for e in self.exporters if e != "none")
        wants_otlp = self.otlp_endpoint or self.otlp_metrics_endpoint
        return ("prometheus", "otlp") if wants_otlp else ("prometheus",)

    @property
    def resolved_excluded_urls(self) -> tuple[str, ...]:
        """Paths kept out of the HTTP metrics: given ones, else our own endpoints."""
        if self.excluded_urls is not None:
            return self.excluded_urls
        return (self.metrics_path, self.api_prefix + "/*", self.dashboard_path)

    def validate(self) -> None:
        """Raise ``ValueError`` naming the setting and the fix for the first bad value."""
        for name, allowed in _CHOICES.items():
            values = getattr(self, name)
            if values is None:
                continue
            for value in values if isinstance(values, tuple) else (values,):
                if value not in allowed:
                    raise _invalid(name, value, f"use one of {sorted(allowed)}")
        for name in ("export_interval", "export_timeout", "otlp_timeout", "shutdown_timeout"):
            if not getattr(self, name) > 0:
                raise _invalid(name, getattr(self, name), "use a positive number")
        if self.cardinality_limit < 2:
            raise _invalid("cardinality_limit", self.cardinality_limit, "use 2 or more")
        if self.prometheus_port is not None and not 0 <= self.prometheus_port <= 65535:
            raise _invalid("prometheus_port", self.prometheus_port, "use a port 0..65535")
        for name in ("metrics_path", "api_prefix", "dashboard_path"):
            if not getattr(self, name).startswith("/"):
                raise _invalid(name, getattr(self, name), "start the path with '/'")
        self._validate_domain()
        for name in ("otlp_endpoint", "otlp_metrics_endpoint"):
            if getattr(self, name) is not None:
                _check_endpoint(name, getattr(self, name))

    def _validate_domain(self) -> None:
        for name in ("window_seconds", "sse_interval", "user_timeout_seconds"):
            if not getattr(self, name) > 0:
                raise _invalid(name, getattr(self, name), "use a positive number of seconds")
        for name in ("history_minutes", "max_users", "symbol_limit", "sse_max_streams"):
            if getattr(self, name) < 1:
                raise _invalid(name, getattr(self, name), "use 1 or more")
        for name, defaults in _MAPPINGS:
            unknown = sorted(set(getattr(self, name)) - set(defaults))
            if unknown:
                raise _invalid(name, unknown, f"use keys of {sorted(defaults)}")
        if any(value < 1 for value in self.api_rate_limits.values()):
            raise _invalid(
                "api_rate_limits", dict(self.api_rate_limits), "use 1 or more per minute"
            )
        try:
            ZoneInfo(self.timezone)
        except (ValueError, ZoneInfoNotFoundError):
            raise _invalid(
                "timezone", self.timezone, "use an IANA name such as Europe/London"
            ) from None
        self._validate_operations()

    def _validate_operations(self) -> None:
        for key, value in self.thresholds.items():
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise _invalid("thresholds", {key: value}, "use a finite number >= 0")
        for name in ("snapshot_max_bytes", "snapshot_backups", "snapshot_interval"):
            if not getattr(self, name) >= 0:
                raise _invalid(name, getattr(self, name), "use 0 or more (0 turns it off)")
        if not self.snapshot_path.strip():
            raise _invalid("snapshot_path", self.snapshot_path, "give a file path")
        for name in ("feed_pairs", "breaker_names"):
            names = getattr(self, name) or ()
            if not all(isinstance(item, str) and item.strip() for item in names):
                raise _invalid(name, names, "give non-empty names, e.g. BTC-USD,ETH-USD")
        if not SSE_EVENT_NAME.fullmatch(self.sse_feed_event):
            fix = "use letters, digits and _ . : - only, e.g. kraken_metrics"
            raise _invalid("sse_feed_event", self.sse_feed_event, fix)

    @property
    def resolved_strict(self) -> bool:
        """Reject invalid domain calls with an error (development) or log and drop them.

        Unset, it follows the environment: strict in development, test and local.
        """
        if self.strict is not None:
            return self.strict
        return (self.environment or "").lower() in {"development", "dev", "local", "test"}


_MAPPINGS = (("thresholds", DEFAULT_THRESHOLDS), ("api_rate_limits", DEFAULT_RATE_LIMITS))
_CHOICES: dict[str, frozenset[str]] = {
    "exporters": EXPORTERS,
    "otlp_protocol": PROTOCOLS,
    "otlp_compression": COMPRESSIONS,
    "temporality": TEMPORALITIES,
    "histogram_aggregation": HISTOGRAM_AGGREGATIONS,
    "traces_exporter": TRACE_EXPORTERS,
}


def _from_environ(var: _Var, env: Mapping[str, str]) -> Any:
    for name in var.names:
        raw = env.get(name)
        if raw is None or not raw.strip():
            continue
        try:
            return var.parse(raw)
        except ValueError as exc:
            raise ValueError(f"{name}={raw!r} is invalid: {exc}") from None
    return None


def _load_config_file(path: str | None) -> dict[str, Any]:
    """The settings the YAML file gives (none without a file)."""
    if not path:
        return {}
    from otelmetrics.config_file import load

    return load(path)


def _invalid(name: str, value: object, fix: str) -> ValueError:
    spec = next(f for f in fields(Settings) if f.name == name)
    env_names = " or ".join(spec.metadata["env"].names)
    return ValueError(f"otelmetrics setting {name} (env {env_names}) = {value!r} is invalid: {fix}")


def _check_endpoint(name: str, endpoint: str) -> None:
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise _invalid(name, endpoint, "give a URL such as http://localhost:4318 (scheme and host)")
