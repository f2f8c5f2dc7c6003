"""Trading: P&L, win rate, orders, positions, circuit breakers, exchange feeds, engine, broker."""

from __future__ import annotations

from typing import Any

from tools.dashboards.common import (
    APP,
    INSTANCE_VARIABLE,
    SERVICE_VARIABLE,
    Panel,
    Spec,
    buckets,
    build,
    graph,
    query,
    single,
    states,
    variable,
)

UID = "otelmetrics-trading"
FEED = APP + ', exchange_pair=~"$pair"'
RATE = "[$__rate_interval]"
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
    'label_values(exchange_feed_latency_seconds_bucket{service_name=~"$service"}, exchange_pair)',
)


def _quantiles(metric: str, by: str, selector: str, scale: str = "") -> list[Any]:
    label = "".join(f"{{{{{b.strip()}}}}} " for b in by.split(",") if b.strip())
    return [
        query(
            f"histogram_quantile({q}, sum by ({by + ', ' if by else ''}le) "
            f"(rate({metric}_bucket{{{selector}}}{RATE}))){scale}",
            f"{label}p{round(q * 100)}",
        )
        for q in (0.5, 0.95, 0.99)
    ]


def realized() -> Panel:
    return single(
        "Realized P&L",
        "Cumulative realized P&L since the engines started, in the account currency.",
        "currencyUSD",
        query(f"sum(trading_pnl_realized{{{APP}}})"),
    )


def today() -> Panel:
    return single(
        "Today's P&L",
        "Realized today (the day in OTELMETRICS_TIMEZONE).",
        "currencyUSD",
        query(f"sum(trading_pnl_today{{{APP}}})"),
    )


def win_rate() -> Panel:
    return single(
        "Win rate",
        "Winning share of the engine's rolling window of closed trades.",
        "percentunit",
        query(f"avg(trading_win_rate_ratio{{{APP}}})"),
    )


def positions_now() -> Panel:
    return single(
        "Open positions",
        "Positions open right now, all symbols.",
        "short",
        query(f"sum(trading_positions_open{{{APP}}})"),
    )


def cumulative() -> Panel:
    return graph(
        "Cumulative realized P&L",
        "Realized P&L per instance since start.",
        "currencyUSD",
        query(f"trading_pnl_realized{{{APP}}}", "{{service_instance_id}}"),
    )


def unrealized() -> Panel:
    return graph(
        "Unrealized P&L by symbol",
        "Mark-to-market P&L of the open positions.",
        "currencyUSD",
        query(f"sum by (trading_symbol) (trading_pnl_unrealized{{{APP}}})", "{{trading_symbol}}"),
    )


def per_trade() -> Panel:
    return buckets(
        "P&L per trade",
        "Closed trades per P&L bucket over time (losses below zero).",
        "currencyUSD",
        query(f"sum by (le) (increase(trading_trade_pnl_bucket{{{APP}}}{RATE}))"),
    )


def average_trade() -> Panel:
    return graph(
        "Average win and loss",
        "Mean P&L of winning and losing trades since start.",
        "currencyUSD",
        query(
            f"sum by (trading_outcome) (trading_trade_pnl_sum{{{APP}}})\n"
            f"  / sum by (trading_outcome) (trading_trade_pnl_count{{{APP}}})",
            "{{trading_outcome}}",
        ),
    )


def orders() -> Panel:
    return graph(
        "Orders by status",
        "Orders per second: placed, filled, rejected, failed, cancelled.",
        "short",
        query(
            f"sum by (trading_order_status) (rate(trading_orders_total{{{APP}}}{RATE}))",
            "{{trading_order_status}}",
        ),
    )


def order_latency() -> Panel:
    return graph(
        "Order latency",
        "Signal to acknowledgement, p50/p95/p99.",
        "s",
        *_quantiles("trading_order_latency_seconds", "", APP),
    )


def trades() -> Panel:
    return graph(
        "Trades by outcome",
        "Closed trades per second (trade frequency), wins, losses and break-evens.",
        "short",
        query(
            f"sum by (trading_outcome) (rate(trading_trades_total{{{APP}}}{RATE}))",
            "{{trading_outcome}}",
        ),
    )


def win_rate_history() -> Panel:
    return graph(
        "Win rate",
        "The engines' rolling win rate, and the last hour's (recording rule).",
        "percentunit",
        query(f"trading_win_rate_ratio{{{APP}}}", "{{service_instance_id}} rolling"),
        query(
            'service:trading_win:ratio_increase1h{service_name=~"$service"}',
            "{{service_name}} last hour",
        ),
    )


