"""A pre-fork server's scrape process: renders ``/metrics`` from the workers' files.

``python -m otelmetrics.pipeline.scrape_server DIRECTORY`` — started by the first worker that
answers a scrape (:class:`otelmetrics.pipeline.scrape_process.ScrapeProcess`), one per server.
It runs at the lowest CPU priority (Linux's ``SCHED_IDLE``, else ``nice`` 19), so a busy
core runs the workers' requests first and the scrape takes the time they leave; it never holds
a worker's GIL. On a core that requests saturate, the worker stops waiting after half the
scraper's timeout (at most 5 s) and renders the scrape itself. It answers on
``DIRECTORY/scrape.sock``, one scrape at a time, with what the worker would have rendered
(:func:`otelmetrics.pipeline.worker_scrape.server_scrape`), gzipped when asked, keeping the
series' label texts and the arenas' parsed keys between scrapes. It exits once the server is
gone (or its socket: the directory removed, a newer process in its place) or after
:data:`IDLE_SECONDS` without a scrape (the next scrape starts another).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from opentelemetry.sdk.resources import Resource

import otelmetrics.pipeline.metrics_json as metrics_json
from otelmetrics.pipeline.exposition import render_chunks
from otelmetrics.pipeline.lean_exposition import LeanText
from otelmetrics.pipeline.prometheus import gzipped
from otelmetrics.pipeline.scrape_process import FAILED, OK, SOCKET, ScrapeRequest, receive, send
from otelmetrics.pipeline.server_directory import ServerDirectory, server_alive, server_of
from otelmetrics.pipeline.worker_scrape import server_scrape

__all__ = ["IDLE_SECONDS", "lowest_priority", "main", "render"]

_logger = logging.getLogger("otelmetrics.scrape_server")

IDLE_SECONDS = 600.0
CHECK_SECONDS = 1.0  # how often it looks whether the server still runs


def render(server: ServerDirectory, text: LeanText, request: ScrapeRequest, own: bytes) -> bytes:
    """The body a worker would render for ``request``, its gauges ``own``."""
    resource = Resource(request["resource"], request["schema_url"])
    gauges = metrics_json.loads(own) if own else None
    data, lean = server_scrape(server, text, gauges, resource, asking=request["pid"])
    chunks = render_chunks(data, openmetrics=request["openmetrics"], lean=lean)
    return gzipped(chunks) if request["gzip"] else b"".join(chunks)


def lowest_priority() -> None:
    """Run only when nothing else wants the CPU (``SCHED_IDLE``); where the system refuses it,
    ``nice`` 19. A woken request thread preempts an idle-class task at once, where under a nice
    value it may wait for the scrape's time slice to end."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        with contextlib.suppress(OSError):
            os.nice(19)


def main(argv: list[str] | None = None) -> int:
    """Serve the scrapes of the server whose directory is ``argv[0]`` until it is gone."""
    logging.basicConfig(format="%(asctime)s %(name)s %(levelname)s %(message)s")
    directory = Path((sys.argv[1:] if argv is None else argv)[0])
    lowest_priority()
    named = server_of(directory)
    if named is None:
        raise SystemExit(f"{directory}: not a server's directory (<master pid>-<its start>)")
    server = ServerDirectory(directory, named[0], worker=False)
    text = LeanText()
    with _listening(directory / SOCKET) as (listener, still_ours):
        last = time.monotonic()
        while still_ours() and server_alive(directory) and time.monotonic() - last < IDLE_SECONDS:
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            with connection:
                _answer(connection, server, text)
            last = time.monotonic()
    return 0


def _answer(connection: socket.socket, server: ServerDirectory, text: LeanText) -> None:
    """Answer one scrape; a failure is logged and answered, never the end of the process."""
    connection.settimeout(CHECK_SECONDS * 5)
    try:
        _, request = receive(connection)
        _, own = receive(connection)
        body = render(server, text, json.loads(request), own)
    except Exception as exc:
        _logger.exception("rendering a scrape of %s failed", server.directory)
        with contextlib.suppress(OSError):
            send(connection, FAILED, repr(exc).encode())
        return
    with contextlib.suppress(OSError):  # the worker gave up waiting: its loss, not ours
        send(connection, OK, body)


@contextlib.contextmanager
def _listening(path: Path) -> Iterator[tuple[socket.socket, Callable[[], bool]]]:
    """A Unix socket listening at ``path`` (replacing a dead process's), and whether ``path``
    is still this socket (not removed with its directory, not taken by a newer process);
    removed at the end if it is."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    path.unlink(missing_ok=True)
    listener.bind(str(path))
    listener.listen(16)
    listener.settimeout(CHECK_SECONDS)
    bound = path.stat().st_ino

    def still_ours() -> bool:
        try:
            return path.stat().st_ino == bound
        except OSError:
            return False

    try:
        yield listener, still_ours
    finally:
        listener.close()
        if still_ours():
            path.unlink(missing_ok=True)


if __name__ == "__main__":
    raise SystemExit(main())
