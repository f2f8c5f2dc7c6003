"""Alerts on what the engine trades through: circuit breakers, exchange feeds, the broker."""

from __future__ import annotations

from tools import names
from tools.rules.model import Alert, AlertCase, Firing
from tools.rules.promql import SERVICE, label, new_or_increase
from tools.rules.trading_inputs import ENGINE, INSTANCE, KRAKEN, WHO, instance_series

KRAKEN_BREAKER = {names.BREAKER: "kraken"}
TRIPPED_SUMMARY = "engine: circuit breaker kraken tripped"


def _tripped(title: str, values: str, at: str, *, firing: bool = True) -> AlertCase:
    fired = (Firing("warning", {**ENGINE, **KRAKEN_BREAKER}, TRIPPED_SUMMARY),)
    return AlertCase(
        title,
        instance_series(names.BREAKER_TRIPS, KRAKEN_BREAKER, values),
        at=at,
        firing=fired if firing else (),
    )


TRIPPED = Alert(
    "CircuitBreakerTripped",
    "warning",
    f"sum by ({SERVICE}, {names.BREAKER}) (\n{new_or_increase(names.BREAKER_TRIPS, '1m')}\n) > 0",
    "0s",
    "a circuit breaker's trips rose within the last 60 s (the crypto-ai-bot's banner)",
    f"{label(names.SERVICE_NAME)}: circuit breaker {label(names.BREAKER)} tripped",
    "A circuit breaker opened: the engine stopped calling what it protects (an exchange, the "
    "broker, a strategy) after repeated failures.",
    """\
The condition holds for 60 s after a trip, like the crypto-ai-bot's banner, and the alert keeps
firing 2 minutes more, so a notification goes out even when the warning route waits a minute to
group alerts. On **Trading**,
*Circuit breakers* shows the state timeline (open, half-open, closed) and *Breaker trips*
which breaker. Look at what it protects: exchange feed status and reconnects, broker
connection, order failures, all on the same dashboard. If it keeps tripping,
`CircuitBreakerOpen` follows.""",
    action="find what the breaker protects and why it fails",
    keep_firing_for="2m",
    cases=(
        _tripped("first trip ever (the series appears at 1)", "_x4 1x20", "1m15s"),
        _tripped("a later trip (2 -> 3)", "2x20 3x20", "5m15s"),
        _tripped("kept firing 2 m after the trip's 60 s", "_x4 1x20", "3m45s"),
        _tripped("then it resolves", "_x4 1x20", "4m15s", firing=False),
    ),
)

BREAKER_OPEN = Alert(
    "CircuitBreakerOpen",
    "critical",
    f"{names.BREAKER_STATE} == 1",
    "5m",
    "a circuit breaker is open (not half-open)",
    f"{WHO}: circuit breaker {label(names.BREAKER)} open for 5 minutes",
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
            instance_series(names.BREAKER_STATE, KRAKEN_BREAKER, "1x40"),
            at="6m",
            firing=(
                Firing(
                    "critical",
                    {**INSTANCE, **KRAKEN_BREAKER},
                    "engine i-1: circuit breaker kraken open for 5 minutes",
                ),
            ),
            pending_at="4m45s",
        ),
        AlertCase(
            "half-open (2) is not open",
            instance_series(names.BREAKER_STATE, KRAKEN_BREAKER, "2x40"),
            at="6m",
        ),
    ),
)


def _disconnected(
    name: str,
    metric: str,
    venue: dict[str, str],
    what: str,
    source: str,
    runbook: str,
    action: str,
) -> Alert:
    """A connection status at 0 for 1 m; ``venue`` is the label naming the venue in the cases."""
    ((key, value),) = venue.items()
    return Alert(
        name,
        "critical",
        f"{metric} == 0",
        "1m",
        f"{what} reports disconnected ({source})",
        f"{WHO}: {what} {label(key)} disconnected",
        f"The {what} connection is down: the engine trades blind or cannot trade.",
        runbook,
        action,
        cases=(
            AlertCase(
                "disconnected from 1 m on",
                instance_series(metric, venue, "1x4 0x20"),
                at="2m30s",
                firing=(
                    Firing(
                        "critical",
                        {**INSTANCE, **venue},
                        f"engine i-1: {what} {value} disconnected",
                    ),
                ),
                pending_at="1m45s",
            ),
            AlertCase("connected", instance_series(metric, venue, "1x20"), at="2m30s"),
        ),
    )


