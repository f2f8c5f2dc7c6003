"""A small instrumented Flask app for tests that need a real server process.

``python tests/integration/apps/flask_app.py PORT`` serves it with Werkzeug; gunicorn loads
``tests.integration.apps.flask_app:app``. It configures from the environment on first use.
"""

import sys
import time

from flask import Flask

import otelmetrics

app = Flask("flask_app")


@app.get("/items/<int:item_id>")
def item(item_id: int) -> dict[str, int]:
    return {"id": item_id}


@app.get("/work")
def work() -> str:
    time.sleep(0.02)  # long enough that concurrent requests spread over workers
    return "done"


otelmetrics.instrument(app)

if __name__ == "__main__":
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", int(sys.argv[1]), app, threaded=True)
    print("ready", flush=True)
    server.serve_forever()
