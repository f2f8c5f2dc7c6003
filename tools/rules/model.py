"""What a rule is: recording and alerting rules, their groups, their promtool cases, profiles.

A rule is written once, in plain PromQL with its real windows (``rate(x[5m])``) and ``for``.
A :class:`Profile` renders it: the default profile keeps every duration, the fast profile
(the e2e scenario test) maps each duration to a short one through one table, so the fast
variant is the same definitions with other parameters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["critical", "warning"]

# Range selectors ([5m], subqueries [1h:1m]) and offsets: the durations a profile rewrites.
_RANGE = re.compile(r"\[(\d+[smhdw])(:(\d+[smhdw])?)?\]")
_OFFSET = re.compile(r"\boffset (\d+[smhdw])\b")


@dataclass(frozen=True)
class Profile:
    """How durations render: identity (default files) or a table (fast e2e variant).

    Attributes:
        name: ``default`` or ``fast``.
        durations: Default duration -> rendered duration; empty means keep every duration.
        interval: Every group's evaluation interval, or None for prometheus.yml's global one.
    """

    name: str
    durations: Mapping[str, str] = field(default_factory=dict)
    interval: str | None = None

    def duration(self, value: str) -> str:
        """The rendered form of one duration (``5m`` stays ``5m`` unless the table maps it)."""
        if not self.durations or value in ("0s", "0m"):
            return value
        try:
            return self.durations[value]
        except KeyError:
            raise ValueError(
                f"profile {self.name!r} has no mapping for duration {value!r}; "
                f"add it to its table in tools/rules/profiles.py"
            ) from None

    def expr(self, promql: str) -> str:
        """``promql`` with every range, subquery step and offset duration rendered."""

        def rng(match: re.Match[str]) -> str:
            step = match.group(3)
            colon = match.group(2)
            tail = "" if colon is None else ":" + (self.duration(step) if step else "")
            return f"[{self.duration(match.group(1))}{tail}]"

        rendered = _RANGE.sub(rng, promql)
        return _OFFSET.sub(lambda m: f"offset {self.duration(m.group(1))}", rendered)


@dataclass(frozen=True)
class Sample:
    """One expected sample of a promtool ``promql_expr_test``."""

    labels: str  # PromQL label set, e.g. '{pair="BTC-USD"}' or a full series selector
    value: float


@dataclass(frozen=True)
class RecordingCase:
    """Input series and the values a recording rule must produce at ``at``."""

    series: Mapping[str, str]
    at: str
    expect: tuple[Sample, ...]
    interval: str = "15s"


@dataclass(frozen=True)
class Recording:
    """A recording rule: ``record`` is level:metric:operations, or a compatibility name."""

    record: str
    expr: str
    doc: str
    cases: tuple[RecordingCase, ...] = ()


@dataclass(frozen=True)
class Firing:
    """One alert expected at a check: its severity, the labels it carries, its summary."""

    severity: Severity
    labels: Mapping[str, str]
    summary: str


@dataclass(frozen=True)
class AlertCase:
    """A promtool case for one alert name.

    ``series`` run from time 0 at ``interval``. At ``at`` exactly ``firing`` must be firing
    (empty: nothing). At ``pending_at`` the expression already returns ``len(firing)`` series
    but the alert must not fire yet: that is the ``for`` duration, tested.
    """

    title: str
    series: Mapping[str, str]
    at: str
    firing: tuple[Firing, ...] = ()
    pending_at: str | None = None
    interval: str = "15s"


@dataclass(frozen=True)
class Alert:
    """An alerting rule at one severity (a name may have a warning and a critical rule).

    Attributes:
        name: The alertname.
        severity: critical pages someone now; warning is looked at within working hours.
        expr: PromQL returning the series in trouble (any result fires).
        for_: How long ``expr`` must hold before the alert fires.
        condition: The condition in words, for the docs/alerts.md table.
        summary: Annotation template ({{ $labels.x }}, {{ $value | humanize... }}).
        description: Static annotation: what is wrong and why it matters.
        runbook: Markdown for the docs/runbooks.md section: what to do.
        action: The first thing to do, one line, for the docs/alerts.md table.
        keep_firing_for: How long it keeps firing after ``expr`` stops returning it ("" none).
        cases: promtool cases (put cases of a multi-severity name on one of its rules).
    """

    name: str
    severity: Severity
    expr: str
    for_: str
    condition: str
    summary: str
    description: str
    runbook: str
    action: str = ""
    keep_firing_for: str = ""
    cases: tuple[AlertCase, ...] = ()


Rule = Recording | Alert


@dataclass(frozen=True)
class Group:
    """A Prometheus rule group; ``file`` names the rule file under prometheus/rules/."""

    name: str
    file: str
    rules: tuple[Rule, ...]
    doc: str

    @property
    def alerts(self) -> tuple[Alert, ...]:
        return tuple(r for r in self.rules if isinstance(r, Alert))

    @property
    def recordings(self) -> tuple[Recording, ...]:
        return tuple(r for r in self.rules if isinstance(r, Recording))
