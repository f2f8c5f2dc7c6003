"""Trading: roll-ups (orders by status, win rate, P&L rate), seed 003's names, trading alerts.

Seed 003's dashboards read ``kraken_ws_latency_p50_ms{pair=...}`` and friends. The recording
rules below give them those names from our instruments, with a ``pair`` label copied from
``exchange_pair`` and ``event_type`` from ``exchange_event_type``. Two of seed 003's names,
``circuit_breaker_state`` and ``circuit_breaker_trips_total``, are exactly what our
instruments ``circuit_breaker.state`` and ``circuit_breaker.trips`` already render, so no rule
writes them: a recording rule never writes a name an instrument exports (two sources for one
series name would collide). Their only difference from the seed is the extra
``circuit_breaker_name`` label.
"""

from __future__ import annotations

from dataclasses import replace

from tools.rules.model import (
    Alert,
    AlertCase,
    Firing,
    Group,
    Recording,
    RecordingCase,
    Sample,
)
from tools.rules.promql import new_or_increase

SVC = "deployment_environment_name, service_name"
FAILED = 'trading_orders_total{trading_order_status=~"rejected|failed"}'

_ID = (
    'job="engine", instance="i-1", service_name="engine", service_instance_id="i-1", '
    'deployment_environment_name="prod"'
)
INSTANCE = {
    "job": "engine",
    "instance": "i-1",
    "service_name": "engine",
    "service_instance_id": "i-1",
    "deployment_environment_name": "prod",
}
SERVICE = {"deployment_environment_name": "prod", "service_name": "engine"}
_SVC_SAMPLE = '{deployment_environment_name="prod", service_name="engine"'


def _quantile_ms(q: str) -> Recording:
    return Recording(
        f"kraken_ws_latency_p{q}_ms",
        f"label_replace(\n  histogram_quantile(0.{q}, sum by ({SVC}, exchange_venue, "
        f"exchange_pair, le) (rate(exchange_feed_latency_seconds_bucket[1m]))) * 1000,\n"
        f'  "pair", "$1", "exchange_pair", "(.*)"\n)',
        f"seed 003: exchange feed latency p{q} in ms per pair (1 m window)",
    )


def _feed_bucket(le: str, values: str) -> tuple[str, str]:
    labels = f'{_ID}, exchange_venue="kraken", exchange_pair="BTC-USD", le="{le}"'
    return (f"exchange_feed_latency_seconds_bucket{{{labels}}}", values)


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
    expect=(
        Sample(
            f'{_SVC_SAMPLE}, exchange_venue="kraken", exchange_pair="BTC-USD", pair="BTC-USD"}}',
            17.5,
        ),
    ),
)

SEED_003 = Group(
    "otelmetrics-seed-003-compat",
    "seed-003-compat",
    (
        *(
            replace(_quantile_ms(q), cases=(_LATENCY_CASE,) if q == "50" else ())
            for q in ("50", "95", "99")
        ),
        Recording(
            "kraken_trades_per_minute",
            f"sum by ({SVC}, exchange_venue) (rate(exchange_feed_trades_total[1m])) * 60",
            "seed 003: exchange trades processed per minute (all pairs of a venue)",
            (
                RecordingCase(
                    series={
                        f'exchange_feed_trades_total{{{_ID}, exchange_venue="kraken", '
                        f'exchange_pair="BTC-USD"}}': "0+30x10",
                        f'exchange_feed_trades_total{{{_ID}, exchange_venue="kraken", '
                        f'exchange_pair="ETH-USD"}}': "0+15x10",
                    },
                    at="2m",
                    # 20 s steps: the 1 m window's extrapolation factor is exactly 1.5.
                    expect=(Sample(f'{_SVC_SAMPLE}, exchange_venue="kraken"}}', 135.0),),
                    interval="20s",
                ),
            ),
        ),
        Recording(
            "kraken_ws_reconnects_total",
            "exchange_feed_reconnects_total",
            "seed 003: feed reconnects (exchange_feed_reconnects_total, every label kept)",
        ),
        Recording(
            "kraken_ws_connection_status",
            "exchange_feed_connection_status",
            "seed 003: 1 connected, 0 disconnected (a copy of exchange_feed_connection_status)",
        ),
        Recording(
            "kraken_events_processed_total",
            'label_replace(exchange_feed_events_total, "event_type", "$1", '
            '"exchange_event_type", "(.*)")',
            "seed 003: feed events by event_type (a copy of exchange_feed_events_total)",
        ),
    ),
    "Seed 003's Prometheus names, so its dashboards work unchanged.",
)

