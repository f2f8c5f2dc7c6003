"""Run the trading demo: one handle, two instrumented apps, the simulation and the load.

``otelmetrics demo`` parses its flags into :class:`DemoOptions` and calls :func:`run`, which
configures one handle (the embedded default: Prometheus ``/metrics`` and the JSON API on both
apps; OTLP too when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set), serves the Flask dashboard and the
FastAPI API in threads, steps the simulation in real time, starts the load generator, prints
the URLs and how to authenticate, and serves until interrupted or ``duration`` has passed.
"""

from __future__ import annotations

import faulthandler
import logging
import os
import secrets
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

from otelmetrics import MetricsHandle, configure
from otelmetrics.demo.options import DemoOptions, Tokens
from otelmetrics.settings import Settings

if TYPE_CHECKING:
    from otelmetrics.demo.app import DemoService

__all__ = ["run"]

_logger = logging.getLogger(__name__)
SERVICE_NAME = "otelmetrics-demo"
QUIET_LOGGERS = ("werkzeug", "engineio", "socketio", "uvicorn.error")
CLOSE_SECONDS = 10.0  # the clients and both servers, before the handle's own shutdown bound


def run(options: DemoOptions, *, out: TextIO = sys.stdout) -> int:
    """Serve the demo until SIGINT/SIGTERM or ``options.duration``; returns the exit status.

    Raises:
        SystemExit: A demo dependency is missing, or a port is in use (with the fix).
        ValueError: A scenario name, time or duration is invalid, or a setting in the env is.
    """
    _require_extras()
    from otelmetrics.demo.scenarios import Scenarios

    board = Scenarios()
    for scheduled in options.scenarios:  # invalid ones fail before anything starts
        board.schedule(scheduled.name, scheduled.at, scheduled.duration)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    seed = options.seed if options.seed is not None else secrets.randbelow(1_000_000)
    handle, tokens = _configure()
    deadline: threading.Timer | None = None
    try:
        from otelmetrics.demo.app import DemoService

        service = DemoService(handle, board, seed=seed, host=options.host)
        with _stop_on_sigterm(service.stop):
            try:
                _serve_until_stopped(service, options, seed, tokens, out)
            finally:
                deadline = _exit_within(CLOSE_SECONDS + handle.settings.shutdown_timeout)
                service.close()
    finally:
        handle.shutdown()
        if deadline is not None:
            deadline.cancel()  # stopped in time: a caller that goes on is not ended later
    return 0


def _serve_until_stopped(
    service: DemoService, options: DemoOptions, seed: int, tokens: Tokens, out: TextIO
) -> None:
    from otelmetrics.demo.banner import banner

    service.start(options.dashboard_port, options.api_port, traffic=options.traffic)
    print(banner(service, options, seed, tokens), file=out, flush=True)
    try:
        service.stop.wait(options.duration)
    except KeyboardInterrupt:
        pass
    service.stop.set()


def _exit_within(seconds: float) -> threading.Timer | None:
    """Past ``seconds``, print where every thread is and end the process: a demo that was told
    to stop never outlives its grace period, and a hang says where it hangs. Returns the timer
    to cancel once stopped (None off the main thread: not our process to end)."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def expire() -> None:
        _logger.error("otelmetrics demo did not stop within %.1f s; exiting", seconds)
        faulthandler.dump_traceback(all_threads=True)
        os._exit(1)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    return timer


def _require_extras() -> None:
    missing = []
    for module in ("flask", "flask_socketio", "fastapi", "uvicorn", "websockets", "socketio"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise SystemExit(
            f"otelmetrics demo needs {', '.join(missing)}: pip install 'otelmetrics[demo]'"
        )


def _configure() -> tuple[MetricsHandle, Tokens]:
    """One handle from the env; tokens missing from the env are generated for this run."""
    env = Settings.from_env()
    new_read = None if env.api_token else secrets.token_urlsafe(24)
    new_admin = None if env.api_admin_token else secrets.token_urlsafe(24)
    handle = configure(
        service_name=None if env.service_name else SERVICE_NAME,
        api_token=new_read,  # None: keep the env's
        api_admin_token=new_admin,
    )
    return handle, Tokens(new_read, new_admin)


@contextmanager
def _stop_on_sigterm(stop: threading.Event) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)
