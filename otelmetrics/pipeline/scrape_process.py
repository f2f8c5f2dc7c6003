"""A pre-fork server's scrape process, as its workers see it: one request, one rendered body.

Rendering ``/metrics`` for thousands of series takes a worker's CPU and its GIL for a good part
of a second, and every request the worker serves meanwhile waits. Under a pre-fork server the
series are in files (:mod:`otelmetrics.core.shared`), so another process can render them: the
server's scrape process (:mod:`otelmetrics.pipeline.scrape_server`), one per server, started by
the first worker that answers a scrape, running at a lower CPU priority. The worker sends its
own gauges and waits on a Unix socket in the server's directory with the GIL released::

    process = ScrapeProcess(directory)
    body = process.render(request, own_gauges_json)   # raises if the process cannot answer

Messages are frames: one byte of kind (:data:`OK`, :data:`FAILED`), eight of length, the bytes.
A request is two frames (the :class:`ScrapeRequest` as JSON, then the worker's gauges as
:mod:`otelmetrics.pipeline.metrics_json`), the answer one (the body, or why it failed).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, TypedDict

__all__ = ["FAILED", "OK", "SOCKET", "ScrapeProcess", "ScrapeRequest", "receive", "send"]

SOCKET = "scrape.sock"
OK, FAILED = 0, 1
START_SECONDS = 10.0  # for a new process to import and listen
ANSWER_SECONDS = 5.0  # at most, for an answer; then the worker renders itself
RETRY_SECONDS = 60.0  # after a process that would not start, before this worker tries again
MAX_FRAME = 1 << 31
_FRAME = struct.Struct("!BQ")
_children: list[subprocess.Popen[bytes]] = []  # started here; reaped once they exit


class ScrapeRequest(TypedDict):
    """What a worker asks the scrape process for."""

    pid: int  # the asking worker (its gauges come with the request, not from its file)
    openmetrics: bool
    gzip: bool
    resource: dict[str, Any]  # the server's resource attributes
    schema_url: str


class ScrapeProcess:
    """The scrape process of the server whose directory is ``directory``, started on demand.

    Args:
        directory: The server's directory (:mod:`otelmetrics.pipeline.server_directory`).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.socket_path = directory / SOCKET
        self._retry_at = 0.0  # no new process before (after one that would not listen)

    def render(self, request: ScrapeRequest, own: bytes, wait: float = ANSWER_SECONDS) -> bytes:
        """The rendered body for ``request``; ``own``: the worker's gauges (may be empty);
        ``wait``: seconds for each part of the answer.

        Raises:
            OSError: The process cannot be reached or started, or did not answer in time.
            RuntimeError: It answered that rendering failed.
        """
        with self._connect() as connection:
            connection.settimeout(wait)
            send(connection, OK, json.dumps(request).encode())
            send(connection, OK, own)
            kind, body = receive(connection)
        if kind != OK:
            raise RuntimeError(f"the scrape process could not render: {body.decode()}")
        return body

    def _connect(self) -> socket.socket:
        with contextlib.suppress(OSError):
            return _connected(self.socket_path)
        with (self.directory / "scrape.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one worker starts it; the others then connect
            with contextlib.suppress(OSError):
                return _connected(self.socket_path)
            return self._start()

    def _start(self) -> socket.socket:
        if time.monotonic() < self._retry_at:
            raise OSError(f"the scrape process would not start; next try in {RETRY_SECONDS:g} s")
        _children[:] = [child for child in _children if child.poll() is None]  # reaped
        self.socket_path.unlink(missing_ok=True)
        started = subprocess.Popen(
            [sys.executable, "-m", "otelmetrics.pipeline.scrape_server", str(self.directory)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            # the worker's interpreter, environment and directory: the same otelmetrics
            start_new_session=True,  # a terminal's Ctrl-C or a worker's exit leave it alone
        )
        _children.append(started)
        deadline = time.monotonic() + START_SECONDS
        while started.poll() is None and time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                return _connected(self.socket_path)
            time.sleep(0.02)
        self._retry_at = time.monotonic() + RETRY_SECONDS
        raise OSError(f"the scrape process did not listen on {self.socket_path}")


def _connected(path: Path) -> socket.socket:
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.connect(str(path))
    except OSError:
        connection.close()
        raise
    return connection


def send(connection: socket.socket, kind: int, payload: bytes) -> None:
    """One frame: the kind, the length, the payload."""
    connection.sendall(_FRAME.pack(kind, len(payload)))
    connection.sendall(payload)


def receive(connection: socket.socket) -> tuple[int, bytes]:
    """One frame's kind and payload.

    Raises:
        OSError: The connection closed or timed out first, or the frame is not one of ours.
    """
    kind, length = _FRAME.unpack(_exactly(connection, _FRAME.size))
    if kind not in (OK, FAILED) or length > MAX_FRAME:
        raise OSError(f"not a scrape frame (kind {kind}, {length} bytes)")
    return kind, _exactly(connection, length)


def _exactly(connection: socket.socket, size: int) -> bytes:
    buffer = bytearray(size)
    view = memoryview(buffer)
    got = 0
    while got < size:
        read = connection.recv_into(view[got:])
        if not read:
            raise OSError("the connection closed mid-frame")
        got += read
    return bytes(buffer)
