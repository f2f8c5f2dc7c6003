"""What ``otelmetrics demo`` was asked for, and the tokens it generated for this run."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DemoOptions", "ScheduledScenario", "Tokens"]


@dataclass(frozen=True)
class ScheduledScenario:
    """``--scenario NAME [--at SECONDS] [--for SECONDS]``: start ``at`` s after start."""

    name: str
    at: float = 0.0
    duration: float | None = None


@dataclass(frozen=True)
class DemoOptions:
    """What ``otelmetrics demo`` was asked for (ports 0 pick free ones)."""

    host: str = "127.0.0.1"
    dashboard_port: int = 8050
    api_port: int = 8051
    seed: int | None = None
    duration: float | None = None
    scenarios: tuple[ScheduledScenario, ...] = ()
    traffic: bool = True


@dataclass(frozen=True)
class Tokens:
    """The JSON API tokens the demo generated for this run (to print), None when from the env."""

    generated_read: str | None
    generated_admin: str | None
