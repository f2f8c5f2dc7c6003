"""Per-service alerts: process CPU and memory, silent services, the metrics API's auth failures."""

from __future__ import annotations

from dataclasses import replace

from tools import names
from tools.rules.model import Alert, AlertCase, Firing, Group, Severity
from tools.rules.promql import SERVICE, block, label, new_or_increase, series

# What the OTLP receiver puts on every series of one app instance (job/instance from service.*).
INSTANCE = {
    names.JOB: "orders",
    names.INSTANCE: "i-1",
    names.SERVICE_NAME: "orders",
    names.INSTANCE_ID: "i-1",
    names.ENV: "prod",
}
OTHER_INSTANCE = {**INSTANCE, names.INSTANCE: "i-2", names.INSTANCE_ID: "i-2"}
ORDERS_SERVICE = {names.ENV: "prod", names.SERVICE_NAME: "orders"}
# One target_info series per exporting app instance (the collector's come from its scrape).
APPS = f'{names.TARGET_INFO}{{{names.JOB}!="{names.COLLECTOR_JOB}"}}'
# 401s of the JSON API (otelmetrics/instruments/events.py): no credentials, or a wrong token.
SECURITY = names.API_SECURITY_EVENTS
AUTH_FAILED = f'{SECURITY}{{{names.SECURITY_EVENT}=~"auth_failure|invalid_token"}}'
# "orders i-1": the service and instance an alert summary names.
_WHO = f"{label(names.SERVICE_NAME)} {label(names.INSTANCE_ID)}"


def _cpu_series(user: str, system: str) -> dict[str, str]:
    """process.cpu.utilization has one series per cpu.mode; the alert reads their sum."""
    return {
        series(names.PROCESS_CPU_UTILIZATION, {**INSTANCE, names.CPU_MODE: mode}): values
        for mode, values in (("user", user), ("system", system))
    }


def _security_series(event_type: str, values: str) -> dict[str, str]:
    return {series(SECURITY, {**INSTANCE, names.SECURITY_EVENT: event_type}): values}


_CPU_RUNBOOK = """\
The process uses more than 80 % (warning) or 90 % (critical) of the CPUs it may use, averaged
over 5 minutes. On **Process**, compare the instances: one hot instance points at a stuck
request or a loop, all of them at load. Check request rate and latency on **Service
overview**; add workers or instances, or profile the hot route. Engines that scan markets on
a timer show as steady CPU: check the cycle and scanner durations on **Trading**."""


def _cpu(severity: Severity, threshold: float) -> Alert:
    return Alert(
        "ProcessCpuHigh",
        severity,
        f"sum without ({names.CPU_MODE}) "
        f"(avg_over_time({names.PROCESS_CPU_UTILIZATION}[5m])) > {threshold:g}",
        "5m",
        f"process CPU above {threshold * 100:g} % of its CPUs, 5 m average "
        "(BotV2 MetricsMonitor, breakout_bot)",
        f"{_WHO}: CPU {{{{ $value | humanizePercentage }}}} (5 m average)",
        "The process keeps its CPUs busy; requests queue and latency grows.",
        _CPU_RUNBOOK,
        "find the hot instance on Process; scale out or profile",
    )


CPU_WARNING = _cpu("warning", 0.8)
CPU_CRITICAL = replace(
    _cpu("critical", 0.9),
    cases=(
        AlertCase(
            "95 % CPU: warning and critical after 5 m",
            _cpu_series("0.75x40", "0.2x40"),
            at="6m",
            firing=(
                Firing("critical", INSTANCE, "orders i-1: CPU 95% (5 m average)"),
                Firing("warning", INSTANCE, "orders i-1: CPU 95% (5 m average)"),
            ),
            pending_at="4m45s",
        ),
        AlertCase(
            "85 % CPU: the warning only",
            _cpu_series("0.6x40", "0.25x40"),
            at="6m",
            firing=(Firing("warning", INSTANCE, "orders i-1: CPU 85% (5 m average)"),),
        ),
        AlertCase(
            "no mode above 80 %, their sum is: the modes are added up",
            _cpu_series("0.45x40", "0.4x40"),
            at="6m",
            firing=(Firing("warning", INSTANCE, "orders i-1: CPU 85% (5 m average)"),),
        ),
        AlertCase(
            "50 % CPU",
            _cpu_series("0.3x40", "0.2x40"),
            at="6m",
        ),
    ),
)

