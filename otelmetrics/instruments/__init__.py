"""otelmetrics' own instruments: HTTP, websockets, users, process, gauges, events, trading.

Built on :mod:`otelmetrics.core` and the OpenTelemetry API only.
"""
