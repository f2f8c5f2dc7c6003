"""Every rule group, in the order the files list them."""

from __future__ import annotations

from tools.rules import clients, crypto_bot, http, pipeline, services, trading
from tools.rules.model import Alert, Group

GROUPS: tuple[Group, ...] = (
    *http.GROUPS,
    *clients.GROUPS,
    *services.GROUPS,
    *trading.GROUPS,
    *crypto_bot.GROUPS,
    *pipeline.GROUPS,
)


def alerts() -> tuple[Alert, ...]:
    """Every alerting rule, in file order."""
    return tuple(alert for group in GROUPS for alert in group.alerts)
