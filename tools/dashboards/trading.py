"""Trading: P&L, win rate, orders, positions, circuit breakers, exchange feeds, engine, broker."""

from __future__ import annotations

from typing import Any

from tools import names
from tools.dashboards import markets
from tools.dashboards.common import (
    APP,
    INSTANCE_VARIABLE,
    RATE,
    SERVICE_VARIABLE,
    Panel,
    Spec,
    buckets,
    build,
    graph,
    legend,
    quantiles,
    query,
    single,
    variable,
)

UID = "otelmetrics-trading"
DESCRIPTION = (
    "The trading engine: realized (cumulative and per trade), unrealized and today's P&L, "
    "win rate, orders by status and order latency, open positions and exposure, circuit "
    "breaker states and trips, exchange feed latency p50/p95/p99 by pair, connection, "
    "reconnects, events per second and trades per minute, engine timings and the broker "
    "connection."
)

PAIR_VARIABLE = variable(
    "pair",
    "Pair",
    f'label_values({names.FEED_LATENCY}_bucket{{{names.SERVICE_NAME}=~"$service"}}, {names.PAIR})',
)


def _by_symbol(metric: str) -> Any:
    return query(f"sum by ({names.SYMBOL}) ({metric}{{{APP}}})", legend(names.SYMBOL))


def realized() -> Panel:
    return single(
        "Realized P&L",
        "Cumulative realized P&L since the engines started, in the account currency.",
        "currencyUSD",
        query(f"sum({names.PNL_REALIZED}{{{APP}}})"),
    )


def today() -> Panel:
    return single(
        "Today's P&L",
        "Realized today (the day in OTELMETRICS_TIMEZONE).",
        "currencyUSD",
        query(f"sum({names.PNL_TODAY}{{{APP}}})"),
    )


def win_rate() -> Panel:
    return single(
        "Win rate",
        "Winning share of the engine's rolling window of closed trades.",
        "percentunit",
        query(f"avg({names.WIN_RATE}{{{APP}}})"),
    )


def positions_now() -> Panel:
    return single(
        "Open positions",
        "Positions open right now, all symbols.",
        "short",
        query(f"sum({names.POSITIONS_OPEN}{{{APP}}})"),
    )


def cumulative() -> Panel:
    return graph(
        "Cumulative realized P&L",
        "Realized P&L per instance since start.",
        "currencyUSD",
        query(f"{names.PNL_REALIZED}{{{APP}}}", legend(names.INSTANCE_ID)),
    )


def unrealized() -> Panel:
    return graph(
        "Unrealized P&L by symbol",
        "Mark-to-market P&L of the open positions.",
        "currencyUSD",
        _by_symbol(names.PNL_UNREALIZED),
    )


def per_trade() -> Panel:
    return buckets(
        "P&L per trade",
        "Closed trades per P&L bucket over time (losses below zero).",
        "currencyUSD",
        query(f"sum by ({names.LE}) (increase({names.TRADE_PNL}_bucket{{{APP}}}{RATE}))"),
    )


def average_trade() -> Panel:
    return graph(
        "Average win and loss",
        "Mean P&L of winning and losing trades since start.",
        "currencyUSD",
        query(
            f"sum by ({names.OUTCOME}) ({names.TRADE_PNL}_sum{{{APP}}})\n"
            f"  / sum by ({names.OUTCOME}) ({names.TRADE_PNL}_count{{{APP}}})",
            legend(names.OUTCOME),
        ),
    )


def orders() -> Panel:
    return graph(
        "Orders by status",
        "Orders per second: placed, filled, rejected, failed, cancelled.",
        "short",
        query(
            f"sum by ({names.ORDER_STATUS}) (rate({names.ORDERS}{{{APP}}}{RATE}))",
            legend(names.ORDER_STATUS),
        ),
    )


def order_latency() -> Panel:
    return graph(
        "Order latency",
        "Signal to acknowledgement, p50/p95/p99.",
        "s",
        *quantiles(names.ORDER_LATENCY, APP),
    )


def trades() -> Panel:
    return graph(
        "Trades by outcome",
        "Closed trades per second (trade frequency), wins, losses and break-evens.",
        "short",
        query(
            f"sum by ({names.OUTCOME}) (rate({names.TRADES}{{{APP}}}{RATE}))",
            legend(names.OUTCOME),
        ),
    )


def win_rate_history() -> Panel:
    return graph(
        "Win rate",
        "The engines' rolling win rate, and the last hour's (recording rule).",
        "percentunit",
        query(f"{names.WIN_RATE}{{{APP}}}", f"{legend(names.INSTANCE_ID)} rolling"),
        query(
            f'{names.WIN_RATIO_1H}{{{names.SERVICE_NAME}=~"$service"}}',
            f"{legend(names.SERVICE_NAME)} last hour",
        ),
    )


def positions() -> Panel:
    return graph(
        "Open positions by symbol",
        "Open positions per symbol.",
        "short",
        _by_symbol(names.POSITIONS_OPEN),
    )


def exposure() -> Panel:
    return graph(
        "Exposure by symbol",
        "Notional exposure of the open positions.",
        "currencyUSD",
        _by_symbol(names.EXPOSURE),
    )


def holding() -> Panel:
    return graph(
        "Holding time",
        "How long closed positions were held, p50/p95/p99.",
        "s",
        *quantiles(names.POSITION_DURATION, APP),
    )


def rows() -> list[tuple[str, list[tuple[Panel, int, int]]]]:
    return [
        (
            "Now",
            [(realized(), 6, 4), (today(), 6, 4), (win_rate(), 6, 4), (positions_now(), 6, 4)],
        ),
        (
            "P&L",
            [
                (cumulative(), 12, 8),
                (unrealized(), 12, 8),
                (per_trade(), 12, 8),
                (average_trade(), 12, 8),
            ],
        ),
        (
            "Orders and trades",
            [
                (orders(), 12, 8),
                (order_latency(), 12, 8),
                (trades(), 12, 8),
                (win_rate_history(), 12, 8),
            ],
        ),
        ("Positions", [(positions(), 8, 8), (exposure(), 8, 8), (holding(), 8, 8)]),
        *markets.rows(),
    ]


def board() -> Any:
    return build(
        UID,
        "Trading",
        DESCRIPTION,
        [SERVICE_VARIABLE, INSTANCE_VARIABLE, PAIR_VARIABLE],
        rows(),
    )


SPEC = Spec(UID, "Trading", DESCRIPTION, board)
