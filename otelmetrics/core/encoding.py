"""Strict JSON for the API and the SSE stream: what ``JSON.parse`` in a browser accepts.

Python's ``json`` writes ``NaN`` and ``Infinity``, which are not JSON; a statistic of an empty
window could be one. :func:`to_json` writes them as ``null`` instead of failing the request.
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["to_json"]


def to_json(value: Any) -> str:
    """Compact JSON; non-finite floats become ``null``, unknown objects their ``str()``."""
    try:
        return json.dumps(value, separators=(",", ":"), allow_nan=False, default=str)
    except ValueError:
        return json.dumps(_finite(value), separators=(",", ":"), allow_nan=False, default=str)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value
