"""The demo's Flask dashboard with Flask-SocketIO (the BotV2 dashboard's shape,
port 8050 by default).

Routes: ``/`` (the trading page, package data ``static/trading.html``: prices, portfolio,
positions and the breaker, refreshed every 2 s; no CDN, a strict Content-Security-Policy),
``/api/portfolio``, ``/api/prices``, ``/api/strategies/<name>`` (the business routes the
scenarios disturb), the scenario endpoints (:mod:`otelmetrics.demo.control`), and what
otelmetrics adds: ``/metrics``, the JSON API under ``/api/metrics`` and its live page.
Socket.IO: a client may ``subscribe`` to a pair (its room) and receives ``price_update`` events
every second; ``request_metrics`` and the 5 s ``metrics_update`` broadcast come from
:func:`otelmetrics.socketio.instrument_socketio`.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import threading
import time
from collections.abc import Callable
from functools import lru_cache
from importlib.resources import files
from typing import Any

from flask import Flask, Response, jsonify, request
from flask_socketio import SocketIO, emit, join_room  # type: ignore[import-untyped]

import otelmetrics
from otelmetrics import MetricsHandle
from otelmetrics.demo.control import PREFIX, Control, Reply
from otelmetrics.demo.faults import HttpFaults
from otelmetrics.demo.simulation import Simulation
from otelmetrics.socketio import instrument_socketio

__all__ = ["create_dashboard", "start_price_broadcast", "trading_page"]

STRATEGIES = {
    "momentum": {"pairs": ["BTC-USD", "ETH-USD", "SOL-USD"], "cycle_seconds": 0.5},
}
METRICS_BROADCAST_SECONDS = 5.0
_PAGE = files("otelmetrics.demo") / "static" / "trading.html"
_INLINE = re.compile(r"<(script|style)>(.*?)</\1>", re.DOTALL)


def create_dashboard(
    simulation: Simulation, faults: HttpFaults, control: Control, handle: MetricsHandle
) -> tuple[Flask, Any]:
    """The instrumented Flask app and its ``SocketIO`` (threading mode)."""
    app = Flask("otelmetrics_demo_dashboard")
    _business_routes(app, simulation, faults, handle)
    _control_routes(app, control)
    # Instrument before SocketIO wraps the app: Socket.IO's own long-polling requests then stay
    # out of the HTTP metrics (they would read as 25 s requests), counted as websockets instead.
    otelmetrics.instrument(app, handle=handle)
    socketio = SocketIO(app, async_mode="threading")
    instrument_socketio(socketio, handle=handle, broadcast_interval=METRICS_BROADCAST_SECONDS)
    socketio.on_event("subscribe", _subscribe(simulation))
    return app, socketio


def start_price_broadcast(
    socketio: Any, simulation: Simulation, stop: threading.Event, interval: float = 1.0
) -> None:
    """Emit each pair's quote to its room every ``interval`` s until ``stop`` is set."""

    def broadcast() -> None:
        while not stop.wait(interval):
            for pair, quote in simulation.market.quotes.items():
                socketio.emit("price_update", quote.as_dict(), to=pair)

    socketio.start_background_task(broadcast)


@lru_cache(maxsize=4)
def trading_page(live_path: str, metrics_path: str) -> tuple[str, str]:
    """The ``/`` page linking to these paths, and a policy admitting only its inline code."""
    page = _PAGE.read_text(encoding="utf-8")
    page = page.replace("__LIVE_PATH__", html.escape(live_path))
    page = page.replace("__METRICS_PATH__", html.escape(metrics_path))
    hashes: dict[str, list[str]] = {"script": [], "style": []}
    for tag, code in _INLINE.findall(page):
        digest = base64.b64encode(hashlib.sha256(code.encode()).digest()).decode()
        hashes[tag].append(f"'sha256-{digest}'")
    policy = (
        "default-src 'none'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; "
        f"form-action 'none'; frame-ancestors 'none'; script-src {' '.join(hashes['script'])}; "
        f"style-src {' '.join(hashes['style'])}"
    )
    return page, policy


def _disturbed_by(faults: HttpFaults) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A decorator: the view answers late, or with a 500, as the active scenarios say."""

    def disturbed(view: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(**kwargs: Any) -> Any:
            plan = faults.plan()
            time.sleep(plan.delay)
            if plan.error:
                return jsonify(error="simulated error burst"), 500
            return view(**kwargs)

        wrapped.__name__ = view.__name__
        return wrapped

    return disturbed


def _business_routes(
    app: Flask, simulation: Simulation, faults: HttpFaults, handle: MetricsHandle
) -> None:
    disturbed = _disturbed_by(faults)

    @app.get("/")
    def index() -> Response:
        settings = handle.settings
        page, policy = trading_page(settings.dashboard_path, settings.metrics_path)
        response = Response(page, content_type="text/html; charset=utf-8")
        response.headers["Content-Security-Policy"] = policy
        return response

    @app.get("/api/portfolio")
    @disturbed
    def portfolio() -> Any:
        view = simulation.engine.view
        return jsonify(
            time=view.time,
            positions=list(view.positions),
            realized=view.realized,
            wins=view.wins,
            losses=view.losses,
            orders=view.orders,
            trading=handle.trading.snapshot(),
        )

    @app.get("/api/prices")
    @disturbed
    def prices() -> Any:
        return jsonify(quotes=[q.as_dict() for q in simulation.market.quotes.values()])

    @app.get("/api/strategies/<name>")
    @disturbed
    def strategy(name: str) -> Any:
        if name not in STRATEGIES:
            return jsonify(error=f"unknown strategy {name!r}"), 404
        return jsonify(name=name, **STRATEGIES[name])


def _control_routes(app: Flask, control: Control) -> None:
    def answer(reply: Reply) -> Any:
        return jsonify(reply.body), reply.status

    @app.get(PREFIX)
    def scenarios() -> Any:
        return answer(control.list(dict(request.headers), request.remote_addr))

    @app.post(PREFIX + "/<name>")
    def trigger(name: str) -> Any:
        duration = request.args.get("duration")
        return answer(control.trigger(name, dict(request.headers), request.remote_addr, duration))


def _subscribe(simulation: Simulation) -> Callable[[Any], None]:
    def subscribe(data: Any) -> None:
        pair = data.get("pair") if isinstance(data, dict) else data
        quote = simulation.market.quotes.get(pair) if isinstance(pair, str) else None
        if quote is None:
            emit("error", {"error": f"unknown pair {pair!r}"})
            return
        join_room(pair)
        emit("price_update", quote.as_dict())

    return subscribe
