"""The demo's FastAPI trading API with a websocket price feed (port 8051 by default).

Routes: ``GET /v1/prices/{pair}``, ``GET /v1/portfolio``, ``POST /v1/orders`` (queued for the
engine's next cycle as a limit order), the websocket ``/ws/prices/{pair}`` (a quote every
``tick_seconds``; a client may send ``ping`` and gets ``pong``), the scenario endpoints
(:mod:`otelmetrics.demo.control`), and what otelmetrics adds: ``/metrics`` and the JSON API.
The websocket is counted by the ASGI middleware with no code here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from otelmetrics import MetricsHandle
from otelmetrics.demo.control import PREFIX, Control, Reply
from otelmetrics.demo.faults import HttpFaults
from otelmetrics.demo.simulation import Simulation
from otelmetrics.fastapi import instrument_app

__all__ = ["create_api"]


class OrderIn(BaseModel):
    """A manual order."""

    pair: str
    side: Literal["buy", "sell"]
    quantity: float = Field(gt=0)


def create_api(
    simulation: Simulation,
    faults: HttpFaults,
    control: Control,
    handle: MetricsHandle,
    *,
    tick_seconds: float = 0.5,
) -> FastAPI:
    """The instrumented FastAPI app."""
    app = FastAPI(title="otelmetrics demo trading API")
    _business_routes(app, simulation, faults)
    _price_feed(app, simulation, tick_seconds)
    _control_routes(app, control)
    instrument_app(app, handle=handle)
    return app


def _business_routes(app: FastAPI, simulation: Simulation, faults: HttpFaults) -> None:
    async def disturbed(answer: Callable[[], Awaitable[Any]]) -> Any:
        plan = faults.plan()
        await asyncio.sleep(plan.delay)
        if plan.error:
            return JSONResponse({"error": "simulated error burst"}, status_code=500)
        return await answer()

    @app.get("/v1/prices/{pair}")
    async def price(pair: str) -> Any:
        async def answer() -> Any:
            quote = simulation.market.quotes.get(pair)
            if quote is None:
                return JSONResponse({"error": f"unknown pair {pair!r}"}, status_code=404)
            return quote.as_dict()

        return await disturbed(answer)

    @app.get("/v1/portfolio")
    async def portfolio() -> Any:
        async def answer() -> Any:
            view = simulation.engine.view
            return {"time": view.time, "positions": list(view.positions), "realized": view.realized}

        return await disturbed(answer)

    @app.post("/v1/orders", status_code=202)
    async def order(body: OrderIn) -> Any:
        async def answer() -> Any:
            if body.pair not in simulation.market.quotes:
                return JSONResponse({"error": f"unknown pair {body.pair!r}"}, status_code=404)
            simulation.engine.submit_manual(body.pair, body.side, body.quantity)
            return {"status": "queued", **body.model_dump()}

        return await disturbed(answer)


def _price_feed(app: FastAPI, simulation: Simulation, tick_seconds: float) -> None:
    @app.websocket("/ws/prices/{pair}")
    async def prices(websocket: WebSocket, pair: str) -> None:
        if pair not in simulation.market.quotes:
            await websocket.close(code=1008, reason=f"unknown pair {pair!r}")
            return
        await websocket.accept()
        sending = asyncio.Lock()  # the tick loop and the pong answers share the socket
        pings = asyncio.create_task(_answer_pings(websocket, sending))
        try:
            while not pings.done():
                async with sending:
                    await websocket.send_json(simulation.market.quotes[pair].as_dict())
                await asyncio.wait({pings}, timeout=tick_seconds)
        except (WebSocketDisconnect, RuntimeError):
            pass  # the client left between two ticks
        finally:
            pings.cancel()


async def _answer_pings(websocket: WebSocket, sending: asyncio.Lock) -> None:
    """Read client messages until it disconnects; answer ``ping`` with ``pong``."""
    try:
        while True:
            if await websocket.receive_text() == "ping":
                async with sending:
                    await websocket.send_text("pong")
    except (WebSocketDisconnect, RuntimeError):
        return


def _control_routes(app: FastAPI, control: Control) -> None:
    def answer(reply: Reply) -> JSONResponse:
        return JSONResponse(reply.body, status_code=reply.status)

    @app.get(PREFIX)
    async def scenarios(request: Request) -> JSONResponse:
        client = request.client.host if request.client else None
        return answer(control.list(request.headers, client))

    @app.post(PREFIX + "/{name}")
    async def trigger(name: str, request: Request, duration: str | None = None) -> JSONResponse:
        client = request.client.host if request.client else None
        return answer(control.trigger(name, request.headers, client, duration))
