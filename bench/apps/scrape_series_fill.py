"""The route series the scrape apps hold before they serve (``scrape_app.py``, FastAPI on
uvicorn; ``scrape_app_flask.py``, Flask on gunicorn): ``SCRAPE_BENCH_SERIES`` of them,
recorded through the real recording calls (``HttpServerMetrics.start`` and ``finish``), one
request per route, process metrics off, so a scrape holds the HTTP series only.

With ``SCRAPE_BENCH_FLOOR=1`` the apps also serve ``GET /floor-metrics``: the same gzipped
exposition, rendered on its first call and then sent as it is, so scraping it costs only
moving the body (``bench/scrape_latency.py --floor``). With ``SCRAPE_BENCH_GC_FREEZE=1`` the
objects made until then (the app, the handle, the series) are moved out of the garbage
collector's sight (``gc.freeze()``), as an app may do after its startup, so a full collection
no longer walks them (``--set SCRAPE_BENCH_GC_FREEZE=1``)."""

from __future__ import annotations

import gc
import os
import random
from collections.abc import Callable
from typing import Any

import otelmetrics

SERIES = int(os.environ.get("SCRAPE_BENCH_SERIES", "10000"))


FLOOR = bool(os.environ.get("SCRAPE_BENCH_FLOOR"))


def instrument_with_series(app: Any) -> otelmetrics.MetricsHandle:
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
    if os.environ.get("SCRAPE_BENCH_GC_FREEZE"):
        gc.collect()
        gc.freeze()
    return handle


def rendered_once(handle: otelmetrics.MetricsHandle) -> Callable[[], bytes]:
    """The gzipped exposition, rendered on the first call and kept."""
    kept: list[bytes] = []

    def body() -> bytes:
        if not kept:
            kept.append(handle.scrape("127.0.0.1", None, None, "gzip").body)
        return kept[0]

    return body
