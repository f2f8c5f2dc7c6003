"""The MT5-style operations alerts, evaluated from plain inputs, and the shape of every alert.

=====================  ========  ==========  =================================================
name                   severity  category    fires when (threshold key in ``thresholds``)
=====================  ========  ==========  =================================================
BROKER_DISCONNECTED    critical  trading     a reported broker is disconnected
HIGH_TOTAL_ERROR_RATE  warning   errors      errors / requests since start > 10 %
                                             (``total_error_rate_pct``; from 10 requests on)
HIGH_ERROR_COUNT       warning   errors      more than 100 errors in 24 h (``errors_24h``)
SECURITY_THREATS       warning   security    more than 10 invalid-token attempts in 24 h
                                             (``invalid_tokens_24h``)
TRADING_FAILURES       warning   trading     more than 10 failed orders today
                                             (``failed_orders_today``)
=====================  ========  ==========  =================================================

:func:`evaluate` is pure; :class:`AlertSince` adds since when each alert has fired. The
statistics' threshold alerts (:meth:`otelmetrics.insights.stats.Stats.alerts`) have the same
shape, :class:`Alert`, so ``/alerts`` serves both lists as one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TypedDict

from otelmetrics.core.forks import ForkGuard

__all__ = ["RULES", "Alert", "AlertSince", "FiredAlert", "OpsFacts", "Rule", "evaluate"]

MIN_REQUESTS = 10  # below this many requests since start, the error rate does not alert


class FiredAlert(TypedDict):
    """A rule breached now; ``severity`` is warning or critical."""

    name: str
    severity: str
    category: str
    message: str
    value: float
    threshold: float


class Alert(FiredAlert):
    """An ``/alerts`` entry: a breached rule and since when (ISO-8601 UTC) it has fired."""

    since: str


@dataclass(frozen=True)
class OpsFacts:
    """The numbers the alerts read (see :func:`otelmetrics.insights.status.ops_facts`)."""

    total_requests: int
    total_errors: int
    errors_24h: int
    invalid_tokens_24h: int
    failed_orders_today: int
    brokers: Mapping[str, bool | None]  # venue -> connected (None: not reported yet)

    @property
    def total_error_rate_pct(self) -> float:
        if not self.total_requests:
            return 0.0
        return round(100.0 * self.total_errors / self.total_requests, 2)

    @property
    def disconnected(self) -> list[str]:
        return sorted(venue for venue, up in self.brokers.items() if up is False)


@dataclass(frozen=True)
class Rule:
    """One alert: its value from the facts, the threshold key (None: fixed 0), the message."""

    name: str
    severity: str
    category: str
    threshold_key: str | None
    value: Callable[[OpsFacts], float]
    message: Callable[[OpsFacts, float], str]
    active: Callable[[OpsFacts], bool] = lambda facts: True


RULES = (
    Rule(
        "BROKER_DISCONNECTED",
        "critical",
        "trading",
        None,
        lambda f: len(f.disconnected),
        lambda f, t: "Broker disconnected: " + ", ".join(f.disconnected),
    ),
    Rule(
        "HIGH_TOTAL_ERROR_RATE",
        "warning",
        "errors",
        "total_error_rate_pct",
        lambda f: f.total_error_rate_pct,
        lambda f, t: f"Error rate {f.total_error_rate_pct} % since start is above {t:g} %",
        lambda f: f.total_requests >= MIN_REQUESTS,
    ),
    Rule(
        "HIGH_ERROR_COUNT",
        "warning",
        "errors",
        "errors_24h",
        lambda f: f.errors_24h,
        lambda f, t: f"{f.errors_24h} errors in 24 h (more than {t:g})",
    ),
    Rule(
        "SECURITY_THREATS",
        "warning",
        "security",
        "invalid_tokens_24h",
        lambda f: f.invalid_tokens_24h,
        lambda f, t: f"{f.invalid_tokens_24h} invalid-token attempts in 24 h (more than {t:g})",
    ),
    Rule(
        "TRADING_FAILURES",
        "warning",
        "trading",
        "failed_orders_today",
        lambda f: f.failed_orders_today,
        lambda f, t: f"{f.failed_orders_today} failed orders today (more than {t:g})",
    ),
)


def evaluate(facts: OpsFacts, thresholds: Mapping[str, float]) -> list[FiredAlert]:
    """The rules breached now: name, severity, category, message, value, threshold."""
    alerts: list[FiredAlert] = []
    for rule in RULES:
        threshold = 0.0 if rule.threshold_key is None else float(thresholds[rule.threshold_key])
        value = rule.value(facts)
        if rule.active(facts) and value > threshold:
            alerts.append(
                {
                    "name": rule.name,
                    "severity": rule.severity,
                    "category": rule.category,
                    "message": rule.message(facts, threshold),
                    "value": value,
                    "threshold": threshold,
                }
            )
    return alerts


class AlertSince:
    """Since when each alert has been firing (ISO-8601 UTC); forgets alerts that cleared."""

    def __init__(self) -> None:
        self._fork = ForkGuard()
        self._lock = threading.Lock()
        self._since: dict[str, float] = {}

    @property
    def tables(self) -> tuple[()]:
        return ()  # a handle component for its reset after a fork; it exports nothing

    def reset(self) -> None:
        """Forget every alert (in a forked child with a new lock: the parent's may be held)."""
        if self._fork.forked():
            self._lock = threading.Lock()
        with self._lock:
            self._since = {}

    def stamp(self, alerts: Iterable[FiredAlert], now: float) -> list[Alert]:
        """``alerts`` with ``since`` added; an alert missing from them has cleared."""
        firing = list(alerts)
        with self._lock:
            names = {alert["name"] for alert in firing}
            self._since = {name: at for name, at in self._since.items() if name in names}
            return [
                {**alert, "since": _iso(self._since.setdefault(alert["name"], now))}
                for alert in firing
            ]


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat()
