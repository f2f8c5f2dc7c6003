"""The demo's two servers in background threads: Werkzeug (threaded) and uvicorn.

Both bind when created, so port 0 gives a free port that :attr:`port` reports, and a port in
use fails at once with the fix in the message.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Any

__all__ = ["UvicornServer", "WerkzeugServer"]

_logger = logging.getLogger(__name__)


def _resolvable(host: str) -> None:
    """Fail with the fix when ``host`` names no address (the bind would say "in use")."""
    try:
        socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError as exc:
        message = f"otelmetrics demo: --host {host!r} is no address of this machine ({exc})"
        raise SystemExit(f"{message}; pass --host 127.0.0.1, ::1 or 0.0.0.0") from None


def _in_use(what: str, host: str, port: int, flag: str, exc: OSError) -> SystemExit:
    return SystemExit(
        f"otelmetrics demo: cannot serve the {what} on {host}:{port} ({exc.strerror}); "
        f"pass {flag} 0 for a free port"
    )


class WerkzeugServer:
    """A WSGI app on Werkzeug's threaded server (one thread per request, as Socket.IO needs)."""

    def __init__(self, app: Any, host: str, port: int, *, flag: str = "--flask-port") -> None:
        from werkzeug.serving import make_server

        _resolvable(host)
        try:
            self._server = make_server(host, port, app, threaded=True)
        except OSError as exc:
            raise _in_use("dashboard", host, port, flag, exc) from None
        except SystemExit:  # Werkzeug prints why (the port is in use) and exits
            raise _in_use("dashboard", host, port, flag, OSError(0, "in use")) from None
        self.port: int = self._server.port
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="otelmetrics-demo-flask", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        if self._thread.is_alive():  # shutdown() would wait forever for a loop never started
            self._server.shutdown()
            self._thread.join(5)
        self._server.server_close()


class UvicornServer:
    """An ASGI app on uvicorn in a thread (uvicorn installs no signal handlers off the main
    thread); closing it ends open websockets and waits at most ``grace`` seconds."""

    def __init__(
        self, app: Any, host: str, port: int, *, flag: str = "--api-port", grace: float = 2.0
    ) -> None:
        import uvicorn

        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,  # keep the demo's logging setup
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=int(grace),
        )
        _resolvable(host)
        try:
            self._socket = config.bind_socket()
        except SystemExit:  # uvicorn logs why (the port is in use) and exits
            raise _in_use("API", host, port, flag, OSError(0, "in use")) from None
        self.port: int = self._socket.getsockname()[1]
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name="otelmetrics-demo-uvicorn",
            daemon=True,
        )

    def start(self, timeout: float = 10.0) -> None:
        """Start serving; returns once uvicorn accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started and self._thread.is_alive():
            if time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start within {timeout:.0f}s")
            time.sleep(0.02)

    def close(self) -> None:
        self._server.should_exit = True
        if self._thread.ident is not None:
            self._thread.join(10)
        self._socket.close()
