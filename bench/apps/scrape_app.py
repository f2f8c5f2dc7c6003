"""A FastAPI app holding ``SCRAPE_BENCH_SERIES`` route series before it serves; for
``bench/scrape_latency.py``, served by uvicorn (one process)::

    SCRAPE_BENCH_SERIES=10000 uvicorn scrape_app:app --no-access-log

The series are recorded through the real recording calls (``HttpServerMetrics.start`` and
``finish``), one request per route, process metrics off: a scrape holds the HTTP series only.
``GET /hello`` is the request under load.
"""

from __future__ import annotations

import os
import random

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

import otelmetrics

SERIES = int(os.environ.get("SCRAPE_BENCH_SERIES", "10000"))

app = FastAPI()


@app.get("/hello", response_class=PlainTextResponse)
async def hello() -> PlainTextResponse:
    return PlainTextResponse("hello")


handle = otelmetrics.configure(
    service_name="bench-scrape",
    process_metrics=False,
    cardinality_limit=SERIES + 100,
    set_global=False,
)
otelmetrics.instrument(app, handle=handle)
_rnd = random.Random(7)
for _i in range(SERIES):
    _started = handle.http.start("GET", "https")
    handle.http.finish(
        _started - _rnd.lognormvariate(-4.0, 1.2),
        "GET",
        f"/api/v1/resource{_i}/{{item_id}}",
        200,
        "https",
        None,
        None,
        _rnd.randrange(64, 65536),
    )
