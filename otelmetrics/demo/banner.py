"""What the demo prints on start: its URLs, how to authenticate, the scenarios, the export."""

from __future__ import annotations

from typing import TYPE_CHECKING

from otelmetrics.demo.control import PREFIX
from otelmetrics.demo.options import DemoOptions, Tokens
from otelmetrics.demo.scenarios import SCENARIOS

if TYPE_CHECKING:
    from otelmetrics.demo.app import DemoService

__all__ = ["banner"]


def banner(service: DemoService, options: DemoOptions, seed: int, tokens: Tokens) -> str:
    """The start-up text (tokens included only when the demo generated them)."""
    settings = service.handle.settings
    dash, api = service.dashboard_url, service.api_url
    lines = [
        f"otelmetrics trading demo (seed {seed}: rerun with --seed {seed})",
        f"  dashboard (Flask + Socket.IO)   {dash}/",
        f"  trading API (FastAPI)           {api}/docs",
        f"  websocket price feed            {api.replace('http', 'ws', 1)}/ws/prices/BTC-USD",
        f"  live metrics page               {dash}{settings.dashboard_path}",
        f"  JSON API                        {dash}{settings.api_prefix}/current  (and on {api})",
        f"  trading and operations views    {dash}{settings.api_prefix}/trading, /status, "
        "/errors, /security, /performance, /dashboard-data",
        f"  live stream (SSE)               {dash}{settings.api_prefix}/sse/metrics  "
        f"(metrics_update, {settings.sse_feed_event}, heartbeat)",
        f"  Prometheus                      {dash}{settings.metrics_path}  (and on {api})",
        f"  OTLP export                     {_otlp(service)}",
        *_auth(tokens, settings.metrics_token is not None),
        f"  scenarios: {', '.join(SCENARIOS)}",
        f'    curl -X POST -H "Authorization: Bearer $ADMIN" {dash}{PREFIX}/error_burst',
        *_scheduled(options),
        f"  load generator: {'on' if options.traffic else 'off (--no-traffic)'}"
        + (f"; stopping after {options.duration:g} s" if options.duration else "; Ctrl-C stops"),
    ]
    return "\n".join(lines)


def _otlp(service: DemoService) -> str:
    settings = service.handle.settings
    if "otlp" not in settings.resolved_exporters:
        return "off (set OTEL_EXPORTER_OTLP_ENDPOINT to push to a collector)"
    endpoint = settings.otlp_metrics_endpoint or settings.otlp_endpoint
    return f"on: {endpoint} ({settings.otlp_protocol}) every {settings.export_interval:g} s"


def _auth(tokens: Tokens, metrics_token: bool) -> list[str]:
    scrape = (
        "  /metrics: Authorization: Bearer $OTELMETRICS_METRICS_TOKEN"
        if metrics_token
        else "  /metrics: loopback clients (set OTELMETRICS_METRICS_TOKEN for others)"
    )
    read = f"={tokens.generated_read}" if tokens.generated_read else ": OTELMETRICS_API_TOKEN"
    admin = tokens.generated_admin
    return [
        "  JSON API and scenarios: bearer tokens (generated ones are for this run only and "
        "never stored):",
        f"    READ{read}",
        f"    ADMIN={admin}" if admin else "    ADMIN: OTELMETRICS_API_ADMIN_TOKEN",
        scrape,
    ]


def _scheduled(options: DemoOptions) -> list[str]:
    return [
        f"  scheduled: {s.name} at {s.at:g} s"
        + (f" for {s.duration:g} s" if s.duration else f" for {SCENARIOS[s.name].duration:g} s")
        for s in options.scenarios
    ]
