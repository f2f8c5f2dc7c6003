import platform
from datetime import datetime, timezone

import psutil
import pytest

from otelmetrics.pipeline.naming import PROMOTED_RESOURCE_ATTRIBUTES
from otelmetrics.pipeline.resource import build_resource, host_arch
from otelmetrics.settings import Settings


@pytest.mark.parametrize(
    ("machine", "arch"),
    [
        ("x86_64", "amd64"),
        ("AMD64", "amd64"),  # Windows
        ("aarch64", "arm64"),
        ("arm64", "arm64"),  # macOS
        ("armv7l", "arm32"),
        ("armv6l", "arm32"),
        ("i686", "x86"),
        ("ppc64le", "ppc64"),
        ("ppc", "ppc32"),
        ("s390x", "s390x"),
        ("ia64", "ia64"),
        ("riscv64", "riscv64"),  # no value in the conventions: the raw string
        ("", ""),
    ],
)
def test_host_arch_uses_the_conventions_values(machine, arch):
    assert host_arch(machine) == arch


def test_the_resource_carries_the_conventions_arch_and_the_process_start():
    attributes = build_resource(Settings.from_env({}), "i-1").attributes
    assert attributes["host.arch"] == host_arch(platform.machine())
    assert attributes["host.arch"] in {"amd64", "arm64", "arm32", "x86", "ppc64", "s390x"}
    started = datetime.fromisoformat(str(attributes["process.creation.time"]))
    assert started.utcoffset() == timezone.utc.utcoffset(None)  # UTC: comparable across hosts
    assert started.timestamp() == pytest.approx(psutil.Process().create_time(), abs=0.001)


def test_the_process_start_is_no_label_on_every_series():
    assert "process.creation.time" not in PROMOTED_RESOURCE_ATTRIBUTES
    assert "process.pid" not in PROMOTED_RESOURCE_ATTRIBUTES
