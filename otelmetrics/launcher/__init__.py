"""Zero-code instrumentation: the ``otelmetrics-instrument`` launcher and the distro.

``otelmetrics-instrument gunicorn app:app`` (:mod:`~otelmetrics.launcher.command`) puts
``bootstrap/sitecustomize.py`` on ``PYTHONPATH`` and execs the command; in every Python process
it starts, :func:`~otelmetrics.launcher.patches.patch_frameworks` makes every Flask and
Starlette/FastAPI app instrument itself (``otelmetrics.instrument(app)``) on its first call.
:mod:`~otelmetrics.launcher.distro` does the same from inside ``opentelemetry-instrument``
when ``OTEL_PYTHON_DISTRO=otelmetrics``.
"""
