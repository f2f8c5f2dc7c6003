"""The Prometheus text endpoint: rendering, access control and the optional own-port server.

A scrape collects from the handle's :class:`~otelmetrics.pipeline.readers.ScrapeReader` and
renders with :mod:`otelmetrics.pipeline.exposition`: the names and labels Prometheus's OTLP
receiver gives the same data, so the shipped rules and dashboards work on both paths.

``/metrics`` is secure by default: with ``OTELMETRICS_METRICS_TOKEN`` set it needs
``Authorization: Bearer <token>``; without a token it answers loopback clients only, unless
``OTELMETRICS_METRICS_PUBLIC=true`` opens it on purpose (e.g. behind a network policy).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from otelmetrics.pipeline.exposition import OPENMETRICS, content_type
from otelmetrics.pipeline.exposition import render as render_data
from otelmetrics.pipeline.readers import ScrapeReader
from otelmetrics.settings import Settings

_logger = logging.getLogger(__name__)

UNAUTHORIZED = (
    401,
    b"metrics need 'Authorization: Bearer <OTELMETRICS_METRICS_TOKEN>' (or a loopback client)\n",
)
NOT_ENABLED = (404, b"the prometheus exporter is not enabled (OTEL_METRICS_EXPORTER)\n")


def allowed(settings: Settings, client: str | None, authorization: str | None) -> bool:
    """Whether a scrape from ``client`` with this Authorization header may read the metrics."""
    if settings.metrics_token:
        scheme, _, token = (authorization or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            token.strip().encode(), settings.metrics_token.encode()
        )
    return settings.metrics_public or _is_loopback(client)


def _is_loopback(client: str | None) -> bool:
    """An address on this host: 127.0.0.0/8, ::1, or IPv4 loopback as a dual-stack server bound
    to ``[::]`` sees it (``::ffff:127.0.0.1``). Names such as ``localhost`` are not addresses:
    a proxy or a test client could say anything."""
    try:
        address = ipaddress.ip_address(client or "")
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def render(reader: ScrapeReader | None, accept: str | None) -> tuple[int, bytes, str]:
    """(status, body, content type) for a scrape; OpenMetrics when the scraper asks for it."""
    if reader is None:
        return (*NOT_ENABLED, "text/plain; charset=utf-8")
    negotiated = content_type(accept)
    body = render_data(reader.scrape(), openmetrics=negotiated == OPENMETRICS)
    return 200, body, negotiated


def scrape(
    settings: Settings,
    reader: ScrapeReader | None,
    client: str | None,
    authorization: str | None,
    accept: str | None,
) -> tuple[int, bytes, str]:
    """Access check, then :func:`render`; what both framework adapters serve."""
    if not allowed(settings, client, authorization):
        return (*UNAUTHORIZED, "text/plain; charset=utf-8")
    return render(reader, accept)


def wsgi_app(settings: Settings, reader: ScrapeReader) -> Callable[..., Iterable[bytes]]:
    """A WSGI app that serves the scrape on any path (used for the own-port server)."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        status, body, content_type = scrape(
            settings,
            reader,
            environ.get("REMOTE_ADDR"),
            environ.get("HTTP_AUTHORIZATION"),
            environ.get("HTTP_ACCEPT"),
        )
        headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
        start_response(f"{status} {'OK' if status == 200 else 'Error'}", headers)
        return [body]

    return app


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve(settings: Settings, reader: ScrapeReader | None) -> WSGIServer | None:
    """Serve ``reader``'s scrapes on OTEL_EXPORTER_PROMETHEUS_HOST:PORT in a daemon thread.

    Nothing without a port or a reader. A port already in use (another worker got it first)
    is logged, never raised.
    """
    if settings.prometheus_port is None or reader is None:
        return None
    try:
        server = make_server(
            settings.prometheus_host,
            settings.prometheus_port,
            wsgi_app(settings, reader),
            _ThreadingServer,
            handler_class=_QuietHandler,
        )
    except OSError as exc:
        _logger.error(
            "otelmetrics could not serve Prometheus metrics on %s:%s (%s); the in-app %s "
            "endpoint still works",
            settings.prometheus_host,
            settings.prometheus_port,
            exc,
            settings.metrics_path,
        )
        return None
    thread = threading.Thread(
        target=server.serve_forever, name="otelmetrics-prometheus", daemon=True
    )
    thread.start()
    return server
