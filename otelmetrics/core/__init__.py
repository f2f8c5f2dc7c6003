"""The lean recording path: aggregators, series tables, the producer, the rolling window.

Imports nothing else of otelmetrics; everything above it builds on it (docs/architecture.md).
"""
