"""A local upstream for the HTTP client tests: 200s, 503s, a slow path, and a refused port."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SLOW_SECONDS = 1.0  # the slow path's delay; the clients time out after TIMEOUT
TIMEOUT = 0.2


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802
        self._answer()

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer()

    def _answer(self) -> None:
        if self.path.startswith("/slow"):
            time.sleep(SLOW_SECONDS)
        status = 503 if self.path.startswith("/fail") else 200
        body = b"unavailable" if status == 503 else b"ok" * 10
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the client timed out and went away
            pass

    def log_message(self, *args: Any) -> None:
        pass


class Upstream:
    """A threaded HTTP server on 127.0.0.1, and a port nothing listens on."""

    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.refused_port = _free_port()
        self.refused_url = f"http://127.0.0.1:{self.refused_port}/ok"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
