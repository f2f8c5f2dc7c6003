"""Trading: roll-ups (orders by status, win rate, P&L rate) and the trading alerts.

The alerts on circuit breakers, exchange feeds and the broker are in
:mod:`tools.rules.markets`; the crypto-ai-bot's names in :mod:`tools.rules.crypto_bot`.
"""

from __future__ import annotations

from tools import names
from tools.rules import markets
from tools.rules.model import Alert, AlertCase, Firing, Group, Recording, RecordingCase
from tools.rules.promql import SERVICE, label, new_or_increase
from tools.rules.trading_inputs import ENGINE, instance_series, sample

FAILED = f'{names.ORDERS}{{{names.ORDER_STATUS}=~"rejected|failed"}}'
_TRADE = {names.SYMBOL: "BTC-USD", names.VENUE: "kraken"}
_ORDER = {
    names.SYMBOL: "BTC-USD",
    names.SIDE: "buy",
    names.ORDER_TYPE: "limit",
    names.VENUE: "kraken",
}

ROLLUPS = Group(
    "otelmetrics-trading-recording",
    "trading",
    (
        Recording(
            "service:trading_orders:rate5m",
            f"sum by ({SERVICE}, {names.ORDER_STATUS}) (rate({names.ORDERS}[5m]))",
            "orders per second by status (placed, filled, rejected, failed, cancelled)",
        ),
        Recording(
            "service:trading_order_failures:ratio_rate5m",
            f"(\n  sum by ({SERVICE}) (rate({FAILED}[5m]))\n    or\n"
            f"  sum by ({SERVICE}) (rate({names.ORDERS}[5m])) * 0\n)\n  /\n"
            f"sum by ({SERVICE}) "
            f'(rate({names.ORDERS}{{{names.ORDER_STATUS}="placed"}}[5m]))',
            "rejected + failed orders per placed order",
        ),
        Recording(
            "service:trading_trades:rate5m",
            f"sum by ({SERVICE}, {names.OUTCOME}) (rate({names.TRADES}[5m]))",
            "closed trades per second by outcome (win, loss, breakeven): trade frequency",
        ),
        Recording(
            names.WIN_RATIO_1H,
            f"(\n  sum by ({SERVICE}) (increase({names.TRADES}"
            f'{{{names.OUTCOME}="win"}}[1h]))\n    or\n'
            f"  sum by ({SERVICE}) (increase({names.TRADES}[1h])) * 0\n)\n  /\n"
            f"sum by ({SERVICE}) (increase({names.TRADES}[1h]))",
            "win rate over the last hour, 0..1",
            (
                RecordingCase(
                    series={
                        **instance_series(names.TRADES, {**_TRADE, names.OUTCOME: "win"}, "0+3x20"),
                        **instance_series(
                            names.TRADES, {**_TRADE, names.OUTCOME: "loss"}, "0+1x20"
                        ),
                    },
                    at="5m",
                    expect=(sample({}, 0.75),),
                ),
            ),
        ),
        Recording(
            f"service:{names.PNL_REALIZED}:delta1h",
            f"sum by ({SERVICE}) (delta({names.PNL_REALIZED}[1h]))",
            "realized P&L over the last hour (account currency): the P&L rate per hour",
        ),
    ),
    "Trading roll-ups for dashboards and reports.",
)


def _orders(status: str, values: str) -> dict[str, str]:
    """promtool input: BTC-USD limit buys at kraken with ``status``."""
    return instance_series(names.ORDERS, {**_ORDER, names.ORDER_STATUS: status}, values)


def _order_failures(summary: str) -> tuple[Firing, ...]:
    return (Firing("warning", {**ENGINE, names.VENUE: "kraken"}, summary),)


ORDER_FAILURES = Alert(
    "TradingOrderFailuresHigh",
    "warning",
    f"sum by ({SERVICE}, {names.VENUE}) (\n{new_or_increase(FAILED, '15m')}\n) > 10",
    "1m",
    "more than 10 orders rejected or failed within 15 m (MT5_UI)",
    f"{label(names.SERVICE_NAME)}: {{{{ $value | humanize }}}} orders rejected or failed at "
    f"{label(names.VENUE)} in 15 minutes",
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
            _orders("rejected", "_x4 12x20"),
            at="2m15s",
            firing=_order_failures("engine: 12 orders rejected or failed at kraken in 15 minutes"),
            pending_at="1m30s",
        ),
        AlertCase(
            "an old series grows by 12 (increase, extrapolated to the 15 m window)",
            _orders("failed", "5x80 17x20"),
            at="21m15s",
            firing=_order_failures(
                "engine: 12.2 orders rejected or failed at kraken in 15 minutes"
            ),
        ),
        AlertCase(
            "filled orders do not count",
            _orders("filled", "_x4 50x20"),
            at="2m15s",
        ),
    ),
)
ALERTS = Group(
    "otelmetrics-trading-alerts",
    "trading",
    (
        markets.TRIPPED,
        markets.BREAKER_OPEN,
        markets.FEED_DOWN,
        markets.RECONNECT_STORM,
        markets.FEED_SILENT,
        ORDER_FAILURES,
        markets.BROKER_DOWN,
    ),
    "Circuit breakers, exchange feeds, orders and the broker connection.",
)

GROUPS = (ROLLUPS, ALERTS)
