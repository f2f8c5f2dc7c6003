"""Prometheus names of the series and labels the rules and dashboards read.

Every rule module (tools/rules/) and every dashboard module (tools/dashboards/) takes its metric
and label names from here, so a name is written once::

    from tools import names

    f"sum by ({names.ROUTE}) (rate({names.HTTP_REQUESTS}[5m]))"

Apps push OTLP through the collector into Prometheus's OTLP receiver with
``translation_strategy: UnderscoreEscapingWithSuffixes`` (prometheus/prometheus.yml): dots
become underscores, counters get ``_total``, unit ``s`` adds ``_seconds``, ``By`` adds
``_bytes``, unit ``1`` on a gauge adds ``_ratio``, ``{...}`` units add nothing; a histogram
becomes ``_bucket``, ``_count`` and ``_sum`` series. Attributes become labels the same way
(``http.route`` -> ``http_route``), and the resource attributes service.name,
service.instance.id and deployment.environment.name are promoted to labels.
tests/unit/test_metric_names.py derives each name of an otelmetrics instrument from the
package's own definitions and compares it with this module; tests/e2e/test_dashboards_live.py
checks the series on live data.

The collector's own metrics are scraped from its Prometheus endpoint, which serves them
without unit or type suffixes (collector/otelcol-config.yaml, ``service.telemetry``).
"""

from __future__ import annotations

# --- Labels ------------------------------------------------------------------------------------

# Who sent a series: promoted resource attributes. SERVICE_NAME + ENV is the identity every
# roll-up keeps.
ENV = "deployment_environment_name"
SERVICE_NAME = "service_name"
INSTANCE_ID = "service_instance_id"

# What Prometheus itself sets: the target (for OTLP, job = service name and instance = instance
# id), histogram bucket bounds, and the labels of its ALERTS series.
JOB = "job"
INSTANCE = "instance"
LE = "le"
ALERTNAME = "alertname"
ALERTSTATE = "alertstate"

# The label every alert rule sets and Alertmanager routes on.
SEVERITY = "severity"

# Attributes of our instruments.
ROUTE = "http_route"
STATUS = "http_response_status_code"
SERVER_ADDRESS = "server_address"
ERROR_TYPE = "error_type"
CPU_MODE = "cpu_mode"
WS_ROUTE = "websocket_route"
WS_EVENT = "websocket_event"
SYMBOL = "trading_symbol"
SIDE = "trading_side"
ORDER_TYPE = "trading_order_type"
ORDER_STATUS = "trading_order_status"
OUTCOME = "trading_outcome"
VENUE = "trading_venue"
BREAKER = "circuit_breaker_name"
EXCHANGE = "exchange_venue"
PAIR = "exchange_pair"
EXCHANGE_EVENT = "exchange_event_type"
SECURITY_EVENT = "otelmetrics_security_event"
ERROR_SCOPE = "otelmetrics_error_scope"

# The collector's own labels.
RECEIVER = "receiver"
TRANSPORT = "transport"
EXPORTER = "exporter"
PROCESSOR = "processor"

# --- Our instruments ---------------------------------------------------------------------------

# HTTP server (otelmetrics/instruments/http.py).
HTTP_DURATION = "http_server_request_duration_seconds"
HTTP_REQUESTS = f"{HTTP_DURATION}_count"
HTTP_BUCKET = f"{HTTP_DURATION}_bucket"
HTTP_ACTIVE = "http_server_active_requests"

# HTTP client: outgoing calls (otelmetrics/instruments/http_client.py).
HTTP_CLIENT_DURATION = "http_client_request_duration_seconds"
HTTP_CLIENT_REQUESTS = f"{HTTP_CLIENT_DURATION}_count"
HTTP_CLIENT_BUCKET = f"{HTTP_CLIENT_DURATION}_bucket"
HTTP_CLIENT_ACTIVE = "http_client_active_requests"

# Process (otelmetrics/instruments/process.py).
PROCESS_CPU_UTILIZATION = "process_cpu_utilization_ratio"
PROCESS_CPU_TIME = "process_cpu_time_seconds_total"
PROCESS_MEMORY_UTILIZATION = "process_memory_utilization_ratio"
PROCESS_MEMORY = "process_memory_usage_bytes"
PROCESS_THREADS = "process_thread_count"
PROCESS_FDS = "process_unix_file_descriptor_count"
PROCESS_UPTIME = "process_uptime_seconds"

# Websockets and users (otelmetrics/instruments/websockets.py, otelmetrics/instruments/users.py).
WS_ACTIVE = "websocket_server_active_connections"
WS_DURATION = "websocket_server_connection_duration_seconds"
WS_RECEIVED = "websocket_server_messages_received_total"
WS_SENT = "websocket_server_messages_sent_total"
USERS_ACTIVE = "app_users_active"

# Trading (otelmetrics/instruments/trading/).
ORDERS = "trading_orders_total"
ORDER_LATENCY = "trading_order_latency_seconds"
TRADE_PNL = "trading_trade_pnl"
TRADES = "trading_trades_total"
POSITION_DURATION = "trading_position_duration_seconds"
PNL_REALIZED = "trading_pnl_realized"
PNL_TODAY = "trading_pnl_today"
PNL_UNREALIZED = "trading_pnl_unrealized"
EXPOSURE = "trading_exposure"
POSITIONS_OPEN = "trading_positions_open"
WIN_RATE = "trading_win_rate_ratio"
BREAKER_STATE = "circuit_breaker_state"
BREAKER_TRIPS = "circuit_breaker_trips_total"
FEED_LATENCY = "exchange_feed_latency_seconds"
FEED_RECONNECTS = "exchange_feed_reconnects_total"
FEED_STATUS = "exchange_feed_connection_status"
FEED_EVENTS = "exchange_feed_events_total"
FEED_TRADES = "exchange_feed_trades_total"
ENGINE_CYCLE = "trading_engine_cycle_duration_seconds"
SCANNER = "trading_scanner_duration_seconds"
MARKET_DATA_DELAY = "trading_market_data_delay_seconds"
BROKER_STATUS = "trading_broker_connection_status"
BROKER_FAILURES = "trading_broker_connection_failures_total"

