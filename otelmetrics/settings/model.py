"""The :class:`Settings` class: its fields read from the environment and validated.

The fields themselves are in :mod:`otelmetrics.settings.fields`; this adds the one reader of
the environment (:meth:`Settings.from_env`), the values derived from the fields, and
validation (:mod:`otelmetrics.settings.checks`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from otelmetrics.settings.checks import check_settings, invalid
from otelmetrics.settings.defaults import DEFAULT_THRESHOLDS, MAPPING_FIELDS
from otelmetrics.settings.env import given_values, parse_list
from otelmetrics.settings.fields import SettingsFields
from otelmetrics.settings.file import load as load_config_file

__all__ = ["Settings"]

# The settings whose variable is a comma-separated list (exporters, excluded_urls, symbols, ...).
_LIST_FIELDS = tuple(
    spec.name for spec in fields(SettingsFields) if spec.metadata["env"].parse is parse_list
)


@dataclass(frozen=True)
class Settings(SettingsFields):
    """Validated configuration for :func:`otelmetrics.configure`.

    Each field names its environment variable(s) in ``metadata["env"]``; the table of
    docs/configuration.md lists them all.
    """

    def __post_init__(self) -> None:
        # A partial mapping (a kwarg, or Settings(...) built directly) keeps the other defaults:
        # an endpoint class left out must not lose its rate limit.
        for name, defaults in MAPPING_FIELDS:
            object.__setattr__(self, name, {**defaults, **getattr(self, name)})
        # A list setting takes what its variable takes (``"otlp,prometheus"``) or any sequence
        # of names (a list, a tuple); it is kept as a tuple.
        for name in _LIST_FIELDS:
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, parse_list(value))
            elif isinstance(value, list | tuple):
                object.__setattr__(self, name, tuple(value))
            elif value is not None:
                raise invalid(name, value, "give names as a list or a comma-separated string")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from keyword overrides, then ``environ``, then the file, then defaults.

        The YAML file (``config_file``, from a kwarg or ``OTELMETRICS_CONFIG_FILE``) supplies
        the operations settings it holds (see :mod:`otelmetrics.config_file`); ``thresholds``
        merge key by key: default, then the file's, then the env's or the kwarg's.

        Args:
            environ: The environment to read; ``os.environ`` when omitted.
            **overrides: Field values that win over the environment. ``None`` means "not given".

        Raises:
            TypeError: An override names no setting.
            ValueError: A value is invalid; the message names the variable (or the file and
                line) and the fix.
        """
        env = os.environ if environ is None else environ
        values = given_values(fields(cls), env, overrides)
        settings = cls(**_with_file_values(values))
        settings.validate()
        return settings

    @property
    def resolved_exporters(self) -> tuple[str, ...]:
        """The exporters to build: explicit ones, else the embedded default.

        With nothing configured only the in-app Prometheus endpoint runs, so nothing points at
        a service that is not there; an OTLP endpoint turns OTLP export on as well.
        """
        if self.sdk_disabled:
            return ()
        if self.exporters is not None:
            return tuple(e for e in self.exporters if e != "none")
        wants_otlp = self.otlp_endpoint or self.otlp_metrics_endpoint
        return ("prometheus", "otlp") if wants_otlp else ("prometheus",)

    @property
    def resolved_excluded_urls(self) -> tuple[str, ...]:
        """Paths kept out of the HTTP metrics: given ones, else our own endpoints."""
        if self.excluded_urls is not None:
            return self.excluded_urls
        return (self.metrics_path, self.api_prefix + "/*", self.dashboard_path)

    @property
    def resolved_strict(self) -> bool:
        """Reject invalid domain calls with an error (development) or log and drop them.

        Unset, it follows the environment: strict in development, test and local.
        """
        if self.strict is not None:
            return self.strict
        return (self.environment or "").lower() in {"development", "dev", "local", "test"}

    def validate(self) -> None:
        """Raise ``ValueError`` naming the setting and the fix for the first bad value."""
        check_settings(self)


def _with_file_values(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` completed by the config file's (if any), thresholds merged key by key."""
    path = values.get("config_file")
    from_file = load_config_file(path) if path else {}
    merged = {**from_file, **values}
    merged["thresholds"] = {
        **DEFAULT_THRESHOLDS,
        **from_file.get("thresholds", {}),
        **values.get("thresholds", {}),
    }
    return merged
