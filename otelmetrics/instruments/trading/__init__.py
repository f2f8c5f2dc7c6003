"""The trading instruments behind ``handle.trading`` (the face is :mod:`otelmetrics.trading`)."""
