"""The promtool inputs of the HTTP rules: service orders, route /orders.

Unless a case says otherwise, 100 requests arrive per 15 s step.
"""

from __future__ import annotations

from tools import names
from tools.rules.promql import matchers, series

ORDERS = {names.ENV: "prod", names.SERVICE_NAME: "orders"}
ORDERS_ROUTE = {**ORDERS, names.ROUTE: "/orders"}


def requests(status: str, values: str) -> tuple[str, str]:
    """The request count of responses with ``status``."""
    return (series(names.HTTP_REQUESTS, {**ORDERS_ROUTE, names.STATUS: status}), values)


def bucket(le: str, values: str) -> tuple[str, str]:
    """One duration bucket of the 200 responses."""
    return (series(names.HTTP_BUCKET, {**ORDERS_ROUTE, names.STATUS: "200", names.LE: le}), values)


def latency(fast: str, slow: str, total: str) -> dict[str, str]:
    """Buckets where ``fast`` requests take <= 0.5 s, ``slow`` <= 1 s, the rest <= 2.5 s."""
    return dict(
        [
            requests("200", total),
            bucket("0.5", fast),
            bucket("1", slow),
            bucket("2.5", total),
            bucket("+Inf", total),
        ]
    )


def labels(of: dict[str, str]) -> str:
    """An expected sample's label set, ``{a="x", b="y"}``."""
    return f"{{{matchers(of)}}}"
