"""A Flask app holding ``SCRAPE_BENCH_SERIES`` route series before it serves; for
``bench/scrape_latency.py --server gunicorn``::

    SCRAPE_BENCH_SERIES=10000 gunicorn -w 1 -k gthread --threads 4 scrape_app_flask:app

Under gunicorn the series are in the worker's arena and a scrape adds up the server's arenas
(one here), as any pre-fork server's does. Otherwise as ``scrape_app.py``.
"""

from __future__ import annotations

from flask import Flask, Response
from scrape_series_fill import FLOOR, instrument_with_series, rendered_once

app = Flask(__name__)


@app.get("/hello")
def hello() -> str:
    return "hello"


handle = instrument_with_series(app)
if FLOOR:
    floor_body = rendered_once(handle)

    @app.get("/floor-metrics")
    def floor() -> Response:
        return Response(floor_body(), headers={"Content-Encoding": "gzip"})
