"""The resource every export carries: service, deployment, host, process and SDK attributes."""

from __future__ import annotations

import os
import platform
import socket
import sys
import uuid
from importlib.metadata import version
from typing import Any

from opentelemetry.sdk.resources import Resource

from otelmetrics.settings import Settings

__all__ = ["SCOPE_NAME", "VERSION", "build_resource", "instance_id"]

SCOPE_NAME = "otelmetrics"
VERSION = version("otelmetrics")


def build_resource(settings: Settings, instance: str) -> Resource:
    """service.*, deployment, host, process and telemetry.sdk attributes (no env reads here)."""
    attributes: dict[str, Any] = {
        "telemetry.sdk.language": "python",
        "telemetry.sdk.name": "opentelemetry",
        "telemetry.sdk.version": version("opentelemetry-sdk"),
        "telemetry.distro.name": SCOPE_NAME,
        "telemetry.distro.version": VERSION,
        "service.name": "unknown_service:python",
        "host.name": socket.gethostname(),
        "host.arch": platform.machine(),
        "os.type": sys.platform,
        "process.pid": os.getpid(),
        "process.runtime.name": sys.implementation.name,
        "process.runtime.version": platform.python_version(),
        "process.executable.name": os.path.basename(sys.executable),
    }
    attributes.update(settings.resource_attributes)
    for key, value in (
        ("service.name", settings.service_name),
        ("service.version", settings.service_version),
        ("deployment.environment.name", settings.environment),
    ):
        if value:
            attributes[key] = value
    attributes["service.instance.id"] = instance
    return Resource(attributes)


def instance_id(settings: Settings) -> str:
    """``service.instance.id`` from the resource attributes, else a new UUID."""
    return settings.resource_attributes.get("service.instance.id") or str(uuid.uuid4())
