"""Every setting: its name, type, default and environment variables, in one frozen dataclass.

:class:`SettingsFields` is the data; :class:`~otelmetrics.settings.Settings` adds reading and
validation on top of it, so the checks can be typed against these fields without importing the
class that calls them. Each field names its variable(s) in ``metadata["env"]`` (an
:class:`~otelmetrics.settings.env.EnvVar`); docs/configuration.md's table lists them all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from otelmetrics.settings.defaults import DEFAULT_RATE_LIMITS, DEFAULT_THRESHOLDS
from otelmetrics.settings.env import (
    env_var,
    lower,
    parse_bool,
    parse_int,
    parse_limits,
    parse_list,
    parse_millis,
    parse_pairs,
    parse_seconds,
    parse_thresholds,
)

__all__ = ["SettingsFields"]


@dataclass(frozen=True)
class SettingsFields:
    """The fields of :class:`~otelmetrics.settings.Settings`, grouped by what they configure."""

    # The pipeline: resource, exporters and readers, the Prometheus endpoint, tracing.
    sdk_disabled: bool = field(
        default=False, metadata=env_var("OTEL_SDK_DISABLED", parse=parse_bool)
    )
    service_name: str | None = field(default=None, metadata=env_var("OTEL_SERVICE_NAME"))
    service_version: str | None = field(
        default=None, metadata=env_var("OTELMETRICS_SERVICE_VERSION")
    )
    environment: str | None = field(default=None, metadata=env_var("OTELMETRICS_ENVIRONMENT"))
    resource_attributes: Mapping[str, str] = field(
        default_factory=dict, metadata=env_var("OTEL_RESOURCE_ATTRIBUTES", parse=parse_pairs)
    )
    exporters: tuple[str, ...] | None = field(
        default=None, metadata=env_var("OTEL_METRICS_EXPORTER", parse=parse_list)
    )
    otlp_endpoint: str | None = field(default=None, metadata=env_var("OTEL_EXPORTER_OTLP_ENDPOINT"))
    otlp_metrics_endpoint: str | None = field(
        default=None, metadata=env_var("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")
    )
    otlp_protocol: str = field(
        default="http/protobuf",
        metadata=env_var(
            "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL", parse=lower
        ),
    )
    otlp_headers: Mapping[str, str] = field(  # may hold an API key: kept out of repr()
        default_factory=dict,
        repr=False,
        metadata=env_var(
            "OTEL_EXPORTER_OTLP_METRICS_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS", parse=parse_pairs
        ),
    )
    otlp_timeout: float = field(
        default=10.0,
        metadata=env_var(
            "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT", parse=parse_millis
        ),
    )
    otlp_compression: str = field(
        default="none",
        metadata=env_var(
            "OTEL_EXPORTER_OTLP_METRICS_COMPRESSION", "OTEL_EXPORTER_OTLP_COMPRESSION", parse=lower
        ),
    )
    temporality: str = field(
        default="cumulative",
        metadata=env_var("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", parse=lower),
    )
    histogram_aggregation: str = field(
        default="explicit_bucket_histogram",
        metadata=env_var("OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION", parse=lower),
    )
    export_interval: float = field(
        default=60.0, metadata=env_var("OTEL_METRIC_EXPORT_INTERVAL", parse=parse_millis)
    )
    export_timeout: float = field(
        default=30.0, metadata=env_var("OTEL_METRIC_EXPORT_TIMEOUT", parse=parse_millis)
    )
    prometheus_host: str = field(
        default="localhost", metadata=env_var("OTEL_EXPORTER_PROMETHEUS_HOST")
    )
    prometheus_port: int | None = field(
        default=None, metadata=env_var("OTEL_EXPORTER_PROMETHEUS_PORT", parse=parse_int)
    )
    metrics_path: str = field(default="/metrics", metadata=env_var("OTELMETRICS_METRICS_PATH"))
    metrics_token: str | None = field(
        default=None, repr=False, metadata=env_var("OTELMETRICS_METRICS_TOKEN")
    )
    metrics_public: bool = field(
        default=False, metadata=env_var("OTELMETRICS_METRICS_PUBLIC", parse=parse_bool)
    )
    excluded_urls: tuple[str, ...] | None = field(
        default=None, metadata=env_var("OTELMETRICS_EXCLUDED_URLS", parse=parse_list)
    )
    cardinality_limit: int = field(
        default=2000, metadata=env_var("OTELMETRICS_CARDINALITY_LIMIT", parse=parse_int)
    )
    client_hosts: tuple[str, ...] | None = field(  # server.address allow-list of client calls
        default=None, metadata=env_var("OTELMETRICS_CLIENT_HOSTS", parse=parse_list)
    )
    process_metrics: bool = field(
        default=True, metadata=env_var("OTELMETRICS_PROCESS_METRICS", parse=parse_bool)
    )
    system_metrics: bool = field(
        default=False, metadata=env_var("OTELMETRICS_SYSTEM_METRICS", parse=parse_bool)
    )
    traces_exporter: str = field(
        default="none", metadata=env_var("OTEL_TRACES_EXPORTER", parse=lower)
    )
    shutdown_timeout: float = field(
        default=5.0, metadata=env_var("OTELMETRICS_SHUTDOWN_TIMEOUT", parse=parse_seconds)
    )
    # The in-process JSON API, its live page and rolling window.
    api_prefix: str = field(default="/api/metrics", metadata=env_var("OTELMETRICS_API_PREFIX"))
    dashboard_path: str = field(
        default="/api/metrics/dashboard", metadata=env_var("OTELMETRICS_DASHBOARD_PATH")
    )
    api_token: str | None = field(
        default=None, repr=False, metadata=env_var("OTELMETRICS_API_TOKEN")
    )
    api_admin_token: str | None = field(
        default=None, repr=False, metadata=env_var("OTELMETRICS_API_ADMIN_TOKEN")
    )
    api_public: bool = field(
        default=False, metadata=env_var("OTELMETRICS_API_PUBLIC", parse=parse_bool)
    )
    api_rate_limits: Mapping[str, int] = field(
        default_factory=lambda: dict(DEFAULT_RATE_LIMITS),
        metadata=env_var("OTELMETRICS_API_RATE_LIMITS", parse=parse_limits),
    )
    window_seconds: float = field(
        default=300.0, metadata=env_var("OTELMETRICS_WINDOW_SECONDS", parse=parse_seconds)
    )
    history_minutes: int = field(
        default=60, metadata=env_var("OTELMETRICS_HISTORY_MINUTES", parse=parse_int)
    )
    stats_dir: str | None = field(default=None, metadata=env_var("OTELMETRICS_STATS_DIR"))
    # Where a pre-fork server's workers keep the series /metrics merges (default: a private
    # directory per server under the system's temp directory).
    multiproc_dir: str | None = field(default=None, metadata=env_var("OTELMETRICS_MULTIPROC_DIR"))
    # Whether a pre-fork server's scrape process renders /metrics (else the answering worker).
    scrape_process: bool = field(
        default=True, metadata=env_var("OTELMETRICS_SCRAPE_PROCESS", parse=parse_bool)
    )
    sse_max_streams: int = field(
        default=16, metadata=env_var("OTELMETRICS_SSE_MAX_STREAMS", parse=parse_int)
    )
    sse_interval: float = field(
        default=5.0, metadata=env_var("OTELMETRICS_SSE_INTERVAL", parse=parse_seconds)
    )
    response_time_header: bool = field(
        default=False, metadata=env_var("OTELMETRICS_RESPONSE_TIME_HEADER", parse=parse_bool)
    )
    thresholds: Mapping[str, float] = field(
        default_factory=lambda: dict(DEFAULT_THRESHOLDS),
        metadata=env_var("OTELMETRICS_THRESHOLDS", parse=parse_thresholds),
    )
    # Domain metrics: users, trading.
    user_timeout_seconds: float = field(
        default=300.0, metadata=env_var("OTELMETRICS_USER_TIMEOUT_SECONDS", parse=parse_seconds)
    )
    max_users: int = field(
        default=10_000, metadata=env_var("OTELMETRICS_MAX_USERS", parse=parse_int)
    )
    strict: bool | None = field(
        default=None, metadata=env_var("OTELMETRICS_STRICT", parse=parse_bool)
    )
    currency: str = field(default="USD", metadata=env_var("OTELMETRICS_CURRENCY"))
    symbols: tuple[str, ...] | None = field(
        default=None, metadata=env_var("OTELMETRICS_SYMBOLS", parse=parse_list)
    )
    venues: tuple[str, ...] | None = field(
        default=None, metadata=env_var("OTELMETRICS_VENUES", parse=parse_list)
    )
    symbol_limit: int = field(
        default=100, metadata=env_var("OTELMETRICS_SYMBOL_LIMIT", parse=parse_int)
    )
    timezone: str = field(default="UTC", metadata=env_var("OTELMETRICS_TIMEZONE"))
    # Operations views: the YAML file, the CSV snapshot log, exchange feeds and circuit breakers.
    config_file: str | None = field(default=None, metadata=env_var("OTELMETRICS_CONFIG_FILE"))
    snapshot_path: str = field(
        default="logs/metrics.csv", metadata=env_var("OTELMETRICS_SNAPSHOT_PATH")
    )
    snapshot_max_bytes: int = field(
        default=10_485_760, metadata=env_var("OTELMETRICS_SNAPSHOT_MAX_BYTES", parse=parse_int)
    )
    snapshot_backups: int = field(
        default=5, metadata=env_var("OTELMETRICS_SNAPSHOT_BACKUPS", parse=parse_int)
    )
    snapshot_interval: float = field(
        default=0.0, metadata=env_var("OTELMETRICS_SNAPSHOT_INTERVAL", parse=parse_seconds)
    )
    feed_pairs: tuple[str, ...] | None = field(
        default=None, metadata=env_var("OTELMETRICS_FEED_PAIRS", parse=parse_list)
    )
    breaker_names: tuple[str, ...] | None = field(
        default=None, metadata=env_var("OTELMETRICS_BREAKER_NAMES", parse=parse_list)
    )
    sse_feed_event: str = field(
        default="kraken_metrics", metadata=env_var("OTELMETRICS_SSE_FEED_EVENT")
    )
    sse_feed_venue: str | None = field(default=None, metadata=env_var("OTELMETRICS_SSE_FEED_VENUE"))
