"""A pre-fork server's directory: every worker's arena and gauges, and reading them all.

The directory is private to the server: ``<base>/<master pid>-<its start>``, base
``OTELMETRICS_MULTIPROC_DIR`` or the system's temp directory, so a previous run's files never
count; directories of servers that are gone are removed. Exited workers' arenas are folded into
one once there are more than a few, under a lock the scrapes share, so recycling workers
(``--max-requests``) never slows the scrape down.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
from opentelemetry.sdk.metrics.export import MetricsData

import otelmetrics.pipeline.metrics_json as metrics_json
from otelmetrics.core import shared
from otelmetrics.core.merge import MergedTable, merge_arenas, write_merged

__all__ = ["ServerDirectory", "join_server", "server_alive", "server_of"]

EXITED_KEPT = 4  # exited workers' arenas read as they are; beyond, folded into one
RETIRED = "retired.arena"


class ServerDirectory:
    """This worker's arena and gauges in its server's directory, and the scrape over all.

    ``worker=False``: a reader of the directory only (the scrape process), with no arena.
    """

    def __init__(self, directory: Path, master: int, *, worker: bool = True) -> None:
        self.directory = directory
        self.master = master
        if worker:
            shared.use(shared.Arena(directory / f"{os.getpid()}.arena"))
        self._parsed: dict[str, list[Any]] = {}  # the arenas' keys, parsed on earlier scrapes

    def tables(self) -> list[MergedTable]:
        """Every worker's series, summed (the exited workers' too)."""
        self._fold_exited()
        with self._locked(fcntl.LOCK_SH):
            live, exited = self._arenas()
            return merge_arenas(live, exited, self._parsed)

    def publish(self, data: MetricsData | None) -> None:
        """Leave this worker's gauges for the others' scrapes (written whole, then renamed)."""
        if data is None:
            return
        path = self.directory / f"{os.getpid()}.gauges"
        partial = path.with_suffix(".partial")
        partial.write_bytes(metrics_json.dumps(data))
        partial.replace(path)

    def gauges(self, asking: int | None = None) -> list[MetricsData]:
        """The gauges the live workers other than ``asking`` (default: this one) left."""
        asking = os.getpid() if asking is None else asking
        found = []
        for path in self.directory.glob("*.gauges"):
            pid = int(path.stem)
            if pid == asking or not self._alive(pid):
                continue
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                found.append(metrics_json.loads(path.read_bytes()))
        return found

    def _arenas(self) -> tuple[list[Path], list[Path]]:
        live: list[Path] = []
        exited: list[Path] = []
        for path in self.directory.glob("*.arena"):
            pid = path.name.split(".")[0]  # <pid>.arena, <pid>.<n>.arena, retired.arena
            alive = pid.isdigit() and self._alive(int(pid))
            (live if alive else exited).append(path)
        return live, exited

    def _fold_exited(self) -> None:
        """Fold the exited workers' arenas into one when there are more than a few."""
        _, exited = self._arenas()
        if len(exited) <= EXITED_KEPT:
            return
        with self._locked(fcntl.LOCK_EX):
            _, exited = self._arenas()  # again, under the lock
            folded = self.directory / f"{RETIRED}.{os.getpid()}"
            write_merged(merge_arenas([], exited), folded)
            folded.replace(self.directory / RETIRED)
            for path in exited:
                if path.name != RETIRED:
                    path.unlink(missing_ok=True)
                    path.with_name(path.name.split(".")[0] + ".gauges").unlink(missing_ok=True)

    def _alive(self, pid: int) -> bool:
        try:
            process = psutil.Process(pid)
            alive = process.ppid() == self.master and process.status() != psutil.STATUS_ZOMBIE
            return bool(alive)
        except psutil.Error:
            return False

    @contextlib.contextmanager
    def _locked(self, mode: int) -> Iterator[None]:
        with (self.directory / "lock").open("a") as lock:
            fcntl.flock(lock, mode)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def join_server(master: int, base: str | None) -> ServerDirectory:
    """This worker's place in the directory of the server ``master``, created if need be.

    Raises:
        ValueError: The directory cannot be created or written, naming it and the fix.
    """
    root = Path(base) if base else Path(tempfile.gettempdir()) / f"otelmetrics-{os.getuid()}"
    started = int(psutil.Process(master).create_time())
    directory = root / f"{master}-{started}"
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        _remove_gone_servers(root, keep=directory)
        server = ServerDirectory(directory, master)
        with server._locked(fcntl.LOCK_SH):  # a filesystem without flock fails here, not later
            pass
        return server
    except OSError as exc:
        raise ValueError(
            f"otelmetrics: cannot keep the workers' metrics in {directory} ({exc.strerror}); "
            "set OTELMETRICS_MULTIPROC_DIR to a writable local directory"
        ) from None


def server_of(directory: Path) -> tuple[int, int] | None:
    """The (master pid, its start) a server's directory is named for; None for another name."""
    pid, _, started = directory.name.partition("-")
    return (int(pid), int(started)) if pid.isdigit() and started.isdigit() else None


def server_alive(directory: Path) -> bool:
    """Whether the server whose directory this is still runs."""
    named = server_of(directory)
    if named is None:
        return False
    try:
        return int(psutil.Process(named[0]).create_time()) == named[1]
    except psutil.Error:
        return False


def _remove_gone_servers(root: Path, keep: Path) -> None:
    """Remove the directories of servers that no longer run (a previous run, a crash)."""
    for directory in root.iterdir():
        if directory == keep or server_of(directory) is None or server_alive(directory):
            continue
        if time.time() - directory.stat().st_mtime > 1:
            shutil.rmtree(directory, ignore_errors=True)
