"""One ``/metrics`` for every worker of a pre-fork server (gunicorn, ``uvicorn --workers``).

A worker of such a server keeps its counters and histograms in an arena, a memory-mapped file
in the server's directory (:mod:`otelmetrics.core.shared`): a request updates it in place, no
system call, so nothing a worker answered is lost when it exits or is killed. Every few
seconds a worker also leaves its gauges there (process CPU and memory, users, trading
positions). A scrape, whichever worker answers it, adds up the arenas of every worker the
server ever had (:mod:`otelmetrics.core.merge`) and shows each live worker's gauges under its
own ``service.instance.id``. The directory is private to the server: ``<base>/<master pid>-<its
start>``, base ``OTELMETRICS_MULTIPROC_DIR`` or the system's temp directory, so a previous run's
files never count; directories of servers that are gone are removed. Exited workers' arenas
are folded into one once there are more than a few, under a lock the scrapes share, so
recycling workers (``--max-requests``) never slows the scrape down.

A single process uses none of this and pays nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import psutil
from opentelemetry.sdk.metrics.export import MetricsData, ScopeMetrics
from opentelemetry.sdk.resources import Resource

import otelmetrics.pipeline.metrics_json as metrics_json
from otelmetrics.core import shared
from otelmetrics.core.forks import pre_fork_master
from otelmetrics.core.merge import MergedTable, merge_arenas, write_merged
from otelmetrics.core.once import LogOnce
from otelmetrics.insights.sampler import Sampler
from otelmetrics.pipeline.lean_exposition import LeanGroup, LeanText
from otelmetrics.pipeline.readers import Scrape, ScrapeReader

__all__ = ["ServerDirectory", "Worker", "WorkerScrape", "join_as_worker", "join_server"]

_logger = logging.getLogger(__name__)

PUBLISH_SECONDS = 5.0  # how often a worker leaves its gauges for the others' scrapes
EXITED_KEPT = 4  # exited workers' arenas read as they are; beyond, folded into one
RETIRED = "retired.arena"


class ServerDirectory:
    """This worker's arena and gauges in its server's directory, and the scrape over all."""

    def __init__(self, directory: Path, master: int) -> None:
        self.directory = directory
        self.master = master
        self.arena = shared.Arena(directory / f"{os.getpid()}.arena")
        shared.use(self.arena)
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

    def gauges(self) -> list[MetricsData]:
        """The gauges the other live workers left."""
        found = []
        for path in self.directory.glob("*.gauges"):
            pid = int(path.stem)
            if pid == os.getpid() or not self._alive(pid):
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


def _remove_gone_servers(root: Path, keep: Path) -> None:
    """Remove the directories of servers that no longer run (a previous run, a crash)."""
    for directory in root.iterdir():
        pid, _, started = directory.name.partition("-")
        if directory == keep or not pid.isdigit() or not started.isdigit():
            continue
        try:
            gone = int(psutil.Process(int(pid)).create_time()) != int(started)
        except psutil.Error:
            gone = True
        if gone and time.time() - directory.stat().st_mtime > 1:
            shutil.rmtree(directory, ignore_errors=True)


class WorkerScrape:
    """A worker's scrape: its own gauges, every live worker's gauges, and every worker's lean
    series summed under the server's identity (``service.instance.id`` of the server).

    Args:
        server: This worker's place in the server's directory.
        lean_names: The names of the lean instruments (their series come from the arenas).
        resource: This worker's resource, of which the server's is made.
        own_lean: This worker's own lean series, shown alone if adding up the workers fails.
    """

    def __init__(
        self,
        server: ServerDirectory,
        lean_names: Callable[[], set[str]],
        resource: Callable[[], Resource],
        own_lean: Callable[[], tuple[LeanGroup, ...]] = tuple,
    ) -> None:
        self.server = server
        self._lean_names = lean_names
        self._text = LeanText()  # the merged series' label texts, kept between scrapes
        self._resource = resource
        self._own_lean = own_lean
        self._log_once = LogOnce(_logger, logging.ERROR, later=None)

    def own_gauges(self, data: MetricsData | None) -> MetricsData | None:
        """``data`` without the lean series (they are in the arenas, this worker's too)."""
        if data is None:
            return None
        lean = self._lean_names()
        return MetricsData(
            [
                replace(
                    group, scope_metrics=[_without(scope, lean) for scope in group.scope_metrics]
                )
                for group in data.resource_metrics
            ]
        )

    def __call__(self, data: MetricsData | None) -> Scrape:
        """The server's data; this worker's alone (logged once) if the directory fails."""
        try:
            return self._combined(data)
        except Exception:  # never a 500 on a scrape: show what this worker has
            self._log_once("scrape", "otelmetrics: adding up the workers failed", exc_info=True)
            return Scrape(data, self._own_lean())

    def _combined(self, data: MetricsData | None) -> Scrape:
        own = self.own_gauges(data)
        groups = list(own.resource_metrics) if own is not None else []
        for other in self.server.gauges():
            groups.extend(other.resource_metrics)
        merged = self._text.group(
            self.server.tables(), server_resource(self._resource(), self.server)
        )
        return Scrape(MetricsData(groups) if groups else None, (merged,))


def server_resource(worker: Resource, server: ServerDirectory) -> Resource:
    """The server's resource: the worker's, less what belongs to one process, and the server's
    own instance id (stable for the server's life)."""
    attributes = {
        key: value for key, value in worker.attributes.items() if not key.startswith("process.")
    }
    attributes["service.instance.id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, str(server.directory)))
    return Resource(attributes, worker.schema_url)


def _without(scope: ScopeMetrics, names: set[str]) -> ScopeMetrics:
    return replace(scope, metrics=[metric for metric in scope.metrics if metric.name not in names])


class Worker:
    """A worker of a pre-fork server: its scrape adds up every worker, and its gauges are left
    for the others every few seconds (stopped by :meth:`stop`)."""

    def __init__(self, server: ServerDirectory, reader: ScrapeReader, scrape: WorkerScrape) -> None:
        self.server = server
        self._reader = reader
        self._scrape = scrape
        reader.combine = scrape
        self._publisher = Sampler(self.publish, PUBLISH_SECONDS, name="otelmetrics-gauges")
        self.publish()  # an idle worker shows at once
        self._publisher.start()

    def publish(self) -> None:
        self.server.publish(self._scrape.own_gauges(self._reader.collect_own()))

    def stop(self) -> None:
        self._publisher.stop()
        self._reader.combine = None


def join_as_worker(
    reader: ScrapeReader,
    base: str | None,
    *,
    lean_names: Callable[[], set[str]],
    resource: Callable[[], Resource],
) -> Worker | None:
    """In a pre-fork server's worker, make ``reader``'s scrapes the server's; else None.

    Raises:
        ValueError: The server's directory cannot be written (naming it and the fix).
    """
    master = pre_fork_master()
    if master is None:
        return None
    server = join_server(master, base)
    return Worker(server, reader, WorkerScrape(server, lean_names, resource, reader.own_lean))
