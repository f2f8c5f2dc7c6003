"""The Trading dashboard's market panels: circuit breakers, exchange feeds, engine, broker."""

from __future__ import annotations

from tools import names
from tools.dashboards.common import APP, RATE, Panel, graph, legend, quantiles, query, states

# The feed panels follow the dashboard's $pair variable too.
FEED = f'{APP}, {names.PAIR}=~"$pair"'


def breakers() -> Panel:
    return states(
        "Circuit breakers",
        "State per breaker: closed, open (the engine stopped calling), half-open (probing).",
        {0: ("closed", "green"), 1: ("open", "red"), 2: ("half-open", "orange")},
        query(f"max by ({names.BREAKER}) ({names.BREAKER_STATE}{{{APP}}})", legend(names.BREAKER)),
    )


def trips() -> Panel:
    return graph(
        "Breaker trips",
        "Trips per interval; CircuitBreakerTripped fires for 60 s after each.",
        "short",
        query(
            f"sum by ({names.BREAKER}) (increase({names.BREAKER_TRIPS}{{{APP}}}{RATE}))",
            legend(names.BREAKER),
        ),
    )


def feed_latency() -> Panel:
    return graph(
        "Feed latency by pair",
        "Exchange websocket message latency, p50/p95/p99 per pair (what the crypto-ai-bot's "
        "kraken_ws_latency_p*_ms recording rules hold).",
        "ms",
        *quantiles(names.FEED_LATENCY, FEED, names.PAIR, scale=" * 1000"),
    )


def feed_status() -> Panel:
    return states(
        "Feed connection",
        "Exchange feed connection per venue.",
        {0: ("disconnected", "red"), 1: ("connected", "green")},
        query(f"min by ({names.EXCHANGE}) ({names.FEED_STATUS}{{{APP}}})", legend(names.EXCHANGE)),
    )


def reconnects() -> Panel:
    return graph(
        "Reconnects",
        "Feed reconnects per interval and venue.",
        "short",
        query(
            f"sum by ({names.EXCHANGE}) (increase({names.FEED_RECONNECTS}{{{APP}}}{RATE}))",
            legend(names.EXCHANGE),
        ),
    )


def events() -> Panel:
    return graph(
        "Events per second",
        "Feed events processed per second by type (trade, spread, ohlc, book...).",
        "short",
        query(
            f"sum by ({names.EXCHANGE_EVENT}) (rate({names.FEED_EVENTS}{{{APP}}}{RATE}))",
            legend(names.EXCHANGE_EVENT),
        ),
    )


def trades_per_minute() -> Panel:
    return graph(
        "Trades per minute",
        "Exchange trades processed per minute and pair.",
        "short",
        query(
            f"sum by ({names.PAIR}) (rate({names.FEED_TRADES}{{{FEED}}}{RATE})) * 60",
            legend(names.PAIR),
        ),
    )


def engine() -> Panel:
    return graph(
        "Engine timings (p95)",
        "Strategy cycle, market scan and market-data processing delay.",
        "s",
        *(
            query(
                f"histogram_quantile(0.95, sum by ({names.LE}) "
                f"(rate({metric}_bucket{{{APP}}}{RATE})))",
                what,
            )
            for metric, what in (
                (names.ENGINE_CYCLE, "cycle"),
                (names.SCANNER, "scan"),
                (names.MARKET_DATA_DELAY, "market data delay"),
            )
        ),
    )


def broker() -> Panel:
    return states(
        "Broker connection",
        "Broker connection per venue.",
        {0: ("disconnected", "red"), 1: ("connected", "green")},
        query(f"min by ({names.VENUE}) ({names.BROKER_STATUS}{{{APP}}})", legend(names.VENUE)),
    )


def broker_failures() -> Panel:
    return graph(
        "Broker connection failures",
        "Failed broker connection attempts per interval.",
        "short",
        query(
            f"sum by ({names.VENUE}) (increase({names.BROKER_FAILURES}{{{APP}}}{RATE}))",
            legend(names.VENUE),
        ),
    )


def rows() -> list[tuple[str, list[tuple[Panel, int, int]]]]:
    """The Trading dashboard's last rows: breakers, exchange feed, engine and broker."""
    return [
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
