"""Small PromQL and alert-template idioms the rules share, each explained once here."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping

from tools import names

# The labels every per-service roll-up keeps (``sum by (SERVICE) (...)``).
SERVICE = f"{names.ENV}, {names.SERVICE_NAME}"
# Failed requests: 5xx responses (4xx are the client's).
HTTP_ERRORS = f'{names.HTTP_REQUESTS}{{{names.STATUS}=~"5.."}}'


def matchers(labels: Mapping[str, str]) -> str:
    """``{"a": "x", "b": "y"}`` -> ``a="x", b="y"``: equality matchers, in the mapping's order."""
    return ", ".join(f'{name}="{value}"' for name, value in labels.items())


def series(metric: str, labels: Mapping[str, str]) -> str:
    """One series selector, ``metric{a="x", b="y"}`` (promtool inputs and expectations)."""
    return f"{metric}{{{matchers(labels)}}}"


def label(name: str) -> str:
    """The alert-template expression of label ``name``: ``{{ $labels.name }}``."""
    return f"{{{{ $labels.{name} }}}}"


def new_or_increase(selector: str, window: str) -> str:
    """How much a counter grew within ``window``, counting series born inside it from zero.

    An OTLP counter series appears at its first increment, already at its first value (a
    breaker's first trip arrives as 1, a storm of 30 rejections inside one export interval as
    30). ``increase()`` needs two samples and never sees that first value, so a series that
    did not exist ``window`` ago counts with its whole value instead. Put the new series first:
    ``or`` keeps the left side where both match.
    """
    return f"({selector} unless {selector} offset {window}) or increase({selector}[{window}])"


def rate_or_zero(by: str, selector: str, sibling: str, window: str) -> str:
    """``sum by (by) (rate(selector[window]))``, 0 where only ``sibling`` has series.

    Error counters appear only after the first error; dividing by the request rate would then
    return nothing instead of 0. The sibling (all requests) gives the same label sets a 0.
    """
    return (
        f"sum by ({by}) (rate({selector}[{window}]))\n"
        f"  or\nsum by ({by}) (rate({sibling}[{window}])) * 0"
    )


def block(text: str) -> str:
    """Dedented, stripped multi-line PromQL (rules are written indented inside Python)."""
    return textwrap.dedent(text).strip()
