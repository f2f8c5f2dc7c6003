"""The API's file downloads: a JSON export of everything, and the history as CSV.

File names carry the UTC time of the export, as the BotV2 MetricsMonitor named them:
``metrics_20260125_011630.json`` and ``metrics_history_20260125_011630.csv``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from otelmetrics.api.call import JSON, NO_STORE, ApiResponse, Call
from otelmetrics.core.encoding import to_json
from otelmetrics.insights.statistics import STATISTICS
from otelmetrics.insights.stats import Stats

__all__ = ["FIELDS", "csv_export", "export_csv", "export_json", "filename", "json_export"]

# The BotV2 MetricsMonitor's snapshot fields, in its order: the CSV's first columns (the 5xx
# rate, ours, comes after them).
FIELDS = ("timestamp", *(name for name in STATISTICS if name != "server_error_rate_pct"))


def filename(stem: str, now: datetime, extension: str) -> str:
    """``<stem>_YYYYMMDD_HHMMSS.<extension>`` for the time ``now``."""
    return f"{stem}_{now.strftime('%Y%m%d_%H%M%S')}.{extension}"


def json_export(stats: Stats, minutes: int, now: datetime) -> bytes:
    """Statistics (current, totals, configuration), summary and history, as one document."""
    document = {
        "success": True,
        "version": stats.version,
        "statistics": stats.statistics(),
        "summary": stats.summary(),
        "history": stats.history(minutes),
        "timestamp": now.isoformat(),
    }
    return to_json(document).encode()


def csv_export(history: Sequence[Mapping[str, Any]]) -> bytes:
    """One row per history snapshot (oldest first): the MetricsMonitor's columns, then others."""
    extra = sorted({key for row in history for key in row} - set(FIELDS))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=(*FIELDS, *extra), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(history)
    return out.getvalue().encode()


def export_json(call: Call) -> ApiResponse:
    """``GET /export/json``: :func:`json_export` as ``metrics_<time>.json``."""
    now = call.clock()
    body = json_export(call.source.stats, call.settings.history_minutes, now)
    return _download(body, JSON, filename("metrics", now, "json"))


def export_csv(call: Call) -> ApiResponse:
    """``GET /export/csv``: :func:`csv_export` as ``metrics_history_<time>.csv``."""
    now = call.clock()
    body = csv_export(call.source.stats.history(call.settings.history_minutes))
    return _download(body, "text/csv; charset=utf-8", filename("metrics_history", now, "csv"))


def _download(body: bytes, content_type: str, name: str) -> ApiResponse:
    disposition = ("Content-Disposition", f'attachment; filename="{name}"')
    return ApiResponse(200, body, content_type, NO_STORE + (disposition,))
