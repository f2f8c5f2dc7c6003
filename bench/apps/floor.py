"""The *floor*: what any request-timing middleware pays, and a pass-through layer.

``WsgiFloor`` / ``AsgiFloor`` read the clock twice around the app and add the duration to one
total under a lock: the least a timing middleware can do. ``WsgiPass`` / ``AsgiPass`` are one
layer that does nothing. ``profile_path.py`` measures them in-process; ``http_bench.py`` serves
the floor over HTTP as the ``floor`` variant of ``flask_app.py`` and ``fastapi_app.py``.
"""

from __future__ import annotations

import threading
import time
from typing import Any


class _Floor:
    """Two clock reads and one locked add: the least a timing middleware can do."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.total = 0.0
        self.count = 0

    def add(self, seconds: float) -> None:
        with self.lock:
            self.total += seconds
            self.count += 1


class WsgiPass:
    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.app(environ, start_response)


class WsgiFloor(WsgiPass):
    def __init__(self, app: Any) -> None:
        super().__init__(app)
        self.floor = _Floor()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        started = time.perf_counter()
        body = self.app(environ, start_response)
        self.floor.add(time.perf_counter() - started)
        return body


class AsgiPass:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


class AsgiFloor(AsgiPass):
    def __init__(self, app: Any) -> None:
        super().__init__(app)
        self.floor = _Floor()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        started = time.perf_counter()
        await self.app(scope, receive, send)
        self.floor.add(time.perf_counter() - started)
