"""One ``/metrics`` for every worker of a pre-fork server (gunicorn, ``uvicorn --workers``).

A worker of such a server keeps its counters and histograms in an arena, a memory-mapped file
in the server's directory (:mod:`otelmetrics.core.shared`,
:mod:`otelmetrics.pipeline.server_directory`): a request updates it in place, no system call,
so nothing a worker answered is lost when it exits or is killed. Every few seconds a worker
also leaves its gauges there (process CPU and memory, users, trading positions). A scrape,
whichever worker answers it, adds up the arenas of every worker the server ever had
(:mod:`otelmetrics.core.merge`) and shows each live worker's gauges under its own
``service.instance.id`` (:mod:`otelmetrics.pipeline.worker_scrape`). The rendering is the
server's scrape process's (:mod:`otelmetrics.pipeline.scrape_server`), at a lower CPU
priority, so a scrape takes no worker's GIL; ``OTELMETRICS_SCRAPE_PROCESS=false`` keeps it in
the worker that answers, which it also falls back to when that process fails.

A single process uses none of this and pays nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from opentelemetry.sdk.resources import Resource

from otelmetrics.core.forks import pre_fork_master
from otelmetrics.insights.sampler import Sampler
from otelmetrics.pipeline.readers import ScrapeReader
from otelmetrics.pipeline.scrape_process import ScrapeProcess
from otelmetrics.pipeline.server_directory import ServerDirectory, join_server
from otelmetrics.pipeline.worker_scrape import WorkerScrape

__all__ = ["Worker", "join_as_worker"]

PUBLISH_SECONDS = 5.0  # how often a worker leaves its gauges for the others' scrapes


class Worker:
    """A worker of a pre-fork server: its scrape adds up every worker, and its gauges are left
    for the others every few seconds (stopped by :meth:`stop`)."""

    def __init__(self, server: ServerDirectory, reader: ScrapeReader, scrape: WorkerScrape) -> None:
        self.server = server
        self._reader = reader
        self._scrape = scrape
        reader.combine = scrape
        reader.elsewhere = scrape.rendered
        self._publisher = Sampler(self.publish, PUBLISH_SECONDS, name="otelmetrics-gauges")
        self.publish()  # an idle worker shows at once
        self._publisher.start()

    def publish(self) -> None:
        self.server.publish(self._scrape.own_gauges(self._reader.collect_own()))

    def stop(self) -> None:
        self._publisher.stop()
        self._reader.combine = None
        self._reader.elsewhere = None


def join_as_worker(
    reader: ScrapeReader,
    base: str | None,
    *,
    lean_names: Callable[[], set[str]],
    resource: Callable[[], Resource],
    scrape_process: bool = True,
) -> Worker | None:
    """In a pre-fork server's worker, make ``reader``'s scrapes the server's; else None.
    ``scrape_process``: the server's scrape process renders them.

    Raises:
        ValueError: The server's directory cannot be written (naming it and the fix).
    """
    master = pre_fork_master()
    if master is None:
        return None
    server = join_server(master, base)
    elsewhere = ScrapeProcess(server.directory) if scrape_process else None
    scrape = WorkerScrape(server, lean_names, resource, reader.own_lean, elsewhere)
    return Worker(server, reader, scrape)
