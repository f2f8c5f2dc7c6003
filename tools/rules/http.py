"""HTTP: RED per service and route, SLO ratios, and the HTTP alerts (seeds 001/004 + SLOs).

Errors are 5xx responses (4xx are the client's). The SLOs: 99.9 % of requests succeed, 99 %
complete within 1 s (the seeds' p99 threshold). Their alerts are the multi-window,
multi-burn-rate pairs of the SRE workbook: a page when the budget burns 14.4x too fast over
1 h (confirmed over 5 m) or 6x over 6 h (and 30 m), a ticket at 3x over 1 d (and 2 h) or 1x
over 3 d (and 6 h). The short window makes an alert resolve soon after the burn stops.
"""

from __future__ import annotations

from dataclasses import replace

from tools.rules.model import Alert, AlertCase, Firing, Group, Recording, RecordingCase, Sample
from tools.rules.promql import rate_or_zero

SVC = "deployment_environment_name, service_name"
ROUTE = f"{SVC}, http_route"
REQUESTS = "http_server_request_duration_seconds_count"
ERRORS = 'http_server_request_duration_seconds_count{http_response_status_code=~"5.."}'
BUCKET = "http_server_request_duration_seconds_bucket"

AVAILABILITY_OBJECTIVE = 0.999
LATENCY_OBJECTIVE = 0.99
LATENCY_THRESHOLD = "1"  # seconds; a bucket bound of http.server.request.duration
# OTLP-ingested buckets say le="1"; scraped ones (Prometheus 3 normalises) say le="1.0".
LATENCY_BUCKET = f'{BUCKET}{{le=~"{LATENCY_THRESHOLD}|{LATENCY_THRESHOLD}.0"}}'
SLO_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
PAGE = ((14.4, "1h", "5m"), (6, "6h", "30m"))
TICKET = ((3, "1d", "2h"), (1, "3d", "6h"))

# promtool inputs: one service, one route, 100 requests per 15 s step unless said otherwise.
LABELS = {"deployment_environment_name": "prod", "service_name": "orders"}
_ID = 'deployment_environment_name="prod", service_name="orders", http_route="/orders"'


def requests(status: str, values: str) -> tuple[str, str]:
    return (f'{REQUESTS}{{{_ID}, http_response_status_code="{status}"}}', values)


def bucket(le: str, values: str) -> tuple[str, str]:
    return (f'{BUCKET}{{{_ID}, http_response_status_code="200", le="{le}"}}', values)


def latency(fast: str, slow: str, total: str) -> dict[str, str]:
    """Buckets where ``fast`` requests take <= 0.5 s, ``slow`` <= 1 s, the rest <= 2.5 s."""
    return dict(
        [
            requests("200", total),
            bucket("0.5", fast),
            bucket("1", slow),
            bucket("2.5", total),
            bucket("+Inf", total),
        ]
    )


def _budget(objective: float) -> str:
    return f"{1 - objective:.6g}"


