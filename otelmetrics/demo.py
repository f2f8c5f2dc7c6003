"""The demo service: an instrumented Flask app on the embedded default, with light traffic.

Run it with ``otelmetrics demo`` (or ``python -m otelmetrics demo``) and open the printed URLs.
Set ``OTEL_EXPORTER_OTLP_ENDPOINT`` to also push OTLP to a collector.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

_logger = logging.getLogger(__name__)
PATHS = (
    "/",
    "/api/orders/1",
    "/api/orders/42",
    "/api/slow",
    "/api/error",
    "/api/stream",
    "/missing",
)


def create_app() -> object:
    """The demo Flask app: a few routes with a spread of latencies, errors and a stream."""
    try:
        from flask import Flask, Response
    except ImportError:
        raise SystemExit("otelmetrics demo needs Flask: pip install 'otelmetrics[flask]'") from None
    import otelmetrics

    app = Flask("otelmetrics-demo")

    @app.get("/")
    def index() -> str:
        return "otelmetrics demo: see /metrics\n"

    @app.get("/api/orders/<int:order_id>")
    def order(order_id: int) -> dict[str, object]:
        time.sleep(random.uniform(0.001, 0.02))
        return {"id": order_id, "status": "filled"}

    @app.get("/api/slow")
    def slow() -> str:
        time.sleep(random.lognormvariate(-2.5, 0.6))
        return "slow\n"

    @app.get("/api/error")
    def error() -> str:
        raise RuntimeError("simulated failure")

    @app.get("/api/stream")
    def stream() -> Response:
        def chunks() -> Iterator[str]:
            for i in range(3):
                time.sleep(0.01)
                yield f"tick {i}\n"

        return Response(chunks(), mimetype="text/plain")

    otelmetrics.instrument(app)
    return app


def _traffic(base: str, stop: threading.Event) -> None:
    while not stop.wait(random.uniform(0.05, 0.3)):
        try:
            with urllib.request.urlopen(base + random.choice(PATHS), timeout=5) as response:
                response.read()
        except (urllib.error.URLError, OSError):
            pass  # 404/500 are part of the demo


def run(host: str, port: int, *, traffic: bool = True) -> int:
    """Serve the demo until interrupted; returns the exit status."""
    from werkzeug.serving import make_server

    import otelmetrics

    handle = otelmetrics.configure(service_name="otelmetrics-demo")
    server = make_server(host, port, create_app(), threaded=True)  # type: ignore[arg-type]
    base = f"http://{host}:{server.port}"
    stop = threading.Event()
    if traffic:
        threading.Thread(target=_traffic, args=(base, stop), daemon=True).start()
    print(
        f"otelmetrics demo on {base}/\n  Prometheus metrics: {base}{handle.settings.metrics_path}",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.server_close()
        handle.shutdown()
    return 0
