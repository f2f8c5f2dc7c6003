"""The resource every export carries: service, deployment, host, process and SDK attributes.

Only service.name, service.namespace, service.instance.id, service.version and
deployment.environment.name become labels on every Prometheus series
(``naming.PROMOTED_RESOURCE_ATTRIBUTES``); the rest, per-process ones such as process.pid and
process.creation.time included, land on ``target_info`` alone.
"""

from __future__ import annotations

import os
import platform
import socket
import sys
import uuid
from datetime import datetime, timezone
from importlib.metadata import version
from typing import Any

import psutil
from opentelemetry.sdk.resources import Resource

from otelmetrics.settings import Settings

__all__ = ["SCOPE_NAME", "VERSION", "build_resource", "host_arch", "instance_id"]

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
        "host.arch": host_arch(platform.machine()),
        "os.type": sys.platform,
        "process.pid": os.getpid(),
        **_creation_time(),
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


# platform.machine() -> the semantic conventions' host.arch value (Linux, macOS, Windows and the
# BSDs spell the same architecture differently).
_ARCHES = {
    **dict.fromkeys(("x86_64", "amd64", "x64"), "amd64"),
    **dict.fromkeys(("aarch64", "arm64", "aarch64_be", "armv8b", "armv8l"), "arm64"),
    **dict.fromkeys(("i386", "i486", "i586", "i686", "x86"), "x86"),
    **dict.fromkeys(("ppc", "powerpc"), "ppc32"),
    **dict.fromkeys(("ppc64", "ppc64le", "powerpc64", "powerpc64le"), "ppc64"),
    "s390x": "s390x",
    "ia64": "ia64",
}


def host_arch(machine: str) -> str:
    """``host.arch`` for ``platform.machine()``'s answer: ``amd64``, ``arm64``, ``arm32``, ...

    A machine the conventions have no value for (riscv64, loongarch64, mips) keeps the raw
    string, as the conventions allow for values outside their list.
    """
    lowered = machine.lower()
    if lowered.startswith("arm") and lowered not in _ARCHES:
        return "arm32"  # armv6l, armv7l, armv7hl, arm
    return _ARCHES.get(lowered, machine)


def _creation_time() -> dict[str, str]:
    """``process.creation.time`` (ISO 8601, UTC) of this process, or nothing if unreadable."""
    try:
        started = psutil.Process().create_time()
    except (psutil.Error, OSError):
        return {}
    return {"process.creation.time": datetime.fromtimestamp(started, timezone.utc).isoformat()}


def instance_id(settings: Settings) -> str:
    """``service.instance.id`` from the resource attributes, else a new UUID."""
    return settings.resource_attributes.get("service.instance.id") or str(uuid.uuid4())