def _red(level: str, by: str) -> tuple[Recording, ...]:
    """Request rate, error rate and ratio, p50/p95/p99 for one aggregation level."""
    quantiles = tuple(
        Recording(
            f"{level}:http_server_request_duration_seconds:p{q}_rate5m",
            f"histogram_quantile(0.{q}, sum by ({by}, le) (rate({BUCKET}[5m])))",
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
            rate_or_zero(by, ERRORS, REQUESTS, "5m"),
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
    expect=(Sample('{deployment_environment_name="prod", service_name="orders"}', 0.1),),
)
ROUTE_CASE = RecordingCase(
    series=latency("0+50x20", "0+100x20", "0+100x20"),
    at="5m",
    expect=(
        Sample(
            '{deployment_environment_name="prod", service_name="orders", http_route="/orders"}',
            0.5,
        ),
    ),
)


def _slo_recordings() -> tuple[Recording, ...]:
    rules: list[Recording] = []
    for window in SLO_WINDOWS:
        rules.append(
            Recording(
                f"service:slo_http_errors:ratio_rate{window}",
                f"(\n{rate_or_zero(SVC, ERRORS, REQUESTS, window)}\n)\n  /\n"
                f"sum by ({SVC}) (rate({REQUESTS}[{window}]))",
                f"availability SLI: share of 5xx over {window}",
            )
        )
        rules.append(
            Recording(
                f"service:slo_http_slow:ratio_rate{window}",
                f"1 - (\n  sum by ({SVC}) (rate({LATENCY_BUCKET}[{window}]))\n    /\n"
                f"  sum by ({SVC}) (rate({REQUESTS}[{window}]))\n)",
                f"latency SLI: share of requests slower than {LATENCY_THRESHOLD} s over {window}",
            )
        )
    return tuple(rules)


def _burn(sli: str, objective: float, pairs: tuple[tuple[float, str, str], ...]) -> str:
    budget = _budget(objective)
    legs = [
        f"(\n  {sli}:ratio_rate{long} / {budget} > {factor:g}\n  and\n"
        f"  {sli}:ratio_rate{short} / {budget} > {factor:g}\n)"
        for factor, long, short in pairs
    ]
    return "\nor\n".join(legs)


def _pairs(pairs: tuple[tuple[float, str, str], ...]) -> str:
    return " or ".join(f"{f:g}x over {long} and {short}" for f, long, short in pairs)


def _burn_alerts(
    name: str, sli: str, objective: float, what: str, runbook: str, action: str
) -> tuple[Alert, Alert]:
    budget = _budget(objective)
    summary = (
        "{{ $labels.service_name }}: " + what + " error budget burning "
        "{{ $value | humanize }}x the sustainable rate"
    )
    description = (
        f"The {what} SLO ({objective:.1%} over 30 days, error budget {budget}) is being spent "
        "faster than it can last; the page pair means it is gone within days, the ticket "
        "pair within weeks."
    )
    page = Alert(
        name,
        "critical",
        _burn(sli, objective, PAGE),
        "2m",
        f"burn rate {_pairs(PAGE)}",
        summary,
        description,
        runbook,
        action,
    )
    ticket = Alert(
        name,
        "warning",
        _burn(sli, objective, TICKET),
        "15m",
        f"burn rate {_pairs(TICKET)}",
        summary,
        description,
        runbook,
        action,
    )
    return page, ticket


_AVAILABILITY_RUNBOOK = """\
The service answers too many requests with 5xx for its 99.9 % availability objective. The
page (critical) means the monthly budget is gone within about two days at this rate; the
ticket (warning) means it will run out before the month ends. Open the **Service overview**
dashboard for the service: *Error ratio by route* shows where, *Responses by status code*
which errors. Check recent deploys, the service's dependencies (broker, exchange, database)
and its logs; roll back a bad release first, investigate second. The alert resolves on its
own once the short window (5 m / 30 m / 2 h / 6 h) is clean again."""

_LATENCY_RUNBOOK = """\
Too many requests take longer than 1 s for the 99 % latency objective. On **Service
overview**, *Latency percentiles* and the heatmap show whether everything is slower or a
tail grew; *Requests by route* shows which route. Check CPU and memory on **Process** (a
saturated worker pool queues requests), slow dependencies, and the traffic level. Scale out or
shed load if the service is saturated."""


def _availability() -> tuple[Alert, Alert]:
    page, ticket = _burn_alerts(
        "HttpAvailabilityBudgetBurn",
        "service:slo_http_errors",
        AVAILABILITY_OBJECTIVE,
        "availability",
        _AVAILABILITY_RUNBOOK,
        "find the failing route on Service overview; roll back a bad deploy",
    )
    summary = "orders: availability error budget burning 20x the sustainable rate"
    cases = (
        AlertCase(
            "2 % errors: the page fires after 2 m, the ticket after 15 m",
            dict([requests("200", "0+98x100"), requests("500", "0+2x100")]),
            at="20m",
            firing=(Firing("critical", LABELS, summary), Firing("warning", LABELS, summary)),
            pending_at="1m",
        ),
        AlertCase(
            "0.05 % errors stay within the budget",
            dict([requests("200", "0+1999x100"), requests("500", "0+1x100")]),
            at="20m",
        ),
        AlertCase(
            "no 5xx at all (no error series): nothing fires",
            dict([requests("200", "0+100x100")]),
            at="20m",
        ),
    )
    return _with_cases(page, cases), ticket


def _latency() -> tuple[Alert, Alert]:
    page, ticket = _burn_alerts(
        "HttpLatencyBudgetBurn",
        "service:slo_http_slow",
        LATENCY_OBJECTIVE,
        "latency",
        _LATENCY_RUNBOOK,
        "find the slow route; scale out if the service is saturated",
    )
    summary = "orders: latency error budget burning 20x the sustainable rate"
    cases = (
        AlertCase(
            "20 % of requests slower than 1 s",
            latency("0+80x100", "0+80x100", "0+100x100"),
            at="20m",
            firing=(Firing("critical", LABELS, summary), Firing("warning", LABELS, summary)),
            pending_at="1m",
        ),
        AlertCase(
            "0.5 % slower than 1 s stays within the budget",
            latency("0+150x100", "0+199x100", "0+200x100"),
            at="20m",
        ),
    )
    return _with_cases(page, cases), ticket


def _with_cases(alert: Alert, cases: tuple[AlertCase, ...]) -> Alert:
    return replace(alert, cases=cases)


ERROR_RATE = Alert(
    "HttpErrorRateHigh",
    "warning",
    "service:http_server_request_error_ratio:rate5m > 0.05",
    "5m",
    "more than 5 % of requests answered with 5xx over 5 m (seeds 001, 004)",
    "{{ $labels.service_name }}: {{ $value | humanizePercentage }} of requests fail (5xx)",
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
            firing=(Firing("warning", LABELS, "orders: 10% of requests fail (5xx)"),),
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
    "service:http_server_request_duration_seconds:p99_rate5m > 1",
    "5m",
    "p99 request duration above 1 s over 5 m (seed 001)",
    "{{ $labels.service_name }}: p99 latency {{ $value | humanizeDuration }}",
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
            firing=(Firing("warning", LABELS, "orders: p99 latency 2.485s"),),
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
                for r in _red("service", SVC)
            ),
        ),
        "RED per service and route (rate, errors, error ratio, p50/p95/p99), then per service.",
    ),
    Group(
        "otelmetrics-http-slo-recording",
        "http",
        _slo_recordings(),
        "SLI ratios over the windows of the burn-rate alerts.",
    ),
    Group(
        "otelmetrics-http-alerts",
        "http",
        (ERROR_RATE, LATENCY_P99, *_availability(), *_latency()),
        "HTTP alerts: the seeds' thresholds and the SLO burn rates.",
    ),
)
