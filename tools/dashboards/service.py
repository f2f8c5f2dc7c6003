"""Service overview: RED by route, status codes, latency percentiles and heatmap, SLO burn."""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.builders import dashboard

from tools import names
from tools.dashboards.common import (
    APP,
    INSTANCE_VARIABLE,
    RATE,
    SERVICE_VARIABLE,
    Panel,
    Spec,
    buckets,
    build,
    graph,
    legend,
    query,
    single,
    variable,
)
from tools.rules.slo import AVAILABILITY_OBJECTIVE, LATENCY_OBJECTIVE

UID = "otelmetrics-service"
SEL = f'{APP}, {names.ROUTE}=~"$route"'
COUNT = f"{names.HTTP_REQUESTS}{{{SEL}}}"
ERRORS = f'{names.HTTP_REQUESTS}{{{SEL}, {names.STATUS}=~"5.."}}'
BUCKET = f"{names.HTTP_BUCKET}{{{SEL}}}"
DESCRIPTION = (
    "RED for HTTP services: request rate, errors and latency per route, status codes, the "
    "latency heatmap, in-flight requests per instance, the SLO error-budget burn rates, and "
    "the outgoing calls per upstream host."
)

ROUTE_VARIABLE = variable(
    "route",
    "Route",
    f'label_values({names.HTTP_REQUESTS}{{{names.SERVICE_NAME}=~"$service"}}, {names.ROUTE})',
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
        query(f"histogram_quantile(0.99, sum by ({names.LE}) (rate({BUCKET}{RATE})))"),
    )


def active() -> Panel:
    return single(
        "Requests in flight",
        "Requests being served right now (http.server.active_requests).",
        "short",
        query(f"sum({names.HTTP_ACTIVE}{{{APP}}})"),
    )


def by_route() -> Panel:
    return graph(
        "Requests by route",
        "Requests per second per route template; unmatched paths (404) have no route.",
        "reqps",
        query(f"sum by ({names.ROUTE}) (rate({COUNT}{RATE}))", legend(names.ROUTE)),
    )


def by_status() -> Panel:
    return graph(
        "Responses by status code",
        "Responses per second per HTTP status code.",
        "reqps",
        query(f"sum by ({names.STATUS}) (rate({COUNT}{RATE}))", legend(names.STATUS)),
    )


def errors_by_route() -> Panel:
    return graph(
        "Error ratio by route",
        "Share of 5xx per route: where the errors come from.",
        "percentunit",
        query(
            f"(sum by ({names.ROUTE}) (rate({ERRORS}{RATE})) "
            f"or sum by ({names.ROUTE}) (rate({COUNT}{RATE})) * 0)\n"
            f"  / sum by ({names.ROUTE}) (rate({COUNT}{RATE}))",
            legend(names.ROUTE),
        ),
    )


def percentiles() -> Panel:
    return graph(
        "Latency percentiles",
        "p50, p95 and p99 of the request duration over the selected routes.",
        "s",
        *(
            query(
                f"histogram_quantile({q}, sum by ({names.LE}) (rate({BUCKET}{RATE})))",
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
        query(f"sum by ({names.LE}) (increase({BUCKET}{RATE}))"),
    )


def in_flight() -> Panel:
    return graph(
        "Requests in flight by instance",
        "Concurrent requests per instance; click a line for its Process dashboard.",
        "short",
        query(
            f"sum by ({names.INSTANCE_ID}) ({names.HTTP_ACTIVE}{{{APP}}})",
            legend(names.INSTANCE_ID),
        ),
    ).data_links(
        [
            dashboard.DashboardLink(f"Process of ${{__field.labels.{names.INSTANCE_ID}}}").url(
                "/d/otelmetrics-process?var-service=${service}"
                f"&var-instance=${{__field.labels.{names.INSTANCE_ID}}}&${{__url_time_range}}"
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
                f'{sli}:ratio_rate{window}{{{names.SERVICE_NAME}=~"$service"}} / {budget}',
                f"{legend(names.SERVICE_NAME)} {window}",
            )
            for window in ("5m", "1h", "6h")
        ),
    )


CLIENT_CALLS = f"{names.HTTP_CLIENT_REQUESTS}{{{APP}}}"
CLIENT_FAILED = (
    f'{names.HTTP_CLIENT_REQUESTS}{{{APP}, {names.ERROR_TYPE}!="", {names.STATUS}!~"4.."}}'
)


def client_calls() -> Panel:
    return graph(
        "Outgoing calls by host",
        "Calls per second to each upstream host (requests, httpx, aiohttp once "
        "otelmetrics.instrument_http_clients() ran); _OTHER: hosts not kept.",
        "reqps",
        query(
            f"sum by ({names.SERVER_ADDRESS}) (rate({CLIENT_CALLS}{RATE}))",
            legend(names.SERVER_ADDRESS),
        ),
    )


def client_failures() -> Panel:
    return graph(
        "Failed calls by host and error",
        "Calls per second answered with a 5xx or not at all, by error.type (a status code or "
        "the exception's class); HttpUpstreamFailing fires above 5 % of a host's calls.",
        "reqps",
        query(
            f"sum by ({names.SERVER_ADDRESS}, {names.ERROR_TYPE}) (rate({CLIENT_FAILED}{RATE}))",
            legend(names.SERVER_ADDRESS, names.ERROR_TYPE),
        ),
    )


def client_p99() -> Panel:
    return graph(
        "Outgoing call p99 by host",
        "99th percentile of the call duration per upstream host (HttpUpstreamSlow fires above "
        "1 s).",
        "s",
        query(
            f"histogram_quantile(0.99, sum by ({names.SERVER_ADDRESS}, {names.LE}) "
            f"(rate({names.HTTP_CLIENT_BUCKET}{{{APP}}}{RATE})))",
            legend(names.SERVER_ADDRESS),
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
                    burn_rate("Availability", names.SLO_ERRORS, AVAILABILITY_OBJECTIVE),
                    8,
                    8,
                ),
                (burn_rate("Latency", names.SLO_SLOW, LATENCY_OBJECTIVE), 8, 8),
            ],
        ),
        (
            "Outgoing calls",
            [(client_calls(), 8, 8), (client_failures(), 8, 8), (client_p99(), 8, 8)],
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
