"""Render the README's alert table, runbooks and recording-rule table from the rule groups."""

from __future__ import annotations

from collections.abc import Sequence

from tools.rules.model import Alert, Group


def _for(alert: Alert) -> str:
    timing = "at once" if alert.for_ in ("0s", "0m") else f"for {alert.for_}"
    if alert.keep_firing_for:
        timing += f", kept firing {alert.keep_firing_for} after"
    return timing


def _by_name(groups: Sequence[Group]) -> dict[str, list[Alert]]:
    names: dict[str, list[Alert]] = {}
    for group in groups:
        for alert in group.alerts:
            names.setdefault(alert.name, []).append(alert)
    return names


def alert_table(groups: Sequence[Group]) -> str:
    rows = [
        "| alert | severity | condition | what to do |",
        "|---|---|---|---|",
    ]
    for name, rules in _by_name(groups).items():
        for alert in rules:
            if not alert.action:
                raise ValueError(f"alert {name} ({alert.severity}) has no action for the README")
            rows.append(
                f"| [`{name}`](#{name.lower()}) | {alert.severity} | "
                f"{alert.condition}, {_for(alert)} | {alert.action} |"
            )
    return "\n".join(rows)


def runbooks(groups: Sequence[Group]) -> str:
    sections = []
    for name, rules in _by_name(groups).items():
        texts = {(a.description, a.runbook) for a in rules}
        if len(texts) != 1:
            raise ValueError(f"the rules named {name} disagree on description or runbook")
        ((description, runbook),) = texts
        levels = "; ".join(f"*{a.severity}*: {a.condition}, {_for(a)}" for a in rules)
        sections.append(f"#### {name}\n\n{levels}.\n\n{description}\n\n{runbook}")
    return "\n\n".join(sections)


def recording_table(groups: Sequence[Group]) -> str:
    rows = ["| recording rule | what it holds |", "|---|---|"]
    for group in groups:
        rows += [f"| `{rule.record}` | {rule.doc} |" for rule in group.recordings]
    return "\n".join(rows)