ROLLUPS = Group(
    "otelmetrics-trading-recording",
    "trading",
    (
        Recording(
            "service:trading_orders:rate5m",
            f"sum by ({SVC}, trading_order_status) (rate(trading_orders_total[5m]))",
            "orders per second by status (placed, filled, rejected, failed, cancelled)",
        ),
        Recording(
            "service:trading_order_failures:ratio_rate5m",
            f"(\n  sum by ({SVC}) (rate({FAILED}[5m]))\n    or\n"
            f"  sum by ({SVC}) (rate(trading_orders_total[5m])) * 0\n)\n  /\n"
            f'sum by ({SVC}) (rate(trading_orders_total{{trading_order_status="placed"}}[5m]))',
            "rejected + failed orders per placed order",
        ),
        Recording(
            "service:trading_trades:rate5m",
            f"sum by ({SVC}, trading_outcome) (rate(trading_trades_total[5m]))",
            "closed trades per second by outcome (win, loss, breakeven): trade frequency",
        ),
        Recording(
            "service:trading_win:ratio_increase1h",
            f"(\n  sum by ({SVC}) (increase(trading_trades_total"
            f'{{trading_outcome="win"}}[1h]))\n    or\n'
            f"  sum by ({SVC}) (increase(trading_trades_total[1h])) * 0\n)\n  /\n"
            f"sum by ({SVC}) (increase(trading_trades_total[1h]))",
            "win rate over the last hour, 0..1",
            (
                RecordingCase(
                    series={
                        f'trading_trades_total{{{_ID}, trading_symbol="BTC-USD", '
                        f'trading_venue="kraken", trading_outcome="win"}}': "0+3x20",
                        f'trading_trades_total{{{_ID}, trading_symbol="BTC-USD", '
                        f'trading_venue="kraken", trading_outcome="loss"}}': "0+1x20",
                    },
                    at="5m",
                    expect=(Sample(f"{_SVC_SAMPLE}}}", 0.75),),
                ),
            ),
        ),
        Recording(
            "service:trading_pnl_realized:delta1h",
            f"sum by ({SVC}) (delta(trading_pnl_realized[1h]))",
            "realized P&L over the last hour (account currency): the P&L rate per hour",
        ),
    ),
    "Trading roll-ups for dashboards and reports.",
)


def _status_series(metric: str, label: str, values: str) -> dict[str, str]:
    return {f"{metric}{{{_ID}, {label}}}": values}


