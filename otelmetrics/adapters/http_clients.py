"""Patching the installed HTTP client libraries: symmetric, idempotent, reversible.

:func:`instrument` replaces each patch point of :data:`~otelmetrics.adapters.client_patches.PATCHES`
whose library is installed and of a supported major version; :func:`uninstrument` puts the
originals back. A library that is missing is skipped quietly; one of an unsupported version (or
without the patch point) is logged once and left alone::

    instrument(lambda: handle.http_clients)   # ["aiohttp", "httpx", "requests"]
    uninstrument()
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import threading
from collections.abc import Callable
from typing import Any

from otelmetrics.adapters.client_calls import Resolve
from otelmetrics.adapters.client_patches import PATCHES, Patch
from otelmetrics.core.once import LogOnce

__all__ = ["instrument", "instrumented", "uninstrument"]

_logger = logging.getLogger(__name__)
_log_once = LogOnce(_logger, later=None)
_lock = threading.Lock()
# (owner class, attribute) -> (the original, our replacement)
_patched: dict[tuple[type, str], tuple[Callable[..., Any], Callable[..., Any]]] = {}


def instrument(resolve: Resolve) -> list[str]:
    """Patch every installed, supported client library to record into ``resolve()``.

    Returns:
        The libraries patched, sorted; empty when already instrumented (a warning says so).
    """
    with _lock:
        if _patched:
            _logger.warning("otelmetrics: HTTP clients are already instrumented; ignored")
            return []
        done = {patch.library for patch in PATCHES if _apply(patch, resolve)}
    return sorted(done)


def uninstrument() -> None:
    """Put every original back (one patched over since is left alone, with a warning)."""
    with _lock:
        for (owner, attribute), (original, ours) in _patched.items():
            if owner.__dict__.get(attribute) is ours:
                setattr(owner, attribute, original)
            else:
                _logger.warning(
                    "otelmetrics: %s.%s was patched again after otelmetrics; left as it is",
                    owner.__qualname__,
                    attribute,
                )
        _patched.clear()


def instrumented() -> bool:
    """True while the client libraries are patched."""
    return bool(_patched)


def _apply(patch: Patch, resolve: Resolve) -> bool:
    """Patch one point; False when its library is missing or unsupported. Call with the lock."""
    owner = _owner(patch)
    if owner is None:
        return False
    original = owner.__dict__[patch.attribute]
    ours = patch.wrap(original, resolve)
    setattr(owner, patch.attribute, ours)
    _patched[(owner, patch.attribute)] = (original, ours)
    return True


def _owner(patch: Patch) -> type | None:
    """The class to patch, or None (missing quietly; unsupported logged once)."""
    if importlib.util.find_spec(patch.library) is None:
        return None
    try:
        library = importlib.import_module(patch.library)
        owner = getattr(importlib.import_module(patch.module), patch.owner)
        major = int(str(library.__version__).split(".")[0])
    except Exception:
        _unsupported(patch, "it failed to import or has no version")
        return None
    if major not in patch.majors or not isinstance(owner, type):
        _unsupported(patch, f"version {library.__version__} is not supported")
        return None
    if patch.attribute not in owner.__dict__:
        _unsupported(patch, f"{patch.owner}.{patch.attribute} is missing")
        return None
    return owner


def _unsupported(patch: Patch, reason: str) -> None:
    _log_once(
        patch.library,
        "otelmetrics: %s is left uninstrumented: %s (supported major versions: %s)",
        patch.library,
        reason,
        ", ".join(map(str, patch.majors)),
    )
