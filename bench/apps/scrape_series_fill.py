"""The route series the scrape apps hold before they serve (``scrape_app.py``, FastAPI on
uvicorn; ``scrape_app_flask.py``, Flask on gunicorn): ``SCRAPE_BENCH_SERIES`` of them,
recorded through the real recording calls (``HttpServerMetrics.start`` and ``finish``), one
request per route, process metrics off, so a scrape holds the HTTP series only."""

from __future__ import annotations

import os
import random
from typing import Any

import otelmetrics

SERIES = int(os.environ.get("SCRAPE_BENCH_SERIES", "10000"))


def instrument_with_series(app: Any) -> None:
    """Instrument ``app`` on a handle of its own that already holds ``SERIES`` route series."""
    handle = otelmetrics.configure(
        service_name="bench-scrape",
        process_metrics=False,
        cardinality_limit=SERIES + 100,
        set_global=False,
    )
    otelmetrics.instrument(app, handle=handle)
    rnd = random.Random(7)
    for i in range(SERIES):
        started = handle.http.start("GET", "https")
        handle.http.finish(
            started - rnd.lognormvariate(-4.0, 1.2),
            "GET",
            f"/api/v1/resource{i}/{{item_id}}",
            200,
            "https",
            None,
            None,
            rnd.randrange(64, 65536),
        )