TRIPPED = Alert(
    "CircuitBreakerTripped",
    "warning",
    f"sum by ({SVC}, circuit_breaker_name) (\n"
    f"{new_or_increase('circuit_breaker_trips_total', '1m')}\n) > 0",
    "0s",
    "a circuit breaker's trips rose within the last 60 s (seed 003's banner)",
    "{{ $labels.service_name }}: circuit breaker {{ $labels.circuit_breaker_name }} tripped",
    "A circuit breaker opened: the engine stopped calling what it protects (an exchange, the "
    "broker, a strategy) after repeated failures.",
    """\
The condition holds for 60 s after a trip, like seed 003's banner, and the alert keeps firing
2 minutes more, so a notification goes out even when the warning route waits a minute to
group alerts. On **Trading**,
*Circuit breakers* shows the state timeline (open, half-open, closed) and *Breaker trips*
which breaker. Look at what it protects: exchange feed status and reconnects, broker
connection, order failures, all on the same dashboard. If it keeps tripping,
`CircuitBreakerOpen` follows.""",
    action="find what the breaker protects and why it fails",
    keep_firing_for="2m",
    cases=(
        AlertCase(
            "first trip ever (the series appears at 1)",
            _status_series(
                "circuit_breaker_trips_total", 'circuit_breaker_name="kraken"', "_x4 1x20"
            ),
            at="1m15s",
            firing=(
                Firing(
                    "warning",
                    {**SERVICE, "circuit_breaker_name": "kraken"},
                    "engine: circuit breaker kraken tripped",
                ),
            ),
        ),
        AlertCase(
            "a later trip (2 -> 3)",
            _status_series(
                "circuit_breaker_trips_total", 'circuit_breaker_name="kraken"', "2x20 3x20"
            ),
            at="5m15s",
            firing=(
                Firing(
                    "warning",
                    {**SERVICE, "circuit_breaker_name": "kraken"},
                    "engine: circuit breaker kraken tripped",
                ),
            ),
        ),
        AlertCase(
            "kept firing 2 m after the trip's 60 s",
            _status_series(
                "circuit_breaker_trips_total", 'circuit_breaker_name="kraken"', "_x4 1x20"
            ),
            at="3m45s",
            firing=(
                Firing(
                    "warning",
                    {**SERVICE, "circuit_breaker_name": "kraken"},
                    "engine: circuit breaker kraken tripped",
                ),
            ),
        ),
        AlertCase(
            "then it resolves",
            _status_series(
                "circuit_breaker_trips_total", 'circuit_breaker_name="kraken"', "_x4 1x20"
            ),
            at="4m15s",
        ),
    ),
)

BREAKER_OPEN = Alert(
    "CircuitBreakerOpen",
    "critical",
    "circuit_breaker_state == 1",
    "5m",
    "a circuit breaker is open (not half-open)",
    "{{ $labels.service_name }} {{ $labels.service_instance_id }}: circuit breaker "
    "{{ $labels.circuit_breaker_name }} open for 5 minutes",
    "The breaker does not recover: every half-open probe fails, so the engine cannot trade "
    "through what it protects.",
    """\
The protected dependency is still failing. Find which on **Trading** (breaker name, then
feed status, broker connection, order failures) and fix or fail over that dependency. Do not
force the breaker closed while the dependency fails: it exists to stop the engine from
sending orders into a broken venue.""",
    action="fix or fail over the protected dependency",
    cases=(
        AlertCase(
            "open for 6 m",
            _status_series("circuit_breaker_state", 'circuit_breaker_name="kraken"', "1x40"),
            at="6m",
            firing=(
                Firing(
                    "critical",
                    {**INSTANCE, "circuit_breaker_name": "kraken"},
                    "engine i-1: circuit breaker kraken open for 5 minutes",
                ),
            ),
            pending_at="4m45s",
        ),
        AlertCase(
            "half-open (2) is not open",
            _status_series("circuit_breaker_state", 'circuit_breaker_name="kraken"', "2x40"),
            at="6m",
        ),
    ),
)


def _disconnected(
    name: str, metric: str, label: str, what: str, runbook: str, action: str
) -> Alert:
    key, _, value = label.partition("=")
    labels = {**INSTANCE, key: value.strip('"')}
    return Alert(
        name,
        "critical",
        f"{metric} == 0",
        "1m",
        f"{what} reports disconnected (seed {'003' if 'exchange' in metric else '004'})",
        f"{{{{ $labels.service_name }}}} {{{{ $labels.service_instance_id }}}}: {what} "
        f"{{{{ $labels.{key} }}}} disconnected",
        f"The {what} connection is down: the engine trades blind or cannot trade.",
        runbook,
        action,
        cases=(
            AlertCase(
                "disconnected from 1 m on",
                _status_series(metric, label, "1x4 0x20"),
                at="2m30s",
                firing=(
                    Firing(
                        "critical",
                        labels,
                        f"engine i-1: {what} {value.strip(chr(34))} disconnected",
                    ),
                ),
                pending_at="1m45s",
            ),
            AlertCase("connected", _status_series(metric, label, "1x20"), at="2m30s"),
        ),
    )


