"""The running demo service: the simulation, both apps and servers, the driver and the load.

Usage (what :func:`otelmetrics.demo.service.run` does)::

    service = DemoService(handle, Scenarios(), seed=7, host="127.0.0.1")
    service.start(8050, 8051)            # 0, 0: free ports, see service.dashboard_url
    ...
    service.close()
"""

from __future__ import annotations

import threading

from otelmetrics import MetricsHandle
from otelmetrics.demo.control import Control
from otelmetrics.demo.dashboard import create_dashboard, start_price_broadcast
from otelmetrics.demo.faults import HttpFaults
from otelmetrics.demo.load import LoadGenerator, Targets
from otelmetrics.demo.scenarios import Scenarios
from otelmetrics.demo.servers import UvicornServer, WerkzeugServer
from otelmetrics.demo.simulation import Driver, Simulation
from otelmetrics.demo.trading_api import create_api
from otelmetrics.socketio import uninstrument_socketio

__all__ = ["DemoService", "client_host"]


class DemoService:
    """Everything of one demo run, recording into one handle.

    Attributes:
        stop: Set to stop the driver, the broadcasts and the load generator.
        simulation: The simulated trading service (its clock drives the scenarios).
    """

    def __init__(
        self, handle: MetricsHandle, scenarios: Scenarios, *, seed: int, host: str
    ) -> None:
        self.handle = handle
        self.host = host
        self.stop = threading.Event()
        self.simulation = Simulation(
            handle.trading, seed=seed, scenarios=scenarios, errors=handle.events.record_error
        )
        self.faults = HttpFaults(scenarios, self.now)
        self.control = Control(handle.settings, scenarios, self.now, on_denied=self._denied)
        self.dashboard, self.socketio = create_dashboard(
            self.simulation, self.faults, self.control, handle
        )
        self.api = create_api(self.simulation, self.faults, self.control, handle)
        self._servers: list[WerkzeugServer | UvicornServer] = []
        self._load: LoadGenerator | None = None

    def now(self) -> float:
        """The simulation clock."""
        return self.simulation.now

    def active(self, name: str) -> bool:
        """Whether scenario ``name`` runs now."""
        return self.simulation.scenarios.active(name, self.now())

    def _denied(self, status: int, client: str | None, path: str, presented: bool) -> None:
        events = self.handle.events
        events.record_denial(status, client=client, path=path, token_presented=presented)

    def start(self, dashboard_port: int, api_port: int, *, traffic: bool = True) -> None:
        """Bind and serve both apps, start the simulation and (with ``traffic``) the load."""
        flask_server = WerkzeugServer(self.dashboard, self.host, dashboard_port)
        self._servers.append(flask_server)
        api_server = UvicornServer(self.api, self.host, api_port)
        self._servers.append(api_server)
        self.dashboard_port, self.api_port = flask_server.port, api_server.port
        flask_server.start()
        api_server.start()
        Driver(self.simulation, self.stop).start()
        start_price_broadcast(self.socketio, self.simulation, self.stop)
        if traffic:
            targets = Targets(self.dashboard_url, self.api_url, self.handle.settings.api_token)
            self._load = LoadGenerator(
                targets, seed=self.simulation.seed, stop=self.stop, active=self.active
            )
            self._load.start()

    @property
    def dashboard_url(self) -> str:
        return f"http://{client_host(self.host)}:{self.dashboard_port}"

    @property
    def api_url(self) -> str:
        return f"http://{client_host(self.host)}:{self.api_port}"

    def close(self) -> None:
        """Stop the clients first, then the servers (each bounded)."""
        self.stop.set()
        if self._load is not None:
            self._load.join(5)
        uninstrument_socketio(self.socketio)
        self.socketio.server.shutdown()  # Engine.IO's client monitor thread
        for server in reversed(self._servers):
            server.close()


def client_host(host: str) -> str:
    """The address a local client uses for a bind address (``0.0.0.0`` -> ``127.0.0.1``)."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host
