"""Render docs/alerts.md's alert table and recording-rule table from the rule groups."""

from __future__ import annotations

from collections.abc import Sequence

from tools.rules.model import Group
from tools.rules.runbooks import DOC, anchor, by_name, timing


def alert_table(groups: Sequence[Group]) -> str:
    """One row per alert rule, each name linking to its section of docs/runbooks.md."""
    rows = [
        "| alert | severity | condition | what to do |",
        "|---|---|---|---|",
    ]
    for name, rules in by_name(groups).items():
        for alert in rules:
            if not alert.action:
                raise ValueError(f"alert {name} ({alert.severity}) has no action for the table")
            rows.append(
                f"| [`{name}`]({DOC.name}#{anchor(name)}) | {alert.severity} | "
                f"{alert.condition}, {timing(alert)} | {alert.action} |"
            )
    return "\n".join(rows)


def recording_table(groups: Sequence[Group]) -> str:
    rows = ["| recording rule | what it holds |", "|---|---|"]
    for group in groups:
        rows += [f"| `{rule.record}` | {rule.doc} |" for rule in group.recordings]
    return "\n".join(rows)
