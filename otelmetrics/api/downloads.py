"""The API's file downloads: a JSON export of everything, and the history as CSV.

File names carry the UTC time of the export, as seed 001 had them:
``metrics_20260125_011630.json`` and ``metrics_history_20260125_011630.csv``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from otelmetrics.core.encoding import to_json
from otelmetrics.insights.stats import STATISTICS

if TYPE_CHECKING:
    from otelmetrics.insights.stats import Stats

__all__ = ["FIELDS", "csv_export", "filename", "json_export"]

# The snapshot fields of seed 001, in its order: the CSV's first columns (the 5xx rate, ours,
# comes after them).
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


def csv_export(history: Sequence[dict[str, Any]]) -> bytes:
    """One row per history snapshot (oldest first): seed 001's columns, then any others."""
    extra = sorted({key for row in history for key in row} - set(FIELDS))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=(*FIELDS, *extra), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(history)
    return out.getvalue().encode()
