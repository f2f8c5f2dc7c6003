"""What every client patch shares: the suppression check, a URL's origin, the caller's template.

Only a URL's origin (scheme, host, port) is ever read into attributes, never its path, query or
user info. ``url.template`` is set by the caller, around the calls it names::

    from otelmetrics import url_template
    with url_template("/api/v3/order/{id}"):
        session.get(f"https://api.exchange.example/api/v3/order/{order_id}")
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlsplit

from opentelemetry.context import (
    _SUPPRESS_HTTP_INSTRUMENTATION_KEY,
    _SUPPRESS_INSTRUMENTATION_KEY,
    get_current,
)

from otelmetrics.core.once import LogOnce
from otelmetrics.instruments.http_client import ClientCall, HttpClientMetrics

__all__ = ["Origin", "Resolve", "finish", "origin", "suppressed", "template", "url_template"]

_logger = logging.getLogger(__name__)
_log_once = LogOnce(_logger, later=None)

Origin = tuple[str | None, int | None, str]  # server.address, server.port, url.scheme
Resolve = Callable[[], HttpClientMetrics | None]  # the metrics to record into, found per call

DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_ORIGIN = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]*)")
_ORIGINS: dict[str, Origin] = {}
_ORIGINS_MAX = 1024
_PLAIN_SUPPRESS_KEY = "suppress_instrumentation"  # the old spelling contrib still honours
_TEMPLATE: ContextVar[str | None] = ContextVar("otelmetrics_url_template", default=None)


def suppressed() -> bool:
    """True inside OpenTelemetry's suppress-instrumentation context: the SDK's periodic reader
    sets it around every export (so the OTLP exporter's own POSTs are never counted), and the
    contrib instrumentations set its HTTP variant around the calls they already measure."""
    context = get_current()
    return bool(
        context.get(_SUPPRESS_INSTRUMENTATION_KEY)
        or context.get(_SUPPRESS_HTTP_INSTRUMENTATION_KEY)
        or context.get(_PLAIN_SUPPRESS_KEY)
    )


def origin(url: str) -> Origin:
    """(host, port, scheme) of an absolute URL; the port defaults by scheme. Cached per origin."""
    match = _ORIGIN.match(url)
    if match is None:
        return (None, None, "http")
    prefix = match.group(0)
    found = _ORIGINS.get(prefix)
    if found is None:
        if len(_ORIGINS) >= _ORIGINS_MAX:
            _ORIGINS.clear()
        found = _ORIGINS[prefix] = _parse(prefix)
    return found


def _parse(prefix: str) -> Origin:
    parts = urlsplit(prefix)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return (parts.hostname or None, port or DEFAULT_PORTS.get(scheme), scheme)


def content_length(value: Any) -> int | None:
    """A Content-Length header's value as an int, or None when absent or malformed."""
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def template() -> str | None:
    """The ``url.template`` the caller set with :func:`url_template`, if any."""
    return _TEMPLATE.get()


@contextmanager
def url_template(value: str) -> Iterator[None]:
    """Record the outgoing calls made inside the block with ``url.template`` = ``value``.

    Args:
        value: A low-cardinality template such as ``/api/v3/order/{id}``, never a real URL.
    """
    token = _TEMPLATE.set(value)
    try:
        yield
    finally:
        _TEMPLATE.reset(token)


def finish(
    metrics: HttpClientMetrics,
    call: ClientCall,
    status: int | None,
    error_type: str | None,
    sizes: tuple[int | None, int | None],
) -> None:
    """:meth:`HttpClientMetrics.finish`, never raising into the caller's request."""
    try:
        metrics.finish(call, status, error_type, sizes[0], sizes[1], _TEMPLATE.get())
    except Exception:
        _log_once("finish", "otelmetrics: recording an outgoing call failed", exc_info=True)
