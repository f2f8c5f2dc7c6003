"""gunicorn hooks of the ``prom-multiproc`` Flask variant, as prometheus-flask-exporter's docs
give them for ``GunicornPrometheusMetrics``: the master serves the merged metrics of every
worker on its own port (``$BENCH_METRICS_PORT``), and marks each exited worker dead.

``PROMETHEUS_MULTIPROC_DIR`` must name an empty directory before the server starts (the bench
makes a fresh one per run)::

    gunicorn -c gunicorn_prom_multiproc.py -w 2 flask_app:app
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_flask_exporter.multiprocess import (  # type: ignore[import-untyped]
    GunicornPrometheusMetrics,
)


def when_ready(server: Any) -> None:
    GunicornPrometheusMetrics.start_http_server_when_ready(
        int(os.environ["BENCH_METRICS_PORT"]), "127.0.0.1"
    )


def child_exit(server: Any, worker: Any) -> None:
    GunicornPrometheusMetrics.mark_process_dead_on_child_exit(worker.pid)
