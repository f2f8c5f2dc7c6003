"""Prometheus names for OpenTelemetry metrics, exactly as Prometheus's OTLP receiver makes them.

``/metrics`` and the OTLP path must give every series the same name and labels, so the shipped
rules and dashboards read both. These functions port the receiver's rules for the settings of
prometheus/prometheus.yml (``translation_strategy: UnderscoreEscapingWithSuffixes``, the
default label sanitization): github.com/prometheus/otlptranslator v1.0.0 (``metric_namer.go``,
``unit_namer.go``, ``label_namer.go``, ``strconv.go``), the version Prometheus v3.15.0 builds
with, and its caller ``storage/remote/otlptranslator/prometheusremotewrite``. For example::

    metric_name("http.server.request.duration", "s", "histogram")  # ..._duration_seconds
    metric_name("process.cpu.utilization", "1", "gauge")  # process_cpu_utilization_ratio
    metric_name("trading.orders", "{order}", "counter")  # trading_orders_total
    label_name("http.route")  # http_route
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

__all__ = ["PROMOTED_RESOURCE_ATTRIBUTES", "Kind", "label_name", "metric_name", "unit_suffixes"]

Kind = Literal["counter", "gauge", "updowncounter", "histogram"]

# prometheus/prometheus.yml's otlp.promote_resource_attributes (tests/static checks they agree):
# the resource attributes that become a label on every series.
PROMOTED_RESOURCE_ATTRIBUTES = (
    "service.name",
    "service.namespace",
    "service.instance.id",
    "service.version",
    "deployment.environment.name",
)

# UCUM unit -> the word appended to the name (otlptranslator's unitMap and perUnitMap).
_UNITS = {
    **{"d": "days", "h": "hours", "min": "minutes", "s": "seconds"},
    **{"ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"},
    **{"By": "bytes", "KiBy": "kibibytes", "MiBy": "mebibytes", "GiBy": "gibibytes"},
    **{"TiBy": "tibibytes", "KBy": "kilobytes", "MBy": "megabytes", "GBy": "gigabytes"},
    **{"TBy": "terabytes", "m": "meters", "V": "volts", "A": "amperes", "J": "joules"},
    **{"W": "watts", "g": "grams", "Cel": "celsius", "Hz": "hertz", "1": "", "%": "percent"},
}
_PER_UNITS = {"s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week"}
_PER_UNITS.update(mo="month", y="year")

_NOT_METRIC_CHARS = re.compile(r"[^a-zA-Z0-9:]+")
_NOT_METRIC_CHAR = re.compile(r"[^a-zA-Z0-9:]")
_NOT_LABEL_CHAR = re.compile(r"[^a-zA-Z0-9]")
_UNDERSCORES = re.compile(r"__+")


@lru_cache(maxsize=4096)
def metric_name(name: str, unit: str, kind: Kind) -> str:
    """The family name the receiver stores ``name`` under ("" when it would drop the metric).

    Runs of characters outside ``[a-zA-Z0-9:]`` become one underscore; the unit adds its word
    unless the name already has it (``{...}`` annotations add nothing, ``By/s`` adds
    ``bytes_per_second``); a counter (monotonic sum) ends in ``_total``; a gauge of unit ``1``
    ends in ``_ratio``; a leading digit gets a ``_`` in front.
    """
    tokens = [token for token in _NOT_METRIC_CHARS.split(name) if token]
    main, per = unit_suffixes(unit)
    tokens = _add_unit_tokens(tokens, _clean_unit(main), _clean_unit(per))
    if kind == "counter":
        tokens = [token for token in tokens if token != "total"] + ["total"]
    if unit == "1" and kind == "gauge":
        tokens = [token for token in tokens if token != "ratio"] + ["ratio"]
    result = "_".join(tokens)
    if result[:1].isdigit():
        result = "_" + result
    return "" if not result.strip("_") else result


def unit_suffixes(unit: str) -> tuple[str, str]:
    """The main and the "per" word of a UCUM unit: ``By/s`` -> ("bytes", "per_second")."""
    main_unit, slash, per_unit = unit.partition("/")
    main_unit, per_unit = main_unit.strip(), per_unit.strip()
    main = ""
    if main_unit and not {"{", "}"} & set(main_unit):
        main = _UNITS.get(main_unit, main_unit)
    per = ""
    if slash and per_unit and not {"{", "}"} & set(per_unit):
        per = "per_" + _PER_UNITS.get(per_unit, per_unit)
    return main, per


def _clean_unit(unit: str) -> str:
    return _UNDERSCORES.sub("_", _NOT_METRIC_CHAR.sub("_", unit)).removeprefix("_")


def _add_unit_tokens(tokens: list[str], main: str, per: str) -> list[str]:
    """The unit's words after the name's, each only if the name does not already have it."""
    if main in tokens:
        main = ""
    if per == "per_":
        per = ""
    else:
        per = per.removesuffix("_")
        if per in tokens:
            per = ""
    if per:
        main = main.removesuffix("_")
    return tokens + [word for word in (main, per) if word]


@lru_cache(maxsize=4096)
def label_name(key: str) -> str:
    """The label an attribute key becomes ("" when the receiver would reject it).

    Every character outside ``[a-zA-Z0-9]`` becomes an underscore (runs are kept: Prometheus's
    default ``label_name_preserve_multiple_underscores``); a leading digit gets ``key_`` and a
    single leading underscore ``key`` in front (``label_name_underscore_sanitization``).
    """
    if not key:
        return ""
    name = _NOT_LABEL_CHAR.sub("_", key)
    if "0" <= name[0] <= "9":
        name = "key_" + name
    elif name.startswith("_") and not name.startswith("__"):
        name = "key" + name
    return "" if not name.strip("_") else name
