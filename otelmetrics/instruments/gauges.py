"""Observable gauges: OpenTelemetry callbacks, made safe and registered in one line.

``otelmetrics.observable_gauge`` (:mod:`otelmetrics.pipeline.default`) registers your callback
on the configured handle through :func:`register`, as our own gauges do. A callback that raises
is logged once (then at debug level) and reports nothing for that collection; the other gauges
still report. Distinct attribute sets beyond the cardinality limit fold into one
``otel.metric.overflow=true`` observation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from opentelemetry.metrics import CallbackOptions, Meter, Observation

from otelmetrics.core.once import LogOnce
from otelmetrics.core.store import OVERFLOW_ATTRIBUTES

_logger = logging.getLogger(__name__)

Callback = Callable[[CallbackOptions], Iterable[Observation]]


def register(
    meter: Meter,
    name: str,
    callback: Callback,
    unit: str,
    description: str,
    *,
    limit: int,
    kind: str = "gauge",
) -> None:
    """Register a safe, capped ``callback`` as an observable gauge, counter or updowncounter."""
    create = {
        "gauge": meter.create_observable_gauge,
        "counter": meter.create_observable_counter,
        "updowncounter": meter.create_observable_up_down_counter,
    }[kind]
    create(name, [safe(name, callback, limit=limit)], unit=unit, description=description)


def safe(name: str, callback: Callback, *, limit: int) -> Callback:
    """Wrap ``callback``: exceptions are logged once and swallowed, cardinality is capped."""
    seen: set[frozenset[Any]] = set()
    log_failure = LogOnce(_logger, logging.ERROR)

    def observe(options: CallbackOptions) -> Iterator[Observation]:
        try:
            observations = list(callback(options))
        except Exception:
            message = "gauge callback for %s failed; it reports nothing this time"
            log_failure("failed", message, name, exc_info=True)
            return
        for observation in observations:
            key = frozenset((observation.attributes or {}).items())
            if key in seen or len(seen) < limit - 1:
                seen.add(key)
                yield observation
            else:
                if OVERFLOW_KEY not in seen:
                    seen.add(OVERFLOW_KEY)  # counts toward the limit, and warns once
                    _logger.warning(
                        "gauge %s exceeded its cardinality limit of %d; extra attribute sets "
                        "fold into otel.metric.overflow=true",
                        name,
                        limit,
                    )
                yield Observation(observation.value, OVERFLOW_ATTRIBUTES)

    return observe


OVERFLOW_KEY = frozenset(OVERFLOW_ATTRIBUTES.items())
