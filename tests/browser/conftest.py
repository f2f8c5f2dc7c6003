"""Headless Chromium (Debian's ``chromium`` package) driven by Playwright for Python.

Playwright's own browser downloads are never used: ``executable_path`` points at the system
Chromium, which ``scripts/setup`` installs. A missing Chromium fails these tests (it does not
skip them), so a machine that cannot run them says so.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail(
            "Chromium is not installed: run scripts/setup (it installs Debian's chromium "
            "package), or `apt-get install -y chromium`",
            pytrace=False,
        )
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium per test module. Not per session: while Playwright's sync API runs, the
    main thread has a running event loop, and later tests calling ``asyncio.run`` would fail."""
    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