FEED_DOWN = _disconnected(
    "ExchangeFeedDisconnected",
    names.FEED_STATUS,
    KRAKEN,
    "exchange feed",
    "crypto-ai-bot",
    """\
No market data: strategies run on stale prices. On **Trading**, *Feed connection* and
*Reconnects* show whether the client is retrying. Check the venue's status page and your
network egress; a feed that connects but drops at once points at an expired API key or a
changed subscription format. Consider pausing strategies on this venue until it is back.""",
    "check the venue's status and your egress; pause its strategies",
)

BROKER_DOWN = _disconnected(
    "BrokerDisconnected",
    names.BROKER_STATUS,
    {names.VENUE: "mt5"},
    "broker",
    "MT5_UI",
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
    f"sum by ({SERVICE}, {names.EXCHANGE}) (\n"
    f"{new_or_increase(names.FEED_RECONNECTS, '15m')}\n) > 5",
    "1m",
    "more than 5 feed reconnects within 15 m (crypto-ai-bot)",
    f"{label(names.SERVICE_NAME)}: {{{{ $value | humanize }}}} reconnects to "
    f"{label(names.EXCHANGE)} in 15 minutes",
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
            instance_series(names.FEED_RECONNECTS, KRAKEN, "_x4 1+1x40"),
            at="3m30s",
            firing=(
                Firing(
                    "warning",
                    {**ENGINE, **KRAKEN},
                    "engine: 11 reconnects to kraken in 15 minutes",
                ),
            ),
            pending_at="2m45s",
        ),
        AlertCase(
            "one reconnect",
            instance_series(names.FEED_RECONNECTS, KRAKEN, "_x4 1x40"),
            at="3m30s",
        ),
    ),
)

_TRADE_EVENTS = {**KRAKEN, names.EXCHANGE_EVENT: "trade"}


def _feed(status: str, events: str) -> dict[str, str]:
    """promtool input: the kraken feed's connection status and its trade events."""
    return {
        **instance_series(names.FEED_STATUS, KRAKEN, status),
        **instance_series(names.FEED_EVENTS, _TRADE_EVENTS, events),
    }


FEED_SILENT = Alert(
    "ExchangeFeedSilent",
    "warning",
    # The events counters did not move for 2 m while the instance is alive and connected: a
    # status sample within the last minute (a dead process's last sample lingers for 5 m).
    f"sum by ({names.JOB}, {names.INSTANCE}, {SERVICE}, {names.INSTANCE_ID}, {names.EXCHANGE}) "
    f"(changes({names.FEED_EVENTS}[2m])) == 0\n"
    f"  and on ({names.JOB}, {names.INSTANCE}, {names.EXCHANGE})\n"
    f"last_over_time({names.FEED_STATUS}[1m]) == 1",
    "2m",
    "a feed reports connected but delivered no event for 2 m",
    f"{WHO}: feed {label(names.EXCHANGE)} connected but silent",
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
            _feed("1x40", "0+10x8 80x32"),
            at="6m",
            firing=(
                Firing(
                    "warning",
                    {**INSTANCE, **KRAKEN},
                    "engine i-1: feed kraken connected but silent",
                ),
            ),
            pending_at="4m30s",
        ),
        AlertCase(
            "a process that died while connected is gone, not silent",
            _feed("1x8", "0+10x8"),
            at="6m",
        ),
        AlertCase(
            "events keep flowing",
            _feed("1x40", "0+10x40"),
            at="6m",
        ),
    ),
)
