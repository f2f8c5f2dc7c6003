"""A Flask app holding ``SCRAPE_BENCH_SERIES`` route series before it serves; for
``bench/scrape_latency.py --server gunicorn``::

    SCRAPE_BENCH_SERIES=10000 gunicorn -w 1 -k gthread --threads 4 scrape_app_flask:app

Under gunicorn the series are in the worker's arena and a scrape adds up the server's arenas
(one here), as any pre-fork server's does. Otherwise as ``scrape_app.py``.
"""

from __future__ import annotations

import os
import random

from flask import Flask

import otelmetrics

SERIES = int(os.environ.get("SCRAPE_BENCH_SERIES", "10000"))

app = Flask(__name__)


@app.get("/hello")
def hello() -> str:
    return "hello"


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
