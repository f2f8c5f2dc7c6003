"""The per-request middleware of each framework: the framework half of the hot path.

``wsgi`` wraps a Flask app's ``wsgi_app``; ``asgi`` is the pure ASGI middleware for FastAPI and
Starlette. Both record into :mod:`otelmetrics.instruments` and find their handle through the
pipeline on the first request; the public faces (``otelmetrics.flask``, ``otelmetrics.fastapi``)
install them.
"""
