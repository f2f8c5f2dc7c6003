"""The crypto-ai-bot compatibility rules: its Prometheus names, recorded from our instruments.

The crypto-ai-bot's dashboards read ``kraken_ws_latency_p50_ms{pair=...}`` and friends. These
recording rules give them those names, with a ``pair`` label copied from ``exchange_pair`` and
``event_type`` from ``exchange_event_type``. Two of its names, ``circuit_breaker_state`` and
``circuit_breaker_trips_total``, are exactly what our instruments ``circuit_breaker.state`` and
``circuit_breaker.trips`` already render, so no rule writes them: a recording rule never writes
a name an instrument exports (two sources for one series name would collide). Their only
difference from the bot's is the extra ``circuit_breaker_name`` label.
"""

from __future__ import annotations

from dataclasses import replace

from tools import names
from tools.rules.model import Group, Recording, RecordingCase
from tools.rules.promql import SERVICE, series
from tools.rules.trading_inputs import BTC, INSTANCE, KRAKEN, sample

_KRAKEN_LATENCY_MS = {
    "50": names.KRAKEN_LATENCY_P50_MS,
    "95": names.KRAKEN_LATENCY_P95_MS,
    "99": names.KRAKEN_LATENCY_P99_MS,
}


def _quantile_ms(q: str) -> Recording:
    by = f"{SERVICE}, {names.EXCHANGE}, {names.PAIR}, {names.LE}"
    return Recording(
        _KRAKEN_LATENCY_MS[q],
        f"label_replace(\n  histogram_quantile(0.{q}, sum by ({by}) "
        f"(rate({names.FEED_LATENCY}_bucket[1m]))) * 1000,\n"
        f'  "{names.KRAKEN_PAIR}", "$1", "{names.PAIR}", "(.*)"\n)',
        f"crypto-ai-bot: exchange feed latency p{q} in ms per pair (1 m window)",
    )


def _feed_bucket(le: str, values: str) -> tuple[str, str]:
    return (series(f"{names.FEED_LATENCY}_bucket", {**INSTANCE, **BTC, names.LE: le}), values)


# Every message between 10 and 25 ms: p50 = 10 + 15 x 0.5 = 17.5 ms.
_LATENCY_CASE = RecordingCase(
    series=dict(
        [
            _feed_bucket("0.01", "0x10"),
            _feed_bucket("0.025", "0+40x10"),
            _feed_bucket("+Inf", "0+40x10"),
        ]
    ),
    at="2m",
    expect=(sample({**BTC, names.KRAKEN_PAIR: "BTC-USD"}, 17.5),),
)

COMPAT = Group(
    "otelmetrics-crypto-bot-compat",
    "crypto-bot-compat",
    (
        *(
            replace(_quantile_ms(q), cases=(_LATENCY_CASE,) if q == "50" else ())
            for q in ("50", "95", "99")
        ),
        Recording(
            names.KRAKEN_TRADES_PER_MINUTE,
            f"sum by ({SERVICE}, {names.EXCHANGE}) (rate({names.FEED_TRADES}[1m])) * 60",
            "crypto-ai-bot: exchange trades processed per minute (all pairs of a venue)",
            (
                RecordingCase(
                    series={
                        series(names.FEED_TRADES, {**INSTANCE, **BTC}): "0+30x10",
                        series(
                            names.FEED_TRADES, {**INSTANCE, **KRAKEN, names.PAIR: "ETH-USD"}
                        ): "0+15x10",
                    },
                    at="2m",
                    # 20 s steps: the 1 m window's extrapolation factor is exactly 1.5.
                    expect=(sample(KRAKEN, 135.0),),
                    interval="20s",
                ),
            ),
        ),
        Recording(
            names.KRAKEN_RECONNECTS,
            names.FEED_RECONNECTS,
            f"crypto-ai-bot: feed reconnects ({names.FEED_RECONNECTS}, every label kept)",
        ),
        Recording(
            names.KRAKEN_CONNECTION_STATUS,
            names.FEED_STATUS,
            f"crypto-ai-bot: 1 connected, 0 disconnected (a copy of {names.FEED_STATUS})",
        ),
        Recording(
            names.KRAKEN_EVENTS,
            f'label_replace({names.FEED_EVENTS}, "{names.KRAKEN_EVENT_TYPE}", "$1", '
            f'"{names.EXCHANGE_EVENT}", "(.*)")',
            f"crypto-ai-bot: feed events by event_type (a copy of {names.FEED_EVENTS})",
        ),
    ),
    "The crypto-ai-bot's Prometheus names, so its dashboards work unchanged.",
)

GROUPS = (COMPAT,)
