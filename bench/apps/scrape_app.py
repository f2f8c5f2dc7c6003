"""A FastAPI app holding ``SCRAPE_BENCH_SERIES`` route series before it serves; for
``bench/scrape_latency.py``, served by uvicorn (one process)::

    SCRAPE_BENCH_SERIES=10000 uvicorn scrape_app:app --no-access-log

The series come from ``scrape_series_fill.py``. ``GET /hello`` is the request under load.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from scrape_series_fill import instrument_with_series

app = FastAPI()


@app.get("/hello", response_class=PlainTextResponse)
async def hello() -> PlainTextResponse:
    return PlainTextResponse("hello")


instrument_with_series(app)
