"""Static checks of the pipeline configs, with the real tools (built once, cached)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.harness import REPO, Binaries, build_binaries


@pytest.fixture(scope="session")
def binaries() -> Binaries:
    return build_binaries()


def load_yaml(relative: str) -> Any:
    return yaml.safe_load((REPO / relative).read_text())


def dotenv() -> dict[str, str]:
    """The KEY=VALUE lines of .env (compose's and scripts/build-binaries' pinned versions)."""
    values = {}
    for line in (REPO / ".env").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value
    return values


def repo_path(relative: str) -> Path:
    return REPO / relative
