"""How a setting is read from the environment: its variables, their parsers, the precedence.

Each :class:`~otelmetrics.settings.Settings` field carries an :class:`EnvVar` in
``metadata["env"]`` (made by :func:`env_var`): the variables to read, signal-specific before
generic, and the parser for their text. :func:`given_values` applies the first two steps of
the precedence: a keyword argument wins, then the first of the field's variables that is set;
the config file and the defaults fill in the rest. A parser raises ``ValueError`` with the
problem; :func:`read_environ` adds the variable and the value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import Field, dataclass
from typing import Any
from urllib.parse import unquote

from otelmetrics.settings.defaults import DEFAULT_RATE_LIMITS, DEFAULT_THRESHOLDS

__all__ = [
    "EnvVar",
    "env_var",
    "given_values",
    "lower",
    "parse_bool",
    "parse_int",
    "parse_limits",
    "parse_list",
    "parse_millis",
    "parse_pairs",
    "parse_seconds",
    "parse_thresholds",
    "read_environ",
]

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off", ""})


@dataclass(frozen=True)
class EnvVar:
    """The environment variables of one setting and the parser for their text."""

    names: tuple[str, ...]  # first present wins: signal-specific before generic
    parse: Callable[[str], Any]


def env_var(*names: str, parse: Callable[[str], Any] = str.strip) -> dict[str, Any]:
    """The field metadata naming a setting's variables: ``field(metadata=env_var(...))``."""
    return {"env": EnvVar(names, parse)}


def parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError("expected true or false")


def parse_list(raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def parse_pairs(raw: str) -> dict[str, str]:
    """Parse ``k1=v1,k2=v2`` (W3C baggage style, values percent-decoded)."""
    pairs = {}
    for item in parse_list(raw):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{item!r} is not key=value")
        pairs[key.strip()] = unquote(value.strip())
    return pairs


def parse_int(raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise ValueError("use a whole number, e.g. 100") from None


def parse_seconds(raw: str) -> float:
    try:
        return float(raw.strip())
    except ValueError:
        raise ValueError("use a number of seconds without a unit, e.g. 2.5") from None


def parse_limits(raw: str) -> dict[str, int]:
    limits = dict(DEFAULT_RATE_LIMITS)
    for key, value in parse_pairs(raw).items():
        if key not in DEFAULT_RATE_LIMITS:
            raise ValueError(f"unknown endpoint class {key!r}; use {sorted(DEFAULT_RATE_LIMITS)}")
        try:
            limits[key] = int(value.strip())
        except ValueError:
            fix = (
                f"use a whole number of requests per minute, e.g. {key}={DEFAULT_RATE_LIMITS[key]}"
            )
            raise ValueError(f"{key}={value!r}: {fix}") from None
    return limits


def parse_thresholds(raw: str) -> dict[str, float]:
    """The thresholds given (merged over the file's and the defaults in ``from_env``)."""
    thresholds = {}
    for key, value in parse_pairs(raw).items():
        if key not in DEFAULT_THRESHOLDS:
            raise ValueError(f"unknown threshold {key!r}; use {sorted(DEFAULT_THRESHOLDS)}")
        try:
            thresholds[key] = float(value.strip())
        except ValueError:
            fix = f"use a number, e.g. {key}={DEFAULT_THRESHOLDS[key]:g}"
            raise ValueError(f"{key}={value!r}: {fix}") from None
    return thresholds


def parse_millis(raw: str) -> float:
    """Milliseconds, as the OpenTelemetry specification's ``*_INTERVAL``/``*_TIMEOUT`` say."""
    try:
        return float(raw.strip()) / 1000.0
    except ValueError:
        raise ValueError("use a number of milliseconds without a unit, e.g. 5000 for 5 s") from None


def lower(raw: str) -> str:
    return raw.strip().lower()


def read_environ(var: EnvVar, environ: Mapping[str, str], setting: str | None = None) -> Any:
    """The parsed value of the first of ``var``'s variables set to non-blank text, or None.

    Raises:
        ValueError: The text does not parse; the message names the setting, the variable, the
            value and the fix.
    """
    for name in var.names:
        raw = environ.get(name)
        if raw is None or not raw.strip():
            continue
        try:
            return var.parse(raw)
        except ValueError as exc:
            what = f"otelmetrics setting {setting} (env " if setting else "("
            raise ValueError(f"{what}{name}={raw[:200]!r}) is invalid: {exc}") from None
    return None


def given_values(
    specs: Iterable[Field[Any]], environ: Mapping[str, str], overrides: Mapping[str, Any]
) -> dict[str, Any]:
    """Field name -> value from a keyword override (not ``None``), else from the environment.

    Raises:
        TypeError: An override names no field.
        ValueError: A variable's text does not parse.
    """
    known = {spec.name: spec for spec in specs}
    unknown = sorted(set(overrides) - set(known))
    if unknown:
        raise TypeError(f"unknown otelmetrics setting(s) {unknown}; valid: {sorted(known)}")
    values = {}
    for name, spec in known.items():
        if overrides.get(name) is not None:
            values[name] = overrides[name]
        elif (parsed := read_environ(spec.metadata["env"], environ, name)) is not None:
            values[name] = parsed
    return values
