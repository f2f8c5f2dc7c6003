"""Health checks on the in-process statistics: thresholds, levels, since-when.

The thresholds and levels are those of the BotV2 monitor and the breakout_bot API.

Each :class:`Check` watches one statistic: above its threshold (``settings.thresholds``) it is a
warning, above its critical level a critical. :class:`Breaches` turns the failing checks into
alerts that remember since when they have been failing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, TypedDict

from otelmetrics.insights.alerts import Alert

MIN_REQUESTS = 10  # below this many requests in the window, rates and p99 do not alert


@dataclass(frozen=True)
class Check:
    """A threshold on one statistic: above it a warning, above ``critical(threshold)`` critical.

    ``threshold`` names the setting it is judged against (default: the statistic's own name).
    """

    statistic: str
    alert: str
    category: str
    label: str
    critical: Callable[[float], float]
    needs_traffic: bool = False
    threshold: str = ""

    @property
    def threshold_key(self) -> str:
        return self.threshold or self.statistic


# Critical levels: twice the error-rate and latency thresholds; memory 95 %, CPU 90 %.
_LATENCY = Check(
    "latency_p99_ms", "HIGH_LATENCY", "performance", "P99 latency", lambda t: 2 * t, True
)
_MEMORY = Check(
    "memory_usage_pct", "HIGH_MEMORY", "resources", "Memory usage", lambda t: max(t, 95.0)
)
_CPU = Check("cpu_usage_pct", "HIGH_CPU", "resources", "CPU usage", lambda t: max(t, 90.0))
# The alerts (``/alerts``, ``/status``) count every status >= 400, as the BotV2 monitor did: a
# surge of 401s or 404s is worth a look.
CHECKS = (
    Check("error_rate_pct", "HIGH_ERROR_RATE", "errors", "Error rate", lambda t: 2 * t, True),
    _LATENCY,
    _MEMORY,
    _CPU,
)
# Health (``/health``, which load balancers act on) judges the service's own failures only:
# 5xx and exceptions, against the same error-rate threshold. What clients ask for (a 404, a
# 401) must never take an instance out of rotation.
HEALTH_CHECKS = (
    Check(
        "server_error_rate_pct",
        "HIGH_SERVER_ERROR_RATE",
        "errors",
        "Server error rate",
        lambda t: 2 * t,
        needs_traffic=True,
        threshold="error_rate_pct",
    ),
    _LATENCY,
    _MEMORY,
    _CPU,
)


class HealthCheck(TypedDict):
    """One threshold check: ``level`` is ok, warning or critical."""

    ok: bool
    level: str
    value: float
    threshold: float


def check(
    found: Check, current: Mapping[str, Any], requests: int, thresholds: Mapping[str, float]
) -> HealthCheck:
    """``{"ok", "level", "value", "threshold"}`` of one check on the snapshot ``current``."""
    threshold = thresholds[found.threshold_key]
    value = current[found.statistic]
    quiet = found.needs_traffic and requests < MIN_REQUESTS
    level = "ok"
    if not quiet and value > found.critical(threshold):
        level = "critical"
    elif not quiet and value > threshold:
        level = "warning"
    return {"ok": level == "ok", "level": level, "value": value, "threshold": threshold}


def status(checks: Mapping[str, HealthCheck]) -> str:
    """healthy, degraded (a warning) or unhealthy (a critical)."""
    levels = {result["level"] for result in checks.values()}
    return "unhealthy" if "critical" in levels else "degraded" if "warning" in levels else "healthy"


class Breaches:
    """Since when each check has been failing; not locked (the caller holds a lock)."""

    def __init__(self) -> None:
        self._since: dict[str, float] = {}

    def alerts(
        self,
        current: Mapping[str, Any],
        requests: int,
        thresholds: Mapping[str, float],
        now: float,
    ) -> Iterator[Alert]:
        """Yield the failing checks as alerts (name, severity, category, message, value,
        threshold, since), forgetting the ones that pass again."""
        for found in CHECKS:
            result = check(found, current, requests, thresholds)
            if result["ok"]:
                self._since.pop(found.alert, None)
                continue
            since = self._since.setdefault(found.alert, now)
            yield {
                "name": found.alert,
                "severity": result["level"],
                "category": found.category,
                "message": f"{found.label} {result['value']} is above {result['threshold']}",
                "value": result["value"],
                "threshold": result["threshold"],
                "since": datetime.fromtimestamp(since, timezone.utc).isoformat(),
            }
