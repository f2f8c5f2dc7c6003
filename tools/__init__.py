"""Generators of the committed observability files: rules, alerting, dashboards, README tables.

``python -m tools.render`` writes them all; ``python -m tools.render --check`` (and the
tests in tests/static) fail when a committed file differs from what the sources render.
"""
