"""Service overview: RED by route, status codes, latency percentiles and heatmap, SLO burn."""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.builders import dashboard

from tools.dashboards.common import (
    APP,
    INSTANCE_VARIABLE,
    SERVICE_VARIABLE,
    Panel,
    Spec,
    buckets,
    build,
    graph,
    query,
    single,
    variable,
)
from tools.rules.http import AVAILABILITY_OBJECTIVE, LATENCY_OBJECTIVE

UID = "otelmetrics-service"
SEL = APP + ', http_route=~"$route"'
COUNT = f"http_server_request_duration_seconds_count{{{SEL}}}"
ERRORS = f'http_server_request_duration_seconds_count{{{SEL}, http_response_status_code=~"5.."}}'
BUCKET = f"http_server_request_duration_seconds_bucket{{{SEL}}}"
RATE = "[$__rate_interval]"
DESCRIPTION = (
    "RED for HTTP services: request rate, errors and latency per route, status codes, the "
    "latency heatmap, in-flight requests per instance, and the SLO error-budget burn rates."
)

ROUTE_VARIABLE = variable(
    "route",
    "Route",
    'label_values(http_server_request_duration_seconds_count{service_name=~"$service"}, '
    "http_route)",
)


def request_rate() -> Panel:
    return single(
        "Request rate",
        "Requests per second, all selected routes and instances.",
        "reqps",
        query(f"sum(rate({COUNT}{RATE}))"),
    )


def error_ratio() -> Panel:
    return single(
        "Error ratio",
        "Share of requests answered with a 5xx (HttpErrorRateHigh fires above 5 %).",
        "percentunit",
        query(f"(sum(rate({ERRORS}{RATE})) or vector(0)) / sum(rate({COUNT}{RATE}))"),
    )


def p99() -> Panel:
    return single(
        "p99 latency",
        "99th percentile of the request duration (HttpLatencyP99High fires above 1 s).",
        "s",
        query(f"histogram_quantile(0.99, sum by (le) (rate({BUCKET}{RATE})))"),
    )


def active() -> Panel:
    return single(
        "Requests in flight",
        "Requests being served right now (http.server.active_requests).",
        "short",
        query(f"sum(http_server_active_requests{{{APP}}})"),
    )


def by_route() -> Panel:
    return graph(
        "Requests by route",
        "Requests per second per route template; unmatched paths (404) have no route.",
        "reqps",
        query(f"sum by (http_route) (rate({COUNT}{RATE}))", "{{http_route}}"),
    )


def by_status() -> Panel:
    return graph(
        "Responses by status code",
        "Responses per second per HTTP status code.",
        "reqps",
        query(
            f"sum by (http_response_status_code) (rate({COUNT}{RATE}))",
            "{{http_response_status_code}}",
        ),
    )


def errors_by_route() -> Panel:
    return graph(
        "Error ratio by route",
        "Share of 5xx per route: where the errors come from.",
        "percentunit",
        query(
            f"(sum by (http_route) (rate({ERRORS}{RATE})) "
            f"or sum by (http_route) (rate({COUNT}{RATE})) * 0)\n"
            f"  / sum by (http_route) (rate({COUNT}{RATE}))",
            "{{http_route}}",
        ),
    )


def percentiles() -> Panel:
    return graph(
        "Latency percentiles",
        "p50, p95 and p99 of the request duration over the selected routes.",
        "s",
        *(
            query(
                f"histogram_quantile({q}, sum by (le) (rate({BUCKET}{RATE})))",
                f"p{round(q * 100)}",
            )
            for q in (0.5, 0.95, 0.99)
        ),
    )


def latency_heatmap() -> Panel:
    return buckets(
        "Latency heatmap",
        "Requests per duration bucket over time: a second mode or a long tail shows here.",
        "s",
        query(f"sum by (le) (increase({BUCKET}{RATE}))"),
    )


def in_flight() -> Panel:
    return graph(
        "Requests in flight by instance",
        "Concurrent requests per instance; click a line for its Process dashboard.",
        "short",
        query(
            f"sum by (service_instance_id) (http_server_active_requests{{{APP}}})",
            "{{service_instance_id}}",
        ),
    ).data_links(
        [
            dashboard.DashboardLink("Process of ${__field.labels.service_instance_id}").url(
                "/d/otelmetrics-process?var-service=${service}"
                "&var-instance=${__field.labels.service_instance_id}&${__url_time_range}"
            )
        ]
    )


def burn_rate(name: str, sli: str, objective: float) -> Panel:
    budget = f"{1 - objective:.6g}"
    return graph(
        f"{name} budget burn rate",
        f"How many times faster than sustainable the {objective:.1%} {name.lower()} SLO's "
        "budget burns (recording rules service:slo_http_*): 14.4 over 1 h pages.",
        "x",
        *(
            query(
                f'{sli}:ratio_rate{window}{{service_name=~"$service"}} / {budget}',
                f"{{{{service_name}}}} {window}",
            )
            for window in ("5m", "1h", "6h")
        ),
    )


def rows() -> list[tuple[str, list[tuple[Panel, int, int]]]]:
    return [
        (
            "Now",
            [(request_rate(), 6, 4), (error_ratio(), 6, 4), (p99(), 6, 4), (active(), 6, 4)],
        ),
        (
            "Traffic and errors",
            [(by_route(), 12, 8), (by_status(), 12, 8), (errors_by_route(), 24, 8)],
        ),
        ("Latency", [(percentiles(), 12, 9), (latency_heatmap(), 12, 9)]),
        (
            "Saturation and SLOs",
            [
                (in_flight(), 8, 8),
                (
                    burn_rate("Availability", "service:slo_http_errors", AVAILABILITY_OBJECTIVE),
                    8,
                    8,
                ),
                (burn_rate("Latency", "service:slo_http_slow", LATENCY_OBJECTIVE), 8, 8),
            ],
        ),
    ]


def board() -> Any:
    return build(
        UID,
        "Service overview",
        DESCRIPTION,
        [SERVICE_VARIABLE, INSTANCE_VARIABLE, ROUTE_VARIABLE],
        rows(),
    )


SPEC = Spec(UID, "Service overview", DESCRIPTION, board)
