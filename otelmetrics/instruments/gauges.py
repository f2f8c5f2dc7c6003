"""Observable gauges: plain callbacks, made safe and registered in one line.

A gauge callback takes ``CallbackOptions`` and yields ``Observation``s; keep it fast and free of
side effects (read a value your app already keeps)::

    from opentelemetry.metrics import Observation

    def open_orders(options):
        yield Observation(len(book.open_orders), {"venue": "kraken"})

    otelmetrics.observable_gauge("orders.open", open_orders, unit="{order}")

A callback that raises is logged once (then at debug level) and reports nothing for that
collection; the other gauges still report. Distinct attribute sets beyond the cardinality
limit fold into one ``otel.metric.overflow=true`` observation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opentelemetry.metrics import CallbackOptions, Meter, Observation

from otelmetrics.core.store import OVERFLOW_ATTRIBUTES

if TYPE_CHECKING:
    from otelmetrics.pipeline.handle import MetricsHandle

_logger = logging.getLogger(__name__)

Callback = Callable[[CallbackOptions], Iterable[Observation]]


@dataclass(frozen=True)
class _GaugeSpec:
    name: str
    callback: Callback
    unit: str
    description: str


_PENDING: list[_GaugeSpec] = []


def observable_gauge(
    name: str,
    callback: Callback,
    *,
    unit: str = "1",
    description: str = "",
    handle: MetricsHandle | None = None,
) -> None:
    """Register ``callback`` as an observable gauge.

    Args:
        name: Dotted OTel metric name, e.g. ``trading.positions.open``.
        callback: ``callback(options)`` yielding ``Observation(value, attributes)``.
        unit: UCUM unit (``1``, ``s``, ``By``, ``{order}``).
        description: One sentence for the metric's HELP text.
        handle: The handle to register on; default: the configured one, or every handle
            configured later when none exists yet.

    Raises:
        ValueError: The name is empty or the callback is not callable.
    """
    if not name or not callable(callback):
        raise ValueError(f"observable_gauge needs a metric name and a callable, got {name!r}")
    spec = _GaugeSpec(name, callback, unit, description)
    from otelmetrics.pipeline import handle as setup

    target = handle or setup._default
    if target is None:
        _PENDING.append(spec)
    else:
        _register(target, spec)


def register_pending(handle: MetricsHandle) -> None:
    """Register gauges declared before any handle existed (called by configure)."""
    for spec in _PENDING:
        _register(handle, spec)


def _register(handle: MetricsHandle, spec: _GaugeSpec) -> None:
    meter = handle.meter_provider.get_meter("otelmetrics")
    register(
        meter,
        spec.name,
        spec.callback,
        spec.unit,
        spec.description,
        limit=handle.settings.cardinality_limit,
    )


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
    state: dict[str, Any] = {"failed": False, "seen": set(), "warned": False}

    def observe(options: CallbackOptions) -> Iterator[Observation]:
        try:
            observations = list(callback(options))
        except Exception:
            log = _logger.debug if state["failed"] else _logger.exception
            log("gauge callback for %s failed; it reports nothing this time", name)
            state["failed"] = True
            return
        for observation in observations:
            yield _capped(name, observation, state, limit)

    return observe


def _capped(name: str, observation: Observation, state: dict[str, Any], limit: int) -> Observation:
    attributes = observation.attributes or {}
    key = frozenset(attributes.items())
    seen: set[frozenset[Any]] = state["seen"]
    if key in seen or len(seen) < limit - 1:
        seen.add(key)
        return observation
    if not state["warned"]:
        state["warned"] = True
        _logger.warning(
            "gauge %s exceeded its cardinality limit of %d; extra attribute sets fold into "
            "otel.metric.overflow=true",
            name,
            limit,
        )
    return Observation(observation.value, OVERFLOW_ATTRIBUTES)