def positions() -> Panel:
    return graph(
        "Open positions by symbol",
        "Open positions per symbol.",
        "short",
        query(f"sum by (trading_symbol) (trading_positions_open{{{APP}}})", "{{trading_symbol}}"),
    )


def exposure() -> Panel:
    return graph(
        "Exposure by symbol",
        "Notional exposure of the open positions.",
        "currencyUSD",
        query(f"sum by (trading_symbol) (trading_exposure{{{APP}}})", "{{trading_symbol}}"),
    )


def holding() -> Panel:
    return graph(
        "Holding time",
        "How long closed positions were held, p50/p95/p99.",
        "s",
        *_quantiles("trading_position_duration_seconds", "", APP),
    )


def breakers() -> Panel:
    return states(
        "Circuit breakers",
        "State per breaker: closed, open (the engine stopped calling), half-open (probing).",
        {0: ("closed", "green"), 1: ("open", "red"), 2: ("half-open", "orange")},
        query(
            f"max by (circuit_breaker_name) (circuit_breaker_state{{{APP}}})",
            "{{circuit_breaker_name}}",
        ),
    )


def trips() -> Panel:
    return graph(
        "Breaker trips",
        "Trips per interval; CircuitBreakerTripped fires for 60 s after each.",
        "short",
        query(
            f"sum by (circuit_breaker_name) (increase(circuit_breaker_trips_total{{{APP}}}{RATE}))",
            "{{circuit_breaker_name}}",
        ),
    )


def feed_latency() -> Panel:
    return graph(
        "Feed latency by pair",
        "Exchange websocket message latency, p50/p95/p99 per pair (what seed 003's "
        "kraken_ws_latency_p*_ms recording rules hold).",
        "ms",
        *_quantiles("exchange_feed_latency_seconds", "exchange_pair", FEED, " * 1000"),
    )


def feed_status() -> Panel:
    return states(
        "Feed connection",
        "Exchange feed connection per venue.",
        {0: ("disconnected", "red"), 1: ("connected", "green")},
        query(
            f"min by (exchange_venue) (exchange_feed_connection_status{{{APP}}})",
            "{{exchange_venue}}",
        ),
    )


def reconnects() -> Panel:
    return graph(
        "Reconnects",
        "Feed reconnects per interval and venue.",
        "short",
        query(
            f"sum by (exchange_venue) (increase(exchange_feed_reconnects_total{{{APP}}}{RATE}))",
            "{{exchange_venue}}",
        ),
    )


def events() -> Panel:
    return graph(
        "Events per second",
        "Feed events processed per second by type (trade, spread, ohlc, book...).",
        "short",
        query(
            f"sum by (exchange_event_type) (rate(exchange_feed_events_total{{{APP}}}{RATE}))",
            "{{exchange_event_type}}",
        ),
    )


def trades_per_minute() -> Panel:
    return graph(
        "Trades per minute",
        "Exchange trades processed per minute and pair.",
        "short",
        query(
            f"sum by (exchange_pair) (rate(exchange_feed_trades_total{{{FEED}}}{RATE})) * 60",
            "{{exchange_pair}}",
        ),
    )


def engine() -> Panel:
    return graph(
        "Engine timings (p95)",
        "Strategy cycle, market scan and market-data processing delay.",
        "s",
        *(
            query(
                f"histogram_quantile(0.95, sum by (le) (rate({metric}_bucket{{{APP}}}{RATE})))",
                legend,
            )
            for metric, legend in (
                ("trading_engine_cycle_duration_seconds", "cycle"),
                ("trading_scanner_duration_seconds", "scan"),
                ("trading_market_data_delay_seconds", "market data delay"),
            )
        ),
    )


def broker() -> Panel:
    return states(
        "Broker connection",
        "Broker connection per venue.",
        {0: ("disconnected", "red"), 1: ("connected", "green")},
        query(
            f"min by (trading_venue) (trading_broker_connection_status{{{APP}}})",
            "{{trading_venue}}",
        ),
    )


def broker_failures() -> Panel:
    return graph(
        "Broker connection failures",
        "Failed broker connection attempts per interval.",
        "short",
        query(
            f"sum by (trading_venue) "
            f"(increase(trading_broker_connection_failures_total{{{APP}}}{RATE}))",
            "{{trading_venue}}",
        ),
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
        ("Circuit breakers", [(breakers(), 12, 6), (trips(), 12, 6)]),
        (
            "Exchange feed",
            [
                (feed_latency(), 12, 8),
                (feed_status(), 12, 8),
                (reconnects(), 8, 8),
                (events(), 8, 8),
                (trades_per_minute(), 8, 8),
            ],
        ),
        ("Engine and broker", [(engine(), 8, 8), (broker(), 8, 8), (broker_failures(), 8, 8)]),
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
