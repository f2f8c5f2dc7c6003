"""A worker's scrape: its own gauges, every live worker's gauges, every worker's series summed.

:func:`server_scrape` is what a scrape shows, whoever renders it: the worker that answers, or
the server's scrape process (:mod:`otelmetrics.pipeline.scrape_server`), to which a worker hands
the rendering when it has one (:class:`WorkerScrape.rendered`).
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable
from dataclasses import replace

from opentelemetry.sdk.metrics.export import MetricsData, ScopeMetrics
from opentelemetry.sdk.resources import Resource

import otelmetrics.pipeline.metrics_json as metrics_json
from otelmetrics.core.once import LogOnce
from otelmetrics.pipeline.lean_exposition import LeanGroup, LeanText
from otelmetrics.pipeline.readers import Scrape
from otelmetrics.pipeline.scrape_process import ScrapeProcess, ScrapeRequest
from otelmetrics.pipeline.server_directory import ServerDirectory

__all__ = ["WorkerScrape", "server_resource", "server_scrape"]

_logger = logging.getLogger(__name__)


class WorkerScrape:
    """A worker's scrape: its own gauges, every live worker's gauges, and every worker's lean
    series summed under the server's identity (``service.instance.id`` of the server).

    Args:
        server: This worker's place in the server's directory.
        lean_names: The names of the lean instruments (their series come from the arenas).
        resource: This worker's resource, of which the server's is made.
        own_lean: This worker's own lean series, shown alone if adding up the workers fails.
        elsewhere: The server's scrape process, which renders the scrape (None: this worker).
    """

    def __init__(
        self,
        server: ServerDirectory,
        lean_names: Callable[[], set[str]],
        resource: Callable[[], Resource],
        own_lean: Callable[[], tuple[LeanGroup, ...]] = tuple,
        elsewhere: ScrapeProcess | None = None,
    ) -> None:
        self.server = server
        self._lean_names = lean_names
        self._text = LeanText()  # the merged series' label texts, kept between scrapes
        self._resource = resource
        self._own_lean = own_lean
        self.elsewhere = elsewhere
        self._log_once = LogOnce(_logger, logging.ERROR, later=None)
        self._elsewhere_failed = LogOnce(_logger)

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
        resource = server_resource(self._resource(), self.server)
        return server_scrape(self.server, self._text, self.own_gauges(data), resource)

    def rendered(
        self, data: MetricsData | None, openmetrics: bool, gzip: bool, wait: float
    ) -> bytes | None:
        """The server's exposition rendered by its scrape process within ``wait`` seconds, or
        None to render it here (the process failed: logged once, loudly again after it worked)."""
        if self.elsewhere is None:
            return None
        try:
            own = self.own_gauges(data)
            resource = server_resource(self._resource(), self.server)
            request = ScrapeRequest(
                pid=os.getpid(),
                openmetrics=openmetrics,
                gzip=gzip,
                resource=dict(resource.attributes),
                schema_url=resource.schema_url,
            )
            raw = b"" if own is None else metrics_json.dumps(own)
            body = self.elsewhere.render(request, raw, wait)
        except Exception:
            self._elsewhere_failed(
                "render",
                "otelmetrics: the scrape process failed; the worker renders",
                exc_info=True,
            )
            return None
        self._elsewhere_failed.forget("render")
        return body


def server_scrape(
    server: ServerDirectory,
    text: LeanText,
    own: MetricsData | None,
    resource: Resource,
    asking: int | None = None,
) -> Scrape:
    """What the server's ``/metrics`` shows: ``own`` (the gauges of the worker ``asking``, by
    default this process), every other live worker's gauges, and every worker's lean series
    summed under the server's ``resource``."""
    groups = list(own.resource_metrics) if own is not None else []
    for other in server.gauges(asking):
        groups.extend(other.resource_metrics)
    merged = text.group(server.tables(), resource)
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
