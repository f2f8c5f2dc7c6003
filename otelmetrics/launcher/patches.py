"""Make every Flask and Starlette/FastAPI app instrument itself, whoever creates it.

The classes' ``__call__`` is wrapped: an app's first call (its first request, or ASGI lifespan
start-up) runs ``otelmetrics.instrument(app)`` once, then every call goes straight on, paying one
dict lookup. Instrumenting on the first call, not in ``__init__``, works for module-level apps
and factories alike (``gunicorn 'pkg:create_app()'``), after the contrib instrumentors have
wrapped the app (otelmetrics then takes the HTTP metrics over and leaves them the spans), and
before Flask's setup methods close or Starlette builds its middleware stack. ``__init__`` only
tells the pipeline an app exists, so a pre-fork worker configures as it starts.

An app the user instrumented already, or a Starlette app mounted inside another (the outer one
counts its requests), is left as it is. An app that fails to instrument is logged once and runs
uninstrumented.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import logging
import os
import sys
import threading
from typing import Any

_logger = logging.getLogger(__name__)
_MARK = "_otelmetrics_launched"  # in the app's __dict__ once its first call has been seen
_lock = threading.Lock()

__all__ = ["boot", "boot_in_process", "patch_frameworks", "unpatch_frameworks"]


def boot(sitecustomize_file: str) -> None:
    """What the bootstrap ``sitecustomize`` runs: :func:`boot_in_process`, then the next one."""
    boot_in_process()
    _chain(sitecustomize_file)


def boot_in_process() -> None:
    """Patch the frameworks and call the outgoing-call hook (each once per process)."""
    try:
        patch_frameworks()
        _client_hook()
    except Exception:  # never stop the user's program from starting
        _logger.exception("otelmetrics-instrument: setting up failed; the command runs as is")


def patch_frameworks() -> None:
    """Wrap ``flask.Flask`` and ``starlette.applications.Starlette`` (those installed)."""
    for module, name, wrap in _CLASSES:
        try:
            cls = getattr(importlib.import_module(module), name)
        except ImportError:
            continue
        if not _is_patched(cls):
            _patch(cls, wrap(cls.__call__))


def unpatch_frameworks() -> None:
    """Undo :func:`patch_frameworks` (apps already instrumented stay so)."""
    for module, name, _ in _CLASSES:
        cls = getattr(sys.modules.get(module), name, None)
        if cls is not None and _is_patched(cls):
            cls.__call__, cls.__init__ = cls._otelmetrics_originals
            del cls._otelmetrics_originals


def _is_patched(cls: type) -> bool:
    return "_otelmetrics_originals" in cls.__dict__


def _patch(cls: Any, call: Any) -> None:
    original_init = cls.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        _announce()

    cls._otelmetrics_originals = (cls.__call__, original_init)
    cls.__init__ = __init__
    cls.__call__ = call


def _flask_call(original: Any) -> Any:
    def __call__(self: Any, environ: Any, start_response: Any) -> Any:
        if _MARK not in self.__dict__:
            _launch(self, nested=False)
        return original(self, environ, start_response)

    return __call__


def _starlette_call(original: Any) -> Any:
    async def __call__(self: Any, scope: Any, receive: Any, send: Any) -> None:
        if _MARK not in self.__dict__:
            outer = scope.get("app")
            _launch(self, nested=outer is not None and outer is not self)
        await original(self, scope, receive, send)

    return __call__


_CLASSES = (
    ("flask", "Flask", _flask_call),
    ("starlette.applications", "Starlette", _starlette_call),
)


def _announce() -> None:
    try:
        from otelmetrics.pipeline import wanted_by_an_app

        wanted_by_an_app()  # a pre-fork worker configures as it starts
    except Exception:  # a bad setting fails the first request loudly instead
        _logger.exception("otelmetrics-instrument: configuring this process failed")


def _launch(app: Any, *, nested: bool) -> None:
    with _lock:
        if _MARK in app.__dict__:
            return
        app.__dict__[_MARK] = True
        if nested or _instrumented(app):
            return
        try:
            from otelmetrics.instrument import instrument

            instrument(app)
        except Exception:
            _logger.exception("otelmetrics-instrument: %r runs uninstrumented", app)


def _instrumented(app: Any) -> bool:
    extensions = getattr(app, "extensions", None)
    if isinstance(extensions, dict):
        return "otelmetrics" in extensions
    return getattr(getattr(app, "state", None), "otelmetrics", None) is not None


def _client_hook() -> None:
    """Outgoing HTTP client metrics, where this version of otelmetrics has them."""
    import otelmetrics

    hook = getattr(otelmetrics, "instrument_http_clients", None)
    if callable(hook):
        hook()


def _chain(own_file: str) -> None:
    """Run the ``sitecustomize`` this one hides on ``sys.path``, as Python would have."""
    here = os.path.dirname(os.path.realpath(own_file))
    rest = [p for p in sys.path if os.path.realpath(p or os.curdir) != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules["sitecustomize"] = module
    spec.loader.exec_module(module)