# The JSON API's errors and security events (otelmetrics/instruments/events.py).
API_SECURITY_EVENTS = "otelmetrics_api_security_events_total"
APP_ERRORS = "app_errors_total"

# --- Series that are not our instruments' ------------------------------------------------------

# Prometheus's own: one target_info per exporting instance (resource attributes), `up` per
# scraped target, and ALERTS for every pending or firing alert.
TARGET_INFO = "target_info"
UP = "up"
ALERTS = "ALERTS"

# The collector's own metrics, in the job prometheus/prometheus.yml scrapes them in.
COLLECTOR_JOB = "otel-collector"
OTELCOL_ACCEPTED = "otelcol_receiver_accepted_metric_points"
OTELCOL_REFUSED = "otelcol_receiver_refused_metric_points"
OTELCOL_SENT = "otelcol_exporter_sent_metric_points"
OTELCOL_SEND_FAILED = "otelcol_exporter_send_failed_metric_points"
OTELCOL_ENQUEUE_FAILED = "otelcol_exporter_enqueue_failed_metric_points"
OTELCOL_QUEUE_SIZE = "otelcol_exporter_queue_size"
OTELCOL_QUEUE_CAPACITY = "otelcol_exporter_queue_capacity"
OTELCOL_LIMITER_ACCEPTED = "otelcol_processor_memory_limiter_accepted_metric_points"
OTELCOL_LIMITER_REFUSED = "otelcol_processor_memory_limiter_refused_metric_points"
OTELCOL_RSS = "otelcol_process_memory_rss"
OTELCOL_HEAP = "otelcol_process_runtime_heap_alloc_bytes"

# Recording rules (tools/rules/) that the dashboards read too. The SLI ratios end in
# `:ratio_rate<window>`.
SLO_ERRORS = "service:slo_http_errors"
SLO_SLOW = "service:slo_http_slow"
WIN_RATIO_1H = "service:trading_win:ratio_increase1h"

# The crypto-ai-bot compatibility rules (tools/rules/trading.py): the names and labels that
# bot's dashboards read, recorded from our instruments.
KRAKEN_LATENCY_P50_MS = "kraken_ws_latency_p50_ms"
KRAKEN_LATENCY_P95_MS = "kraken_ws_latency_p95_ms"
KRAKEN_LATENCY_P99_MS = "kraken_ws_latency_p99_ms"
KRAKEN_TRADES_PER_MINUTE = "kraken_trades_per_minute"
KRAKEN_RECONNECTS = "kraken_ws_reconnects_total"
KRAKEN_CONNECTION_STATUS = "kraken_ws_connection_status"
KRAKEN_EVENTS = "kraken_events_processed_total"
KRAKEN_PAIR = "pair"
KRAKEN_EVENT_TYPE = "event_type"

# --- Every series name an instrument (ours or the collector's) exports -------------------------

# A recording rule must never write one of these (tests/static/test_rules_source.py).
_HISTOGRAMS = (
    HTTP_DURATION,
    HTTP_CLIENT_DURATION,
    ORDER_LATENCY,
    TRADE_PNL,
    POSITION_DURATION,
    WS_DURATION,
    FEED_LATENCY,
    ENGINE_CYCLE,
    SCANNER,
    MARKET_DATA_DELAY,
)
_SERIES = (
    HTTP_ACTIVE,
    HTTP_CLIENT_ACTIVE,
    PROCESS_CPU_UTILIZATION,
    PROCESS_CPU_TIME,
    PROCESS_MEMORY_UTILIZATION,
    PROCESS_MEMORY,
    PROCESS_THREADS,
    PROCESS_FDS,
    PROCESS_UPTIME,
    TARGET_INFO,
    WS_ACTIVE,
    WS_RECEIVED,
    WS_SENT,
    USERS_ACTIVE,
    ORDERS,
    TRADES,
    PNL_REALIZED,
    PNL_TODAY,
    PNL_UNREALIZED,
    EXPOSURE,
    POSITIONS_OPEN,
    WIN_RATE,
    BREAKER_STATE,
    BREAKER_TRIPS,
    FEED_RECONNECTS,
    FEED_STATUS,
    FEED_EVENTS,
    FEED_TRADES,
    BROKER_STATUS,
    BROKER_FAILURES,
    API_SECURITY_EVENTS,
    APP_ERRORS,
    OTELCOL_ACCEPTED,
    OTELCOL_REFUSED,
    OTELCOL_SENT,
    OTELCOL_SEND_FAILED,
    OTELCOL_ENQUEUE_FAILED,
    OTELCOL_QUEUE_SIZE,
    OTELCOL_QUEUE_CAPACITY,
    OTELCOL_LIMITER_ACCEPTED,
    OTELCOL_LIMITER_REFUSED,
    OTELCOL_RSS,
    OTELCOL_HEAP,
)
EXPORTED = frozenset(_SERIES) | {
    f"{h}{s}" for h in _HISTOGRAMS for s in ("_bucket", "_count", "_sum")
}
