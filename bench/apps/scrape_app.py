"""A FastAPI app holding ``SCRAPE_BENCH_SERIES`` route series before it serves; for
``bench/scrape_latency.py``, served by uvicorn (one process)::

    SCRAPE_BENCH_SERIES=10000 uvicorn scrape_app:app --no-access-log

The series come from ``scrape_series_fill.py``. ``GET /hello`` is the request under load.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse, Response
from scrape_series_fill import FLOOR, instrument_with_series, rendered_once

app = FastAPI()


@app.get("/hello", response_class=PlainTextResponse)
async def hello() -> PlainTextResponse:
    return PlainTextResponse("hello")


handle = instrument_with_series(app)
if FLOOR:
    floor_body = rendered_once(handle)

    @app.get("/floor-metrics")
    def floor() -> Response:  # a thread, as a synchronous route: the first call renders
        return Response(floor_body(), headers={"Content-Encoding": "gzip"})
