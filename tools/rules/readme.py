"""Render the README's alert table, runbooks and recording-rule table from the rule groups."""

from __future__ import annotations

from collections.abc import Sequence

from tools.rules.model import Group
from tools.rules.runbooks import by_name, sections, timing


def alert_table(groups: Sequence[Group]) -> str:
    rows = [
        "| alert | severity | condition | what to do |",
        "|---|---|---|---|",
    ]
    for name, rules in by_name(groups).items():
        for alert in rules:
            if not alert.action:
                raise ValueError(f"alert {name} ({alert.severity}) has no action for the README")
            rows.append(
                f"| [`{name}`](#{name.lower()}) | {alert.severity} | "
                f"{alert.condition}, {timing(alert)} | {alert.action} |"
            )
    return "\n".join(rows)


def runbooks(groups: Sequence[Group]) -> str:
    """The README's copy of docs/runbooks.md's sections, one heading level down."""
    return sections(groups, "####")


def recording_table(groups: Sequence[Group]) -> str:
    rows = ["| recording rule | what it holds |", "|---|---|"]
    for group in groups:
        rows += [f"| `{rule.record}` | {rule.doc} |" for rule in group.recordings]
    return "\n".join(rows)
