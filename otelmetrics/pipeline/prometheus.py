"""The Prometheus text endpoint: rendering, access control and the optional own-port server.

A scrape collects from the handle's :class:`~otelmetrics.pipeline.readers.ScrapeReader` and
renders with :mod:`otelmetrics.pipeline.exposition` (the lean tables straight from their
series, :mod:`otelmetrics.pipeline.lean_exposition`): the names and labels Prometheus's OTLP
receiver gives the same data, so the shipped rules and dashboards work on both paths. The
body is gzipped when the scraper sends ``Accept-Encoding: gzip``, as Prometheus does.

``/metrics`` is secure by default: with ``OTELMETRICS_METRICS_TOKEN`` set it needs
``Authorization: Bearer <token>``; without a token it answers loopback clients only, unless
``OTELMETRICS_METRICS_PUBLIC=true`` opens it on purpose (e.g. behind a network policy).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import threading
import zlib
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any, NamedTuple
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from otelmetrics.pipeline.exposition import OPENMETRICS, content_type, render_chunks
from otelmetrics.pipeline.readers import ScrapeReader
from otelmetrics.pipeline.scrape_process import ANSWER_SECONDS
from otelmetrics.settings import Settings

_logger = logging.getLogger(__name__)

UNAUTHORIZED = (
    401,
    b"metrics need 'Authorization: Bearer <OTELMETRICS_METRICS_TOKEN>' (or a loopback client)\n",
)
NOT_ENABLED = (404, b"the prometheus exporter is not enabled (OTEL_METRICS_EXPORTER)\n")
GZIP_BATCH = 1 << 20  # bytes of text joined per call of the compressor


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
        status, body = NOT_ENABLED
        return status, body, "text/plain; charset=utf-8"
    negotiated = content_type(accept)
    data, lean = reader.scrape()
    chunks = render_chunks(data, openmetrics=negotiated == OPENMETRICS, lean=lean)
    return 200, b"".join(chunks), negotiated


class Answer(NamedTuple):
    """A scrape's response: status, body, content type, and ``gzip`` when the body is."""

    status: int
    body: bytes
    content_type: str
    encoding: str | None = None

    def headers(self) -> list[tuple[str, str]]:
        """Content-Type, and Content-Encoding with Vary when the body is compressed."""
        if self.encoding is None:
            return [("Content-Type", self.content_type)]
        return [
            ("Content-Type", self.content_type),
            ("Content-Encoding", self.encoding),
            ("Vary", "Accept-Encoding"),
        ]


def scrape(
    settings: Settings,
    reader: ScrapeReader | None,
    client: str | None,
    authorization: str | None,
    accept: str | None,
    accept_encoding: str | None = None,
    scrape_timeout: str | None = None,
) -> Answer:
    """Access check, then the exposition, gzipped when the scraper accepts it (Prometheus
    does): what both framework adapters and the own-port server serve. A pre-fork server's
    scrape process renders it when there is one, given half of ``scrape_timeout``
    (Prometheus's ``X-Prometheus-Scrape-Timeout-Seconds``); else, or if it fails, this process."""
    if not allowed(settings, client, authorization):
        return Answer(*UNAUTHORIZED, "text/plain; charset=utf-8")
    if reader is None:
        return Answer(*NOT_ENABLED, "text/plain; charset=utf-8")
    negotiated, zipped = content_type(accept), accepts_gzip(accept_encoding)
    openmetrics = negotiated == OPENMETRICS
    collected = reader.collect_own()  # once, whoever renders
    elsewhere = reader.elsewhere
    wait = process_wait(scrape_timeout)
    body = elsewhere(collected, openmetrics, zipped, wait) if elsewhere else None
    if body is None:
        data, lean = reader.combined(collected)
        chunks = render_chunks(data, openmetrics=openmetrics, lean=lean)
        body = gzipped(chunks) if zipped else b"".join(chunks)
    return Answer(200, body, negotiated, "gzip" if zipped else None)


def process_wait(scrape_timeout: str | None) -> float:
    """How long a worker waits for its server's scrape process: half the scraper's timeout
    (the other half is for rendering itself if it must), at most ``ANSWER_SECONDS``."""
    try:
        timeout = float(scrape_timeout or "nan")
    except ValueError:
        return ANSWER_SECONDS
    if not 0 < timeout < float("inf"):
        return ANSWER_SECONDS
    return min(ANSWER_SECONDS, timeout / 2)


def gzipped(chunks: Iterable[bytes]) -> bytes:
    """``chunks`` joined and gzipped, ``GZIP_BATCH`` bytes at a time: level 1, ~45x smaller than
    the text and the fastest level (bench/scrape_series.py); zlib lets the request threads run
    while it compresses, and the uncompressed text is never joined (a long hold of the GIL)."""
    compressor = zlib.compressobj(1, zlib.DEFLATED, 31)  # wbits 31: the gzip format
    out: list[bytes] = []
    batch: list[bytes] = []
    size = 0
    for chunk in chunks:
        batch.append(chunk)
        size += len(chunk)
        if size >= GZIP_BATCH:
            out.append(compressor.compress(b"".join(batch)))
            batch, size = [], 0
    out.append(compressor.compress(b"".join(batch)))
    out.append(compressor.flush())
    return b"".join(out)


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether an Accept-Encoding header allows gzip (``gzip`` or ``*``, not with ``q=0``)."""
    for coding in (accept_encoding or "").lower().split(","):
        name, *params = (part.strip() for part in coding.split(";"))
        if name in ("gzip", "*") and not any(_refused(param) for param in params):
            return True
    return False


def _refused(param: str) -> bool:
    key, _, value = param.partition("=")
    try:
        return key.strip() == "q" and float(value) == 0
    except ValueError:
        return False


def wsgi_app(settings: Settings, reader: ScrapeReader) -> Callable[..., Iterable[bytes]]:
    """A WSGI app that serves the scrape on any path (used for the own-port server)."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        answer = scrape(
            settings,
            reader,
            environ.get("REMOTE_ADDR"),
            environ.get("HTTP_AUTHORIZATION"),
            environ.get("HTTP_ACCEPT"),
            environ.get("HTTP_ACCEPT_ENCODING"),
            environ.get("HTTP_X_PROMETHEUS_SCRAPE_TIMEOUT_SECONDS"),
        )
        headers = [*answer.headers(), ("Content-Length", str(len(answer.body)))]
        start_response(f"{answer.status} {'OK' if answer.status == 200 else 'Error'}", headers)
        return [answer.body]

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
