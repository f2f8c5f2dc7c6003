"""Outgoing HTTP calls: per service and upstream host, the failure ratio and p99, and the
alerts for a failing or a slow upstream.

A failed call is one the upstream is to blame for: a 5xx answer, or no answer at all (refused,
timed out: ``error.type`` is the exception's class name and there is no status code). A 4xx is
the caller's own mistake and is left to the service's logs.
"""

from __future__ import annotations

from tools import names
from tools.rules.model import Alert, AlertCase, Firing, Group, Recording, RecordingCase, Sample
from tools.rules.promql import SERVICE, label, matchers, rate_or_zero, series

HOST = f"{SERVICE}, {names.SERVER_ADDRESS}"
CALLS = names.HTTP_CLIENT_REQUESTS
FAILED = f'{CALLS}{{{names.ERROR_TYPE}!="", {names.STATUS}!~"4.."}}'
LEVEL = "service_host"

ORDERS = {names.ENV: "prod", names.SERVICE_NAME: "orders"}
EXCHANGE = {**ORDERS, names.SERVER_ADDRESS: "api.exchange.example"}


def calls(values: str, status: str | None = "200", error: str | None = None) -> tuple[str, str]:
    """The call count to the exchange with ``status`` (None: no answer) and ``error``."""
    labels = dict(EXCHANGE)
    if status is not None:
        labels[names.STATUS] = status
    if error is not None:
        labels[names.ERROR_TYPE] = error
    return (series(CALLS, labels), values)


def latency(fast: str, total: str) -> dict[str, str]:
    """Buckets of the 200s: ``fast`` calls take <= 0.5 s, the rest <= 2.5 s."""

    def bucket(le: str, values: str) -> tuple[str, str]:
        labels = {**EXCHANGE, names.STATUS: "200", names.LE: le}
        return (series(names.HTTP_CLIENT_BUCKET, labels), values)

    return dict([calls(total), bucket("0.5", fast), bucket("2.5", total), bucket("+Inf", total)])


RATIO_CASE = RecordingCase(
    series=dict(
        [
            calls("0+80x20"),
            calls("0+10x20", "503", "503"),
            calls("0+10x20", None, "ConnectError"),
            calls("0+100x20", "404", "404"),  # the caller's mistake: not a failure
        ]
    ),
    at="5m",
    expect=(Sample(f"{{{matchers(EXCHANGE)}}}", 0.1),),
)

RECORDINGS = (
    Recording(
        f"{LEVEL}:http_client_requests:rate5m",
        f"sum by ({HOST}) (rate({CALLS}[5m]))",
        "outgoing calls per second per service and upstream host",
    ),
    Recording(
        f"{LEVEL}:http_client_request_failures:rate5m",
        rate_or_zero(HOST, FAILED, CALLS, "5m"),
        "calls per second answered with a 5xx or not at all (0 without failures)",
    ),
    Recording(
        f"{LEVEL}:http_client_request_failure_ratio:rate5m",
        f"{LEVEL}:http_client_request_failures:rate5m\n  /\n{LEVEL}:http_client_requests:rate5m",
        "share of outgoing calls that failed (5xx or no answer), 0..1",
        (RATIO_CASE,),
    ),
    Recording(
        f"{LEVEL}:{names.HTTP_CLIENT_DURATION}:p99_rate5m",
        f"histogram_quantile(0.99, sum by ({HOST}, {names.LE}) "
        f"(rate({names.HTTP_CLIENT_BUCKET}[5m])))",
        "p99 outgoing call duration (s) per service and upstream host",
    ),
)

UPSTREAM_FAILING = Alert(
    "HttpUpstreamFailing",
    "warning",
    f"{LEVEL}:http_client_request_failure_ratio:rate5m > 0.05",
    "5m",
    "more than 5 % of calls to one upstream host fail (5xx, refused, timed out) over 5 m",
    f"{label(names.SERVICE_NAME)} -> {label(names.SERVER_ADDRESS)}: "
    "{{ $value | humanizePercentage }} of calls fail",
    "An upstream the service calls (an exchange, a broker, an internal API) answers more "
    "than 5 % of its calls with a server error, or not at all.",
    """\
On **Service overview**, the *Outgoing calls* row shows which host fails and how
(*Failed calls by host and error*: a status code, or the exception's class name such as
`ConnectError` or `ReadTimeout`); the live page's *Outgoing calls* table shows the same per host.
Check the upstream's status page and your network path to it (DNS, proxy, firewall,
certificates). If it is a venue, pause or route the strategies that depend on it before the
errors turn into missed or duplicated orders.""",
    action="find the failing host in Outgoing calls; check its status, fail over",
    cases=(
        AlertCase(
            "20 % of calls fail: pending until 5 m have passed, then firing",
            dict(
                [
                    calls("0+80x40"),
                    calls("0+10x40", "503", "503"),
                    calls("0+10x40", None, "ReadTimeout"),
                ]
            ),
            at="6m",
            firing=(
                Firing("warning", EXCHANGE, "orders -> api.exchange.example: 20% of calls fail"),
            ),
            pending_at="5m",
        ),
        AlertCase(
            "4xx answers are the caller's, not the upstream's",
            dict([calls("0+50x40"), calls("0+50x40", "404", "404")]),
            at="6m",
        ),
    ),
)

UPSTREAM_SLOW = Alert(
    "HttpUpstreamSlow",
    "warning",
    f"{LEVEL}:{names.HTTP_CLIENT_DURATION}:p99_rate5m > 1",
    "5m",
    "p99 duration of calls to one upstream host above 1 s over 5 m",
    f"{label(names.SERVICE_NAME)} -> {label(names.SERVER_ADDRESS)}: "
    "p99 {{ $value | humanizeDuration }}",
    "The slowest 1 % of calls to an upstream host take more than a second.",
    """\
On **Service overview**, *Outgoing call p99 by host* shows which upstream slowed down and
since when. Compare with the service's own latency: a slow upstream usually shows there too.
Check the upstream's status page, rate-limit answers (429) and your connection pool (calls
queueing for a connection look like a slow upstream); lower timeouts or add a circuit breaker
if it stays slow.""",
    action="find the slow host in Outgoing calls; check its status and your pool",
    cases=(
        AlertCase(
            "every call between 0.5 s and 2.5 s: p99 2.48 s",
            latency("0x40", "0+100x40"),
            at="6m",
            firing=(Firing("warning", EXCHANGE, "orders -> api.exchange.example: p99 2.48s"),),
            pending_at="5m",
        ),
        AlertCase("every call under 0.5 s", latency("0+100x40", "0+100x40"), at="6m"),
    ),
)

GROUPS = (
    Group(
        "otelmetrics-http-client-recording",
        "http",
        RECORDINGS,
        "Outgoing calls per service and upstream host: rate, failures, failure ratio, p99.",
    ),
    Group(
        "otelmetrics-http-client-alerts",
        "http",
        (UPSTREAM_FAILING, UPSTREAM_SLOW),
        "Outgoing calls: a failing or a slow upstream host.",
    ),
)
