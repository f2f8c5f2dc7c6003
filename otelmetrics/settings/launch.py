"""What the zero-code launcher reads and writes of the environment.

``otelmetrics-instrument`` turns each setting's variable into a flag, as
``opentelemetry-instrument`` does (``OTEL_SERVICE_NAME`` -> ``--service_name``,
``OTELMETRICS_API_PUBLIC`` -> ``--api_public``), checks the result by building
:class:`~otelmetrics.settings.Settings` from it, and hands the command an environment with the
bootstrap directory first on ``PYTHONPATH``. The flags are derived from the fields, never listed
by hand, so a new setting gets its flag for free.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import fields

from otelmetrics.settings.fields import SettingsFields
from otelmetrics.settings.model import Settings

__all__ = [
    "DISTRO_NAME",
    "chosen_by_name",
    "launch_environ",
    "setting_flags",
]

DISTRO_NAME = "otelmetrics"  # the distro and configurator entry points' name
OTEL_PYTHON_DISTRO = "OTEL_PYTHON_DISTRO"
OTEL_PYTHON_CONFIGURATOR = "OTEL_PYTHON_CONFIGURATOR"
_PREFIXES = ("OTELMETRICS_", "OTEL_")


def setting_flags() -> dict[str, tuple[str, str]]:
    """Flag name (no dashes) -> (its variable, the setting's name), one per variable."""
    flags: dict[str, tuple[str, str]] = {}
    for spec in fields(SettingsFields):
        for variable in spec.metadata["env"].names:
            prefix = next(p for p in _PREFIXES if variable.startswith(p))
            flag = variable.removeprefix(prefix).lower()
            if flag in flags:  # a new variable clashing with another's flag: fail the tests
                raise AssertionError(f"flag --{flag} of {variable} is {flags[flag][0]}'s too")
            flags[flag] = (variable, spec.name)
    return flags


def launch_environ(given: Mapping[str, str], bootstrap_dir: str) -> dict[str, str]:
    """The command's environment: ours, the flags' variables, the bootstrap on ``PYTHONPATH``.

    Args:
        given: Variable -> value from the command line's flags; they win over the environment.
        bootstrap_dir: The directory holding otelmetrics' ``sitecustomize.py``.

    Raises:
        ValueError: A value is invalid; the message names the variable and the fix.
    """
    env = {**os.environ, **given}
    Settings.from_env(environ=env)
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p != bootstrap_dir]
    env["PYTHONPATH"] = os.pathsep.join([bootstrap_dir, *paths])
    return env


def chosen_by_name(variable: str, environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``OTEL_PYTHON_DISTRO`` / ``OTEL_PYTHON_CONFIGURATOR`` names otelmetrics."""
    env = os.environ if environ is None else environ
    return env.get(variable, "").strip() == DISTRO_NAME


def set_default(variable: str, value: str) -> None:
    """``os.environ.setdefault``, as the OpenTelemetry distro sets its defaults."""
    os.environ.setdefault(variable, value)
