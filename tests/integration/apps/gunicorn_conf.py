"""Gunicorn config used by the tests, and the documented hook."""

from otelmetrics.gunicorn import post_fork  # noqa: F401  (gunicorn looks the name up)

worker_class = "sync"
loglevel = "warning"