MEMORY = Alert(
    "ProcessMemoryHigh",
    "warning",
    f"{names.PROCESS_MEMORY_UTILIZATION} > 0.8",
    "5m",
    "process RSS above 80 % of the host's memory (BotV2 MetricsMonitor)",
    f"{_WHO}: RSS {{{{ $value | humanizePercentage }}}} of memory",
    "The process holds most of the machine's memory; the OOM killer is next.",
    """\
On **Process**, *Memory (RSS)* over a few hours tells a leak (a steady climb) from a load
peak (follows the request rate). A leak: restart the instance to buy time and take a heap
profile; caches without a bound are the usual suspect. A peak: give the container more memory
or run more, smaller workers.""",
    action="tell a leak from a peak on Process; restart or resize",
    cases=(
        AlertCase(
            "90 % of memory for 6 m",
            {series(names.PROCESS_MEMORY_UTILIZATION, INSTANCE): "0.9x40"},
            at="6m",
            firing=(Firing("warning", INSTANCE, "orders i-1: RSS 90% of memory"),),
            pending_at="4m45s",
        ),
        AlertCase(
            "40 % of memory",
            {series(names.PROCESS_MEMORY_UTILIZATION, INSTANCE): "0.4x40"},
            at="6m",
        ),
    ),
)

NO_DATA = Alert(
    "ServiceNoData",
    "warning",
    block(
        f"""
        group by ({SERVICE}) (max_over_time({APPS}[6h]))
          unless
        group by ({SERVICE}) (max_over_time({APPS}[3m]))
        """
    ),
    "2m",
    "a service that sent metrics within 6 h sent none for 3 m",
    f"{label(names.SERVICE_NAME)} ({label(names.ENV)}) sends no metrics",
    "Every instance of the service stopped exporting: it is down, or its metrics cannot "
    "reach the collector.",
    """\
Is the service running (its health endpoint, the orchestrator)? If it is, its exports do not
arrive: check OTEL_EXPORTER_OTLP_ENDPOINT and the network path to the collector, the app's log
(otelmetrics logs export failures once), and **Pipeline health** (a collector that refuses or
is down shows there, and `OtelCollectorDown` inhibits this alert). A service retired on
purpose stops alerting 6 h after its last export.""",
    action="check the service is up, then its path to the collector",
    cases=(
        AlertCase(
            "exports stop after 5 m: pending at 9 m, firing at 11 m",
            {series(names.TARGET_INFO, INSTANCE): "1x20 _x60"},
            at="11m",
            firing=(Firing("warning", ORDERS_SERVICE, "orders (prod) sends no metrics"),),
            pending_at="9m",
        ),
        AlertCase(
            "one instance goes, another keeps exporting",
            {
                series(names.TARGET_INFO, INSTANCE): "1x20 _x60",
                series(names.TARGET_INFO, OTHER_INSTANCE): "1x80",
            },
            at="11m",
        ),
    ),
)

AUTH_FAILURES = Alert(
    "MetricsApiAuthFailures",
    "warning",
    f"sum by ({SERVICE}) (\n{new_or_increase(AUTH_FAILED, '15m')}\n) > 10",
    "1m",
    "more than 10 requests with missing or wrong credentials (401) on the metrics API "
    "within 15 m (MT5_UI)",
    f"{label(names.SERVICE_NAME)}: {{{{ $value | humanize }}}} failed authentications on the "
    "metrics API",
    "Someone keeps presenting bad or missing credentials to the metrics API: a misconfigured "
    "client, or someone guessing tokens.",
    """\
A security signal, not an outage. Find the client: the API's `/security` view lists recent
events with their source. A scraper or dashboard with an old token (rotated
`OTELMETRICS_API_TOKEN`) is the common case: fix its configuration. Unknown sources: block
them at the proxy or firewall, rotate the token, and keep the API off public networks
(`OTELMETRICS_API_PUBLIC` stays false).""",
    action="find the client with a bad token; block unknown sources",
    cases=(
        AlertCase(
            "15 failures arriving at once (the series is new)",
            _security_series("invalid_token", "_x4 15x20"),
            at="2m30s",
            firing=(
                Firing(
                    "warning",
                    ORDERS_SERVICE,
                    "orders: 15 failed authentications on the metrics API",
                ),
            ),
            pending_at="1m30s",
        ),
        AlertCase(
            "3 failures (rate limiting is not an auth failure)",
            {
                **_security_series("auth_failure", "_x4 3x20"),
                **_security_series("rate_limited", "_x4 30x20"),
            },
            at="2m30s",
        ),
    ),
)

GROUPS = (
    Group(
        "otelmetrics-services-alerts",
        "services",
        (CPU_WARNING, CPU_CRITICAL, MEMORY, NO_DATA, AUTH_FAILURES),
        "Process resources, services that went silent, the metrics API's auth failures.",
    ),
)
