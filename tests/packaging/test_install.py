"""Installable as users install: the wheel and sdist, each extra in a fresh venv, no constraints.

``python -m build`` makes the wheel and sdist and ``twine check --strict`` checks their
metadata. Then each case makes a venv with ``python -m venv`` (the pip that Python ships,
as a user's first venv has), runs ``pip install 'otelmetrics[extra]'`` from the wheel (one case
from the sdist) with no constraints file, ``pip check``, and the smoke app (``smoke.py``).
An extra that does not resolve fails with pip's own message.

The cases run three at a time in the background while pytest reports them one by one. pip's
own cache (its default directory, never disabled here) keeps the downloads; most of a case is
pip's resolver reading the index, which no cache may skip without hiding what users get.
A Python missing from the machine fails its cases: install it (``pyenv install 3.10``).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parents[2]
SMOKE = Path(__file__).with_name("smoke.py")
EVERY = ("flask", "fastapi", "socketio", "yaml", "demo")
PARALLEL = 3  # pip is CPU-bound, with network waits between: 3 keeps 2 cores busy
TIMEOUT = 900  # seconds per step: pip's own "resolution-too-deep" comes well before
# A constraints file or a project venv leaking into the fresh venvs would hide what users see.
UNSET = (
    "PIP_CONSTRAINT",
    "PIP_NO_CACHE_DIR",
    "PIP_REQUIRE_VIRTUALENV",
    "PYTHONPATH",
    "VIRTUAL_ENV",
)


@dataclass(frozen=True)
class Case:
    """``pip install 'otelmetrics[extras]'`` on ``python`` from the wheel (or the sdist)."""

    python: str
    extras: str
    smokes: tuple[str, ...]
    artifact: str = "wheel"

    def __str__(self) -> str:
        return f"py{self.python}-{self.extras.replace(',', '+')}-{self.artifact}"


# The longest first: they start while the short ones fill the other slots.
CASES = [
    Case("3.10", "all", EVERY),
    Case("3.13", "all", EVERY),
    Case("3.11", "demo", ("flask", "fastapi", "socketio", "demo")),
    Case("3.11", "flask,fastapi", ("flask", "fastapi"), artifact="sdist"),
    Case("3.11", "flask", ("flask",)),
    Case("3.11", "fastapi", ("fastapi",)),
    Case("3.11", "socketio", ("socketio",)),
    Case("3.11", "yaml", ("yaml",)),
]


@dataclass
class Run:
    """What one case did: each step's command, exit status, output and seconds."""

    case: Case
    steps: list[tuple[str, int, str, float]] = field(default_factory=list)

    def step(self, name: str, argv: list[str], *, cwd: Path, env: dict[str, str]) -> bool:
        started = time.monotonic()
        try:
            done = subprocess.run(
                argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT
            )
            status, output = done.returncode, done.stdout + done.stderr
        except subprocess.TimeoutExpired as exc:
            status, output = -1, f"timed out after {TIMEOUT} s\n{exc.stdout!r}\n{exc.stderr!r}"
        self.steps.append((name, status, output, time.monotonic() - started))
        return status == 0

    def failure(self) -> str | None:
        """The failed step with the end of its output, or None when every step passed."""
        for name, status, output, seconds in self.steps:
            if status != 0:
                tail = "\n".join(output.splitlines()[-40:])
                return f"{self.case}: {name} exited {status} after {seconds:.0f} s\n{tail}"
        return None


def find_python(version: str) -> str | None:
    """A working ``python3.X``: pyenv's builds first (its shims may refuse), then PATH."""
    pyenv = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    found = sorted(glob.glob(f"{pyenv}/versions/{version}.*/bin/python{version}"), reverse=True)
    for candidate in [*found, shutil.which(f"python{version}")]:
        if candidate and subprocess.run([candidate, "-V"], capture_output=True).returncode == 0:
            return candidate
    return None


def clean_env() -> dict[str, str]:
    return {
        name: value
        for name, value in os.environ.items()
        if name not in UNSET and not name.startswith(("OTEL_", "OTELMETRICS_"))
    }


def install(case: Case, artifact: Path, work: Path) -> Run:
    """Fresh venv, install from ``artifact`` without constraints, pip check, the smoke app."""
    run = Run(case)
    python = find_python(case.python)
    if python is None:
        missing = f"no working python{case.python}: install it (pyenv install {case.python})"
        run.steps.append(("find python", 1, missing, 0))
        return run
    venv, env = work / str(case), clean_env()
    venv_python = str(venv / "bin" / "python")
    pip = [venv_python, "-m", "pip", "--no-input"]
    steps = [
        ("venv", [python, "-m", "venv", str(venv)]),
        # --no-compile: the .pyc files are no part of what resolves (and took a fifth of it).
        ("pip install", [*pip, "install", "--no-compile", f"{artifact}[{case.extras}]"]),
        ("pip check", [*pip, "check"]),
        ("smoke", [venv_python, "-I", str(SMOKE), *case.smokes]),
    ]
    try:
        for name, argv in steps:
            if not run.step(name, argv, cwd=work, env=env):
                break
    finally:
        if case.artifact == "sdist":  # pip caches the wheel it built, a new one every build
            subprocess.run([*pip, "cache", "remove", "otelmetrics"], env=env, capture_output=True)
        shutil.rmtree(venv, ignore_errors=True)  # about 100 MB each
    return run


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The wheel and sdist ``python -m build`` makes of this checkout."""
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 0, f"python -m build failed:\n{done.stdout}\n{done.stderr}"
    return {"wheel": next(out.glob("*.whl")), "sdist": next(out.glob("*.tar.gz"))}


@pytest.fixture(scope="session")
def runs(
    request: pytest.FixtureRequest, dist: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[Case, Future[Run]]]:
    """Every selected case started at once, :data:`PARALLEL` at a time."""
    selected: list[Case] = []
    for item in request.session.items:
        callspec = getattr(item, "callspec", None)
        case = callspec.params.get("case") if callspec else None
        if isinstance(case, Case):
            selected.append(case)
    work = tmp_path_factory.mktemp("venvs")
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        yield {case: pool.submit(install, case, dist[case.artifact], work) for case in selected}


def test_twine_check(dist: dict[str, Path]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, dist.values())],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("case", CASES, ids=str)
def test_extra_installs(case: Case, runs: dict[Case, Future[Run]]) -> None:
    failure = runs[case].result().failure()
    if failure is not None:
        pytest.fail(failure, pytrace=False)
