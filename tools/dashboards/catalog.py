"""Every dashboard, in the order docs/alerts.md describes them."""

from __future__ import annotations

from tools.dashboards import pipeline, process, realtime, service, trading
from tools.dashboards.common import Spec

DASHBOARDS: tuple[Spec, ...] = (
    service.SPEC,
    process.SPEC,
    realtime.SPEC,
    trading.SPEC,
    pipeline.SPEC,
)
