"""The instrumented Flask app of the e2e tests: ``python tests/e2e/app.py PORT``.

It is configured from the environment by otelmetrics on first use (the tests set
OTEL_SERVICE_NAME, OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL,
OTEL_METRIC_EXPORT_INTERVAL and the instance id) and served by Werkzeug with threads.
"""

import sys
import time

from flask import Flask

import otelmetrics

app = Flask("e2e_flask")


@app.get("/items/<int:item_id>")
def item(item_id: int) -> dict[str, int]:
    return {"id": item_id}


@app.get("/sleep/<int:milliseconds>")
def sleep(milliseconds: int) -> dict[str, int]:
    """A known latency, for checking histogram buckets against what the client measured."""
    time.sleep(milliseconds / 1000)
    return {"slept_ms": milliseconds}


otelmetrics.instrument(app)

if __name__ == "__main__":
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", int(sys.argv[1]), app, threaded=True)
    print("ready", flush=True)
    server.serve_forever()