FEED_DOWN = _disconnected(
    "ExchangeFeedDisconnected",
    "exchange_feed_connection_status",
    'exchange_venue="kraken"',
    "exchange feed",
    """\
No market data: strategies run on stale prices. On **Trading**, *Feed connection* and
*Reconnects* show whether the client is retrying. Check the venue's status page and your
network egress; a feed that connects but drops at once points at an expired API key or a
changed subscription format. Consider pausing strategies on this venue until it is back.""",
    "check the venue's status and your egress; pause its strategies",
)

BROKER_DOWN = _disconnected(
    "BrokerDisconnected",
    "trading_broker_connection_status",
    'trading_venue="mt5"',
    "broker",
    """\
Orders cannot be sent or managed: open positions are unmanaged. Check the broker terminal or
gateway (running, logged in), its credentials, and *Broker connection failures* on
**Trading**. Until it is back, manage open positions by hand through the broker's own
interface.""",
    "bring the broker gateway back; manage open positions by hand",
)

RECONNECT_STORM = Alert(
    "ExchangeFeedReconnectStorm",
    "warning",
    f"sum by ({SVC}, exchange_venue) (\n"
    f"{new_or_increase('exchange_feed_reconnects_total', '15m')}\n) > 5",
    "1m",
    "more than 5 feed reconnects within 15 m (seed 003)",
    "{{ $labels.service_name }}: {{ $value | humanize }} reconnects to "
    "{{ $labels.exchange_venue }} in 15 minutes",
    "The exchange feed keeps dropping and reconnecting: gaps in market data, and a risk of "
    "being rate-limited by the venue.",
    """\
Each reconnect is a gap in market data. On **Trading**, compare *Reconnects* with *Feed
latency*: rising latency before each drop means the client falls behind (CPU on **Process**,
too many subscriptions); drops without it mean the venue or the network closes the socket.
Back off reconnects exponentially so the venue does not ban the API key.""",
    action="find who drops the socket; back off reconnects",
    cases=(
        AlertCase(
            "a reconnect every 15 s from 1 m on",
            _status_series(
                "exchange_feed_reconnects_total", 'exchange_venue="kraken"', "_x4 1+1x40"
            ),
            at="3m30s",
            firing=(
                Firing(
                    "warning",
                    {**SERVICE, "exchange_venue": "kraken"},
                    "engine: 11 reconnects to kraken in 15 minutes",
                ),
            ),
            pending_at="2m45s",
        ),
        AlertCase(
            "one reconnect",
            _status_series("exchange_feed_reconnects_total", 'exchange_venue="kraken"', "_x4 1x40"),
            at="3m30s",
        ),
    ),
)

FEED_SILENT = Alert(
    "ExchangeFeedSilent",
    "warning",
    # The events counters did not move for 2 m while the instance is alive and connected: a
    # status sample within the last minute (a dead process's last sample lingers for 5 m).
    f"sum by (job, instance, {SVC}, service_instance_id, exchange_venue) "
    "(changes(exchange_feed_events_total[2m])) == 0\n"
    "  and on (job, instance, exchange_venue)\n"
    "last_over_time(exchange_feed_connection_status[1m]) == 1",
    "2m",
    "a feed reports connected but delivered no event for 2 m",
    "{{ $labels.service_name }} {{ $labels.service_instance_id }}: feed "
    "{{ $labels.exchange_venue }} connected but silent",
    "The socket is up but no market data arrives: a dead subscription or a half-open "
    "connection the client has not noticed.",
    """\
A connected but silent feed is worse than a disconnected one: nothing reconnects it. On
**Trading**, *Events per second* by type shows what stopped. Restart the feed client (or the
engine), and add an application-level heartbeat timeout to the client so it reconnects by
itself next time.""",
    action="restart the feed client; add a heartbeat timeout",
    cases=(
        AlertCase(
            "events stop at 2 m while the status stays connected",
            {
                **_status_series(
                    "exchange_feed_connection_status", 'exchange_venue="kraken"', "1x40"
                ),
                **_status_series(
                    "exchange_feed_events_total",
                    'exchange_venue="kraken", exchange_event_type="trade"',
                    "0+10x8 80x32",
                ),
            },
            at="6m",
            firing=(
                Firing(
                    "warning",
                    {**INSTANCE, "exchange_venue": "kraken"},
                    "engine i-1: feed kraken connected but silent",
                ),
            ),
            pending_at="4m30s",
        ),
        AlertCase(
            "a process that died while connected is gone, not silent",
            {
                **_status_series(
                    "exchange_feed_connection_status", 'exchange_venue="kraken"', "1x8"
                ),
                **_status_series(
                    "exchange_feed_events_total",
                    'exchange_venue="kraken", exchange_event_type="trade"',
                    "0+10x8",
                ),
            },
            at="6m",
        ),
        AlertCase(
            "events keep flowing",
            {
                **_status_series(
                    "exchange_feed_connection_status", 'exchange_venue="kraken"', "1x40"
                ),
                **_status_series(
                    "exchange_feed_events_total",
                    'exchange_venue="kraken", exchange_event_type="trade"',
                    "0+10x40",
                ),
            },
            at="6m",
        ),
    ),
)

