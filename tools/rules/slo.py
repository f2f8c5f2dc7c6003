"""The HTTP SLOs: their SLI ratios and multi-window, multi-burn-rate alerts.

Two objectives over 30 days: 99.9 % of requests succeed (no 5xx), 99 % complete within 1 s.
Their alerts are the burn-rate pairs of the SRE workbook: a page when the budget burns 14.4x
too fast over 1 h (confirmed over 5 m) or 6x over 6 h (and 30 m), a ticket at 3x over 1 d (and
2 h) or 1x over 3 d (and 6 h). The short window makes an alert resolve soon after the burn
stops.
"""

from __future__ import annotations

from dataclasses import replace

from tools import names
from tools.rules.http_inputs import ORDERS, latency, requests
from tools.rules.model import Alert, AlertCase, Firing, Recording
from tools.rules.promql import HTTP_ERRORS, SERVICE, label, rate_or_zero

AVAILABILITY_OBJECTIVE = 0.999
LATENCY_OBJECTIVE = 0.99
LATENCY_THRESHOLD = "1"  # seconds; a bucket bound of http.server.request.duration
# OTLP-ingested buckets say le="1"; scraped ones (Prometheus 3 normalises) say le="1.0".
LATENCY_BUCKET = f'{names.HTTP_BUCKET}{{{names.LE}=~"{LATENCY_THRESHOLD}|{LATENCY_THRESHOLD}.0"}}'
WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
PAGE = ((14.4, "1h", "5m"), (6, "6h", "30m"))
TICKET = ((3, "1d", "2h"), (1, "3d", "6h"))
REQUESTS = names.HTTP_REQUESTS


def _budget(objective: float) -> str:
    return f"{1 - objective:.6g}"


def recordings() -> tuple[Recording, ...]:
    """The availability and latency SLIs over every window of the burn-rate alerts."""
    rules: list[Recording] = []
    for window in WINDOWS:
        rules.append(
            Recording(
                f"{names.SLO_ERRORS}:ratio_rate{window}",
                f"(\n{rate_or_zero(SERVICE, HTTP_ERRORS, REQUESTS, window)}\n)\n  /\n"
                f"sum by ({SERVICE}) (rate({REQUESTS}[{window}]))",
                f"availability SLI: share of 5xx over {window}",
            )
        )
        rules.append(
            Recording(
                f"{names.SLO_SLOW}:ratio_rate{window}",
                f"1 - (\n  sum by ({SERVICE}) (rate({LATENCY_BUCKET}[{window}]))\n    /\n"
                f"  sum by ({SERVICE}) (rate({REQUESTS}[{window}]))\n)",
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
        f"{label(names.SERVICE_NAME)}: {what} error budget burning "
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


def availability_alerts() -> tuple[Alert, Alert]:
    page, ticket = _burn_alerts(
        "HttpAvailabilityBudgetBurn",
        names.SLO_ERRORS,
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
            firing=(Firing("critical", ORDERS, summary), Firing("warning", ORDERS, summary)),
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
    return replace(page, cases=cases), ticket


def latency_alerts() -> tuple[Alert, Alert]:
    page, ticket = _burn_alerts(
        "HttpLatencyBudgetBurn",
        names.SLO_SLOW,
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
            firing=(Firing("critical", ORDERS, summary), Firing("warning", ORDERS, summary)),
            pending_at="1m",
        ),
        AlertCase(
            "0.5 % slower than 1 s stays within the budget",
            latency("0+150x100", "0+199x100", "0+200x100"),
            at="20m",
        ),
    )
    return replace(page, cases=cases), ticket
