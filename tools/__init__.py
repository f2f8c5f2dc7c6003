"""Generators of the committed observability files: rules, alerting, dashboards, markdown tables.

``python -m tools.render`` writes them all; ``python -m tools.render --check`` (and the
tests in tests/static) fail when a committed file differs from what the sources render. The
rules (tools/rules/) and the dashboards (tools/dashboards/) take every metric and label name
from one module, :mod:`tools.names`.
"""
