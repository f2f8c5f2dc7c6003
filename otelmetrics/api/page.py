"""The live page: one HTML document with its script and style inlined, served as package data.

The page holds no data. It reads ``<prefix>/dashboard-data`` (who answers, the trading and feed
panels), ``<prefix>/current``, ``<prefix>/history`` (5-second or 1-minute resolution) and
``<prefix>/routes`` (the per-route table), then follows ``<prefix>/sse/metrics`` with ``fetch()``
and a stream reader (so it can send the ``Authorization`` header; no token ever goes in a URL):
``metrics_update`` feeds the KPI cards and the charts' live point, the feed event
(``kraken_metrics``) the feed figures and the circuit-breaker banner. It polls ``/current`` when
the stream cannot stay open (for good on a server that cannot stream), and refreshes the rest on
its own timers. With a stats directory it shows the service-wide cards (``scope=service``).
When the API answers 401 it asks for a token and keeps it in ``sessionStorage``; an authorize
hook that admits the app's own session needs no token.

A strict Content-Security-Policy allows exactly the inlined script and style (by hash) and
requests to this origin only: no CDN, nothing external.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from functools import lru_cache
from importlib.resources import files

from otelmetrics.api.call import ApiResponse, Call
from otelmetrics.settings import DEFAULT_THRESHOLDS, Settings

__all__ = ["dashboard", "render"]

_STATIC = files("otelmetrics.api") / "static"
# The circuit-breaker banner shows from a trip until this long after the last one (as the
# crypto-ai-bot dashboard had it);
# ``?breaker_window=<seconds>`` on the page's URL overrides it (a demo, a test).
BREAKER_WINDOW_MS = 60_000
# The configured thresholds the charts draw (dashed) and the route table marks.
DRAWN_THRESHOLDS = ("error_rate_pct", "latency_p99_ms", "memory_usage_pct", "cpu_usage_pct")


def dashboard(call: Call) -> ApiResponse:
    """The live page, at ``settings.dashboard_path``; it reads no metrics itself."""
    html, headers = render(call.settings)
    return ApiResponse(200, html, "text/html; charset=utf-8", headers)


def render(settings: Settings) -> tuple[bytes, tuple[tuple[str, str], ...]]:
    """The page for these settings and its response headers (CSP included)."""
    drawn = tuple(
        (name, float(settings.thresholds.get(name, DEFAULT_THRESHOLDS[name])))
        for name in DRAWN_THRESHOLDS
    )
    return _render(
        settings.api_prefix.rstrip("/"),
        drawn,
        settings.sse_interval,
        settings.history_minutes,
        settings.sse_feed_event,
    )


@lru_cache(maxsize=8)
def _render(
    api: str,
    thresholds: tuple[tuple[str, float], ...],
    interval: float,
    history_minutes: int,
    feed_event: str,
) -> tuple[bytes, tuple[tuple[str, str], ...]]:
    error_threshold = dict(thresholds)["error_rate_pct"]
    config = {
        "api": api,
        "thresholds": dict(thresholds),
        "interval_ms": max(250, round(interval * 1000)),
        "history_minutes": history_minutes,
        "feed_event": feed_event,
        "breaker_window_ms": BREAKER_WINDOW_MS,
    }
    script = (_STATIC / "dashboard.js").read_text(encoding="utf-8")
    style = (_STATIC / "dashboard.css").read_text(encoding="utf-8")
    document = (_STATIC / "dashboard.html").read_text(encoding="utf-8")
    document = document.replace("{{config}}", json.dumps(config).replace("</", "<\\/"))
    document = document.replace("{{threshold}}", html.escape(f"{error_threshold:g}"))
    document = document.replace("{{style}}", style).replace("{{script}}", script)
    return document.encode(), _headers(script, style)


def _headers(script: str, style: str) -> tuple[tuple[str, str], ...]:
    policy = "; ".join(
        (
            "default-src 'none'",
            f"script-src '{_sha256(script)}'",
            f"style-src '{_sha256(style)}'",
            "connect-src 'self'",
            "img-src 'self' data:",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        )
    )
    return (
        ("Content-Security-Policy", policy),
        ("Cache-Control", "no-store"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
    )


def _sha256(text: str) -> str:
    digest = hashlib.sha256(text.encode()).digest()
    return "sha256-" + base64.b64encode(digest).decode()
