"""HTTP: RED per service and route, the threshold alerts, and the groups of the http rule file.

Errors are 5xx responses (4xx are the client's). The threshold alerts keep the thresholds the
BotV2 MetricsMonitor and MT5_UI alerted on: more than 5 % errors, p99 above 1 s. The SLO ratios
and burn-rate alerts of the same file are in :mod:`tools.rules.slo`.
"""

from __future__ import annotations

from tools import names
from tools.rules import slo
from tools.rules.http_inputs import ORDERS, ORDERS_ROUTE, labels, latency, requests
from tools.rules.model import Alert, AlertCase, Firing, Group, Recording, RecordingCase, Sample
from tools.rules.promql import HTTP_ERRORS, SERVICE, label, rate_or_zero

ROUTE = f"{SERVICE}, {names.ROUTE}"
REQUESTS = names.HTTP_REQUESTS
BUCKET = names.HTTP_BUCKET


def _red(level: str, by: str) -> tuple[Recording, ...]:
    """Request rate, error rate and ratio, p50/p95/p99 for one aggregation level."""
    quantiles = tuple(
        Recording(
            f"{level}:{names.HTTP_DURATION}:p{q}_rate5m",
            f"histogram_quantile(0.{q}, sum by ({by}, {names.LE}) (rate({BUCKET}[5m])))",
            f"p{q} request duration (s) per {level.replace('_', ' and ')}",
        )
        for q in ("50", "95", "99")
    )
    return (
        Recording(
            f"{level}:http_server_requests:rate5m",
            f"sum by ({by}) (rate({REQUESTS}[5m]))",
            f"requests per second per {level.replace('_', ' and ')}",
        ),
        Recording(
            f"{level}:http_server_request_errors:rate5m",
            rate_or_zero(by, HTTP_ERRORS, REQUESTS, "5m"),
            f"5xx responses per second (0 without errors) per {level.replace('_', ' and ')}",
        ),
        Recording(
            f"{level}:http_server_request_error_ratio:rate5m",
            f"{level}:http_server_request_errors:rate5m\n  /\n{level}:http_server_requests:rate5m",
            "share of requests answered with a 5xx, 0..1",
        ),
        *quantiles,
    )


RED_CASE = RecordingCase(
    series=dict([requests("200", "0+90x20"), requests("500", "0+10x20")]),
    at="5m",
    expect=(Sample(labels(ORDERS), 0.1),),
)
ROUTE_CASE = RecordingCase(
    series=latency("0+50x20", "0+100x20", "0+100x20"),
    at="5m",
    expect=(Sample(labels(ORDERS_ROUTE), 0.5),),
)


ERROR_RATE = Alert(
    "HttpErrorRateHigh",
    "warning",
    "service:http_server_request_error_ratio:rate5m > 0.05",
    "5m",
    "more than 5 % of requests answered with 5xx over 5 m (BotV2 MetricsMonitor, MT5_UI)",
    f"{label(names.SERVICE_NAME)}: {{{{ $value | humanizePercentage }}}} of requests fail (5xx)",
    "The service answers more than 5 % of its requests with a server error.",
    """\
On **Service overview**, *Error ratio by route* and *Responses by status code* show which
route fails and how. Look at the service's logs for the exceptions, recent deploys, and its
dependencies (a 502/503/504 usually means one of them is down or slow). If the availability
SLO alert fires too, this is eating the error budget: roll back or fail over first.""",
    action="find the failing route on Service overview; roll back a bad deploy",
    cases=(
        AlertCase(
            "10 % errors: pending until 5 m have passed, then firing",
            dict([requests("200", "0+90x40"), requests("500", "0+10x40")]),
            at="6m",
            firing=(Firing("warning", ORDERS, "orders: 10% of requests fail (5xx)"),),
            pending_at="5m",
        ),
        AlertCase(
            "2 % errors stay below the threshold",
            dict([requests("200", "0+98x40"), requests("500", "0+2x40")]),
            at="6m",
        ),
    ),
)

LATENCY_P99 = Alert(
    "HttpLatencyP99High",
    "warning",
    f"service:{names.HTTP_DURATION}:p99_rate5m > 1",
    "5m",
    "p99 request duration above 1 s over 5 m (BotV2 MetricsMonitor)",
    f"{label(names.SERVICE_NAME)}: p99 latency {{{{ $value | humanizeDuration }}}}",
    "The slowest 1 % of requests take more than a second.",
    """\
On **Service overview**, *Latency percentiles* and the heatmap show whether all requests got
slower or only a tail; *Requests by route* and the route variable narrow it to a route.
Check **Process** (CPU near 100 %, memory, threads) and slow dependencies. A spike that
matches a traffic spike needs capacity; one without needs a profile of the slow route.""",
    action="find the slow route on Service overview; check CPU and dependencies",
    cases=(
        AlertCase(
            "every request between 1 s and 2.5 s: p99 2.485 s",
            latency("0x40", "0x40", "0+100x40"),
            at="6m",
            firing=(Firing("warning", ORDERS, "orders: p99 latency 2.485s"),),
            pending_at="5m",
        ),
        AlertCase(
            "every request under 0.5 s",
            latency("0+100x40", "0+100x40", "0+100x40"),
            at="6m",
        ),
    ),
)

GROUPS = (
    Group(
        "otelmetrics-http-recording",
        "http",
        (
            *(
                Recording(r.record, r.expr, r.doc, (ROUTE_CASE,) if "p50" in r.record else ())
                for r in _red("service_route", ROUTE)
            ),
            *(
                Recording(r.record, r.expr, r.doc, (RED_CASE,) if "error_ratio" in r.record else ())
                for r in _red("service", SERVICE)
            ),
        ),
        "RED per service and route (rate, errors, error ratio, p50/p95/p99), then per service.",
    ),
    Group(
        "otelmetrics-http-slo-recording",
        "http",
        slo.recordings(),
        "SLI ratios over the windows of the burn-rate alerts.",
    ),
    Group(
        "otelmetrics-http-alerts",
        "http",
        (ERROR_RATE, LATENCY_P99, *slo.availability_alerts(), *slo.latency_alerts()),
        "HTTP alerts: the BotV2 and MT5_UI thresholds, and the SLO burn rates.",
    ),
)
