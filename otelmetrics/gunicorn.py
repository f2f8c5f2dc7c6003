"""Gunicorn hook: give every pre-forked worker its own pipeline and service.instance.id.

In ``gunicorn.conf.py``::

    from otelmetrics.gunicorn import post_fork  # noqa: F401  (gunicorn looks the name up)

A forked worker already starts over on its own (otelmetrics resets its series and draws a new
``service.instance.id`` in every child process); the hook also configures the worker eagerly,
so an idle worker still reports its process gauges.
"""

from __future__ import annotations

from typing import Any

from otelmetrics.pipeline import default_handle

__all__ = ["post_fork"]


def post_fork(server: Any, worker: Any) -> None:
    """Gunicorn's ``post_fork`` server hook."""
    default_handle()
