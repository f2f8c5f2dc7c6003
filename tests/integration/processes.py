"""Start and stop real server processes on 127.0.0.1 for integration tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    # A server that hangs on exit is killed with SIGABRT first: faulthandler prints every thread.
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONFAULTHANDLER": "1", **env}
    return subprocess.Popen(
        args,
        cwd=ROOT,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_http(url: str, process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}:\n{stop(process)}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                response.read()
                return
        except Exception as exc:  # noqa: BLE001 - retried until the deadline
            last = exc
            time.sleep(0.1)
    raise AssertionError(f"{url} not up after {timeout}s; last error: {last!r}")


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> str:
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            kill_with_tracebacks(process)
    if process.stdout is None:
        return ""
    with process.stdout:
        return process.stdout.read().decode()


def kill_with_tracebacks(process: subprocess.Popen[bytes]) -> None:
    """SIGABRT (faulthandler prints where every thread is), then SIGKILL if that is ignored."""
    os.killpg(process.pid, signal.SIGABRT)
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


PYTHON = sys.executable
