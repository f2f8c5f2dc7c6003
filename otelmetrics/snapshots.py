"""The CSV snapshot log (``handle.snapshots``), at the import path the docs give.

The implementation is :mod:`otelmetrics.insights.snapshots`.
"""

from otelmetrics.insights.snapshots import COLUMNS, SnapshotLog

__all__ = ["COLUMNS", "SnapshotLog"]
