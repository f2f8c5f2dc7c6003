"""The demo's built-in load generator: HTTP clients, websocket clients and a Socket.IO client.

About 12 requests/s over both apps (7 in 10 of them with an ``X-User-Id`` of five traders, so
``app.users.active`` counts them; some POST a JSON body, so request sizes are recorded; about
1 in 100 asks for an unknown pair or strategy and gets a 404), two websocket clients on
``/ws/prices/{pair}`` that stay 2-6 s, send ``ping`` now and then and come back, and one
Socket.IO client on the dashboard (long-polling) that subscribes to a pair and asks for
``request_metrics``. While the ``auth_failures`` scenario runs, one more client tries a wrong
bearer token on the JSON API and the scenario endpoint twice a second. Every client thread
draws its choices from its own ``random.Random`` derived from the demo's seed; when requests
happen is real time.
"""

from __future__ import annotations

import http.client
import json
import logging
import random
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["LoadGenerator", "Targets"]

_logger = logging.getLogger(__name__)

USERS = tuple(f"trader-{n}" for n in range(1, 6))
PAIRS = ("BTC-USD", "ETH-USD", "SOL-USD")
HTTP_WORKERS = 4
WEBSOCKET_CLIENTS = 2
INTRUDER_SECONDS = 0.5  # auth_failures: one wrong token every half second


@dataclass(frozen=True)
class Targets:
    """Where the clients go: the two apps' base URLs and the read token of the JSON API."""

    dashboard: str
    api: str
    read_token: str | None = None


# (weight, app, method, path); {pair} is filled in per request.
REQUESTS = (
    (3.0, "dashboard", "GET", "/api/portfolio"),
    (3.0, "dashboard", "GET", "/api/prices"),
    (1.0, "dashboard", "GET", "/api/strategies/momentum"),
    (0.1, "dashboard", "GET", "/api/strategies/breakout"),  # 404
    (0.5, "dashboard", "GET", "/"),
    (4.0, "api", "GET", "/v1/prices/{pair}"),
    (0.1, "api", "GET", "/v1/prices/DOGE-USD"),  # 404
    (2.0, "api", "GET", "/v1/portfolio"),
    (0.6, "api", "POST", "/v1/orders"),
    (0.3, "dashboard", "GET", "/api/metrics/current"),  # the JSON API, with the read token
)


class LoadGenerator:
    """Client threads against ``targets`` until ``stop`` is set.

    Args:
        targets: The apps.
        seed: Seeds each client's own random source.
        stop: Set it to stop every client.
        rate: HTTP requests per second over all HTTP workers.
        active: ``active(name)``: whether a scenario runs now (``auth_failures``).
    """

    def __init__(
        self,
        targets: Targets,
        *,
        seed: int,
        stop: threading.Event,
        rate: float = 12.0,
        active: Callable[[str], bool] = lambda name: False,
    ) -> None:
        self.targets = targets
        self.seed = seed
        self.stop = stop
        self.rate = rate
        self.active = active
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start every client thread (daemons: they never hold the process up)."""
        clients: list[tuple[str, Callable[[random.Random], None]]] = [
            *((f"http-{n}", self._http) for n in range(HTTP_WORKERS)),
            *((f"websocket-{n}", self._websocket) for n in range(WEBSOCKET_CLIENTS)),
            ("socketio", self._socketio),
            ("intruder", self._intruder),
        ]
        for index, (name, client) in enumerate(clients):
            rng = random.Random(self.seed * 1000 + index)
            thread = threading.Thread(
                target=client, args=(rng,), name=f"otelmetrics-demo-load-{name}", daemon=True
            )
            thread.start()
            self.threads.append(thread)

    def join(self, timeout: float) -> None:
        """Wait up to ``timeout`` s in all for the clients to finish (after ``stop``)."""
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _http(self, rng: random.Random) -> None:
        weights = [weight for weight, *_ in REQUESTS]
        while not self.stop.wait(rng.expovariate(self.rate / HTTP_WORKERS)):
            _, app, method, path = rng.choices(REQUESTS, weights)[0]
            base = self.targets.dashboard if app == "dashboard" else self.targets.api
            request = urllib.request.Request(
                base + path.format(pair=rng.choice(PAIRS)), method=method
            )
            if rng.random() < 0.7:
                request.add_header("X-User-Id", rng.choice(USERS))
            if path.startswith("/api/metrics") and self.targets.read_token:
                request.add_header("Authorization", f"Bearer {self.targets.read_token}")
            if method == "POST":
                order = {"pair": rng.choice(PAIRS), "side": rng.choice(("buy", "sell"))}
                request.data = json.dumps({**order, "quantity": 0.01}).encode()
                request.add_header("Content-Type", "application/json")
            _fetch(request)

    def _websocket(self, rng: random.Random) -> None:
        from websockets.exceptions import WebSocketException
        from websockets.sync.client import connect

        base = "ws" + self.targets.api.removeprefix("http")
        while not self.stop.is_set():
            url = f"{base}/ws/prices/{rng.choice(PAIRS)}"
            try:
                with connect(url, open_timeout=5, close_timeout=1) as websocket:
                    until = time.monotonic() + rng.uniform(2.0, 6.0)
                    while time.monotonic() < until and not self.stop.is_set():
                        websocket.recv(timeout=2)
                        if rng.random() < 0.3:
                            websocket.send("ping")
            except (OSError, TimeoutError, WebSocketException) as exc:
                _logger.debug("websocket client: %s", exc)
            self.stop.wait(rng.uniform(0.2, 1.0))

    def _socketio(self, rng: random.Random) -> None:
        import socketio  # type: ignore[import-untyped]

        while not self.stop.is_set():
            client = socketio.Client(reconnection=False, handle_sigint=False)
            try:
                client.connect(
                    self.targets.dashboard,
                    transports=["polling"],
                    headers={"X-User-Id": rng.choice(USERS)},
                    wait_timeout=5,
                )
                client.emit("subscribe", {"pair": rng.choice(PAIRS)})
                client.emit("request_metrics")
                self.stop.wait(rng.uniform(2.0, 5.0))
            except (OSError, socketio.exceptions.SocketIOError) as exc:
                _logger.debug("Socket.IO client: %s", exc)
            finally:
                client.disconnect()
            self.stop.wait(rng.uniform(0.5, 1.5))

    def _intruder(self, rng: random.Random) -> None:
        paths = ("/api/metrics/current", "/api/demo/scenarios")
        while not self.stop.wait(INTRUDER_SECONDS):
            if self.active("auth_failures"):
                request = urllib.request.Request(self.targets.dashboard + rng.choice(paths))
                request.add_header("Authorization", f"Bearer {rng.randbytes(12).hex()}")
                _fetch(request)


def _fetch(request: urllib.request.Request) -> None:
    """Send one request; errors (500s during an error burst, refused connections) are data."""
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        exc.read()
        exc.close()
    except (OSError, TimeoutError, http.client.HTTPException) as exc:  # IncompleteRead too
        _logger.debug("load generator: %s %s: %s", request.get_method(), request.full_url, exc)