ORDER_FAILURES = Alert(
    "TradingOrderFailuresHigh",
    "warning",
    f"sum by ({SVC}, trading_venue) (\n{new_or_increase(FAILED, '15m')}\n) > 10",
    "1m",
    "more than 10 orders rejected or failed within 15 m (seed 004)",
    "{{ $labels.service_name }}: {{ $value | humanize }} orders rejected or failed at "
    "{{ $labels.trading_venue }} in 15 minutes",
    "Orders are being rejected or failing in numbers: the strategy is not executing.",
    """\
On **Trading**, *Orders by status* shows rejected vs failed. Rejections come from the venue
(insufficient margin, invalid size or price, market closed, rate limit): read the reject
reasons in the engine's log. Failures are ours (timeouts, broker disconnected): check
`BrokerDisconnected` and the broker connection panel. A storm from one symbol usually means a
bad parameter in that strategy: pause it.""",
    action="read the reject reasons; pause the failing strategy",
    cases=(
        AlertCase(
            "12 rejections at once (the series is new)",
            _status_series(
                "trading_orders_total",
                'trading_symbol="BTC-USD", trading_side="buy", trading_order_type="limit", '
                'trading_venue="kraken", trading_order_status="rejected"',
                "_x4 12x20",
            ),
            at="2m15s",
            firing=(
                Firing(
                    "warning",
                    {**SERVICE, "trading_venue": "kraken"},
                    "engine: 12 orders rejected or failed at kraken in 15 minutes",
                ),
            ),
            pending_at="1m30s",
        ),
        AlertCase(
            "an old series grows by 12 (increase, extrapolated to the 15 m window)",
            _status_series(
                "trading_orders_total",
                'trading_symbol="BTC-USD", trading_side="buy", trading_order_type="limit", '
                'trading_venue="kraken", trading_order_status="failed"',
                "5x80 17x20",
            ),
            at="21m15s",
            firing=(
                Firing(
                    "warning",
                    {**SERVICE, "trading_venue": "kraken"},
                    "engine: 12.2 orders rejected or failed at kraken in 15 minutes",
                ),
            ),
        ),
        AlertCase(
            "filled orders do not count",
            _status_series(
                "trading_orders_total",
                'trading_symbol="BTC-USD", trading_side="buy", trading_order_type="limit", '
                'trading_venue="kraken", trading_order_status="filled"',
                "_x4 50x20",
            ),
            at="2m15s",
        ),
    ),
)

ALERTS = Group(
    "otelmetrics-trading-alerts",
    "trading",
    (TRIPPED, BREAKER_OPEN, FEED_DOWN, RECONNECT_STORM, FEED_SILENT, ORDER_FAILURES, BROKER_DOWN),
    "Circuit breakers, exchange feeds, orders and the broker connection.",
)

GROUPS = (ROLLUPS, ALERTS, SEED_003)
