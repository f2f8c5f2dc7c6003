"""The scenario endpoints, framework-neutral: both demo apps answer with the same bytes.

- ``GET /api/demo/scenarios``: every scenario and its window (read role);
- ``POST /api/demo/scenarios/{name}[?duration=SECONDS]``: start one now (admin role).

Roles follow the JSON API's rule (:func:`otelmetrics.auth.role_for`: bearer tokens
``OTELMETRICS_API_TOKEN`` / ``OTELMETRICS_API_ADMIN_TOKEN``): no role 401, read role on the
admin endpoint 403, then 404 for an unknown name and 400 for a bad duration. A started
scenario answers 202 with its window on the simulation clock. Every 401 and 403 is reported
to ``on_denied`` (the demo records it as a security event, like the JSON API's denials).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from otelmetrics.auth import FORBIDDEN, UNAUTHORIZED, RequestInfo, Role, role_for
from otelmetrics.demo.scenarios import MAX_DURATION, SCENARIOS, Scenarios
from otelmetrics.settings import Settings

__all__ = ["PREFIX", "Control", "Denied", "Reply"]

PREFIX = "/api/demo/scenarios"
# on_denied(status, client, path, token_presented)
Denied = Callable[[int, "str | None", str, bool], None]


@dataclass(frozen=True)
class Reply:
    """A JSON answer: status and body."""

    status: int
    body: dict[str, Any]


class Control:
    """Lists and starts scenarios for requests that hold the right role.

    Args:
        settings: The handle's settings (tokens, ``api_public``).
        scenarios: The board to start scenarios on.
        clock: The simulation clock.
        on_denied: Called with (status, client, path, token presented) for each 401 and 403.
    """

    def __init__(
        self,
        settings: Settings,
        scenarios: Scenarios,
        clock: Callable[[], float],
        *,
        on_denied: Denied | None = None,
    ) -> None:
        self.settings = settings
        self.scenarios = scenarios
        self.clock = clock
        self.on_denied = on_denied

    def list(self, headers: Mapping[str, str], client: str | None) -> Reply:
        """``GET /api/demo/scenarios``."""
        denied = self._denied("GET", PREFIX, headers, client, "read")
        if denied is not None:
            return denied
        now = self.clock()
        return Reply(200, {"success": True, "now": now, "scenarios": self.scenarios.status(now)})

    def trigger(
        self,
        name: str,
        headers: Mapping[str, str],
        client: str | None,
        duration: str | None = None,
    ) -> Reply:
        """``POST /api/demo/scenarios/{name}``, with an optional ``duration`` query parameter."""
        denied = self._denied("POST", f"{PREFIX}/{name}", headers, client, "admin")
        if denied is not None:
            return denied
        if name not in SCENARIOS:
            return Reply(404, {"error": f"unknown scenario {name!r}", "scenarios": [*SCENARIOS]})
        try:
            seconds = None if duration is None else float(duration)
        except ValueError:
            return _bad_duration(name, duration)
        try:
            window = self.scenarios.trigger(name, self.clock(), seconds)
        except ValueError:
            return _bad_duration(name, duration)
        scenario = SCENARIOS[name]
        body = {"success": True, **window.as_dict(), "effect": scenario.effect}
        return Reply(202, {**body, "signal": scenario.signal})

    def _denied(
        self, method: str, path: str, headers: Mapping[str, str], client: str | None, need: Role
    ) -> Reply | None:
        lowered = {key.lower(): value for key, value in headers.items()}
        role = role_for(self.settings, None, RequestInfo(method, path, client, lowered))
        if role is None:
            reply = Reply(401, dict(UNAUTHORIZED))
        elif need == "admin" and role != "admin":
            reply = Reply(403, dict(FORBIDDEN))
        else:
            return None
        if self.on_denied is not None:
            presented = bool(lowered.get("authorization", "").strip())
            self.on_denied(reply.status, client, path, presented)
        return reply


def _bad_duration(name: str, duration: str | None) -> Reply:
    """400 naming the ``duration`` parameter, the value given and what it allows."""
    scenario = SCENARIOS[name]
    fix = f"use a number of seconds in (0, {MAX_DURATION:.0f}], e.g. {scenario.duration:g}"
    given = (duration or "")[:40]
    body = {"error": f"duration={given!r} is invalid: {fix}", "parameter": "duration"}
    return Reply(400, {**body, "allowed": {"min_exclusive": 0, "max": MAX_DURATION}})
