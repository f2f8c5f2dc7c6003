"""Domain micro-benchmarks: the cost of each trading call, beside the HTTP hot path and the SDK.

Run:  .venv/bin/python bench/domain.py            (about a minute; --quick for a smoke run)

Each ``TradingMetrics`` call (``handle.trading``, as ``configure()`` builds it) is timed with
arguments it has seen before (its attributes resolved, the steady state of an engine), next to:
the foundation's hot path (``HttpServerMetrics.start()`` + ``finish()`` for one request), and
the OpenTelemetry SDK recording the same instruments with the same attributes (pre-built
attribute dicts; one ``Counter.add`` / ``Histogram.record`` per instrument the call updates).
Gauge state (P&L, windows, breakers) has no SDK counterpart and is part of our cost only.

timeit with gc enabled, a warm-up pass, then ``--repeats`` rounds in which every benchmark runs
once in a rotated order; medians, net of the loop. Prints a Markdown table and writes
bench/results/domain.json. A missed target (<= 2 µs per call) is reported, not failed.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import sys
import timeit
from typing import Any

import _common
from _common import markdown, median, rotated

HOT_PATH = "otelmetrics http: start()+finish(), one series"
SDK_COUNTER = "sdk Counter.add (5 attrs, as trading.orders)"
SDK_HISTOGRAM = "sdk Histogram.record (4 attrs, as trading.order.latency)"
ORDER = {
    "trading.symbol": "BTC-USD",
    "trading.side": "buy",
    "trading.order.type": "limit",
    "trading.venue": "kraken",
}
CLOSE = {"trading.symbol": "BTC-USD", "trading.venue": "kraken", "trading.outcome": "win"}
FEED = {"exchange.venue": "kraken", "exchange.pair": "BTC-USD"}
EVENTS = {"exchange.venue": "kraken", "exchange.event.type": "trade"}
SYMBOLS = [f"{base}-USD" for base in ("BTC", "ETH", "SOL", "XRP", "ADA", "DOT", "LTC", "AVAX")]

# name, our statement, the SDK doing the same instrument work (None: no SDK counterpart), calls
BENCHES: list[tuple[str, str, str | None, int]] = [
    ("loop: k = nxt()", "k = nxt()", None, 1_000_000),
    (
        HOT_PATH,
        "http.finish(http.start('GET', 'http'), 'GET', '/hello', 200, 'http', None, None, 5)",
        None,
        200_000,
    ),
    (SDK_COUNTER, "sdk_orders.add(1, PLACED)", None, 20_000),
    (SDK_HISTOGRAM, "sdk_latency.record(0.012, ORDER)", None, 20_000),
    (
        "order_placed",
        "t.order_placed('BTC-USD', 'buy', 'limit', 'kraken')",
        "sdk_orders.add(1, PLACED)",
        200_000,
    ),
    (
        "order_placed, 16 series mix",
        "k = nxt(); t.order_placed(k[0], k[1], 'limit', 'kraken')",
        "k = nxt(); sdk_orders.add(1, k[2])",
        200_000,
    ),
    (
        "order_filled(latency=...)",
        "t.order_filled('BTC-USD', 'buy', 'limit', 'kraken', latency=0.012)",
        "sdk_orders.add(1, FILLED); sdk_latency.record(0.012, ORDER)",
        200_000,
    ),
    (
        "order_latency",
        "t.order_latency(0.012, 'BTC-USD', 'buy', 'limit', 'kraken')",
        "sdk_latency.record(0.012, ORDER)",
        200_000,
    ),
    (
        "position_closed(holding_seconds=...)",
        "t.position_closed('BTC-USD', 12.5, venue='kraken', holding_seconds=340.0)",
        "sdk_pnl.record(12.5, CLOSE); sdk_trades.add(1, CLOSE); sdk_duration.record(340.0, SYMBOL)",
        100_000,
    ),
    (
        "feed_message",
        "t.feed_message('kraken', 'BTC-USD', 0.012)",
        "sdk_feed_latency.record(0.012, FEED); sdk_events.add(1, EVENTS)",
        200_000,
    ),
    (
        "feed_trade",
        "t.feed_trade('kraken', 'BTC-USD')",
        "sdk_feed_trades.add(1, FEED)",
        200_000,
    ),
    ("engine_cycle", "t.engine_cycle(0.25)", "sdk_cycle.record(0.25)", 200_000),
    ("breaker_trip", "t.breaker_trip('kraken-orders')", "sdk_trips.add(1, BREAKER)", 200_000),
    ("broker_failure", "t.broker_failure('mt5')", "sdk_failures.add(1, BROKER)", 200_000),
    ("position_opened (gauge state)", "t.position_opened('BTC-USD')", None, 200_000),
    ("set_unrealized (gauge state)", "t.set_unrealized('BTC-USD', 3.0, 1000.0)", None, 200_000),
    ("breaker_state (gauge state)", "t.breaker_state('kraken-orders', 1)", None, 200_000),
    ("feed_status (gauge state)", "t.feed_status('kraken', True)", None, 200_000),
]
SDK_NUMBER = 10_000  # the SDK is ~10x slower: fewer calls per timing


def build_env() -> dict[str, Any]:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    import otelmetrics

    handle = otelmetrics.configure(exporters=("none",), process_metrics=False, set_global=False)
    provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    meter = provider.get_meter("bench")
    mix = [
        (symbol, side, {**ORDER, "trading.symbol": symbol, "trading.side": side})
        for symbol in SYMBOLS
        for side in ("buy", "sell")
    ]
    placed = [(s, side, {**a, "trading.order.status": "placed"}) for s, side, a in mix]
    env: dict[str, Any] = {
        "t": handle.trading,
        "http": handle.http,
        "nxt": itertools.cycle(placed).__next__,
        "PLACED": {**ORDER, "trading.order.status": "placed"},
        "FILLED": {**ORDER, "trading.order.status": "filled"},
        "ORDER": dict(ORDER),
        "CLOSE": dict(CLOSE),
        "SYMBOL": {"trading.symbol": "BTC-USD"},
        "FEED": dict(FEED),
        "EVENTS": dict(EVENTS),
        "BREAKER": {"circuit_breaker.name": "kraken-orders"},
        "BROKER": {"trading.venue": "mt5"},
        "sdk_orders": meter.create_counter("trading.orders", unit="{order}"),
        "sdk_latency": meter.create_histogram("trading.order.latency", unit="s"),
        "sdk_pnl": meter.create_histogram("trading.trade.pnl", unit="{USD}"),
        "sdk_trades": meter.create_counter("trading.trades", unit="{trade}"),
        "sdk_duration": meter.create_histogram("trading.position.duration", unit="s"),
        "sdk_feed_latency": meter.create_histogram("exchange.feed.latency", unit="s"),
        "sdk_events": meter.create_counter("exchange.feed.events", unit="{event}"),
        "sdk_feed_trades": meter.create_counter("exchange.feed.trades", unit="{trade}"),
        "sdk_cycle": meter.create_histogram("trading.engine.cycle.duration", unit="s"),
        "sdk_trips": meter.create_counter("circuit_breaker.trips", unit="{trip}"),
        "sdk_failures": meter.create_counter("trading.broker.connection.failures"),
        "_keep": (handle, provider),
    }
    for symbol, side, attrs in placed:  # warm: every series of the mix exists before timing
        handle.trading.order_placed(symbol, side, "limit", "kraken")
        env["sdk_orders"].add(1, attrs)
    return env


def _timings(env: dict[str, Any], scale: float) -> dict[str, tuple[timeit.Timer, int, str]]:
    """name -> (timer, calls per timing, baseline subtracted); SDK twins are named 'name/sdk'."""
    timers = {}
    for name, ours, sdk, number in BENCHES:
        base = "loop: k = nxt()" if ours.startswith("k = nxt()") else ""
        timers[name] = (_timer(ours, env), max(100, int(number * scale)), base)
        if sdk is not None:
            timers[name + "/sdk"] = (_timer(sdk, env), max(100, int(SDK_NUMBER * scale)), base)
    return timers


def _timer(stmt: str, env: dict[str, Any]) -> timeit.Timer:
    return timeit.Timer(stmt, setup="gc.enable()", globals={**env, "gc": gc})


def bench(env: dict[str, Any], repeats: int, scale: float) -> list[dict[str, Any]]:
    timers = _timings(env, scale)
    samples: dict[str, list[float]] = {name: [] for name in timers}
    for timer, number, _ in timers.values():  # warm-up
        timer.timeit(max(100, number // 10))
    names = list(timers)
    for turn in range(repeats):
        for name in rotated(names, turn * 3):
            timer, number, _ = timers[name]
            samples[name].append(timer.timeit(number) / number * 1e9)
    medians = {name: median(xs) for name, xs in samples.items()}
    net = {
        name: medians[name] - (medians[base] if base else 0.0)
        for name, (_, _, base) in timers.items()
    }
    hot = net[HOT_PATH]
    rows = []
    for name, ours, sdk, _ in BENCHES:
        row: dict[str, Any] = {
            "name": name,
            "stmt": ours,
            "net_ns": net[name],
            "min_ns": min(samples[name]),
            "max_ns": max(samples[name]),
            "over_hot_path": net[name] / hot,
            "samples_ns": samples[name],
        }
        if sdk is not None:
            row.update(
                sdk_stmt=sdk,
                sdk_ns=net[name + "/sdk"],
                sdk_over_ours=net[name + "/sdk"] / net[name],
            )
        rows.append(row)
    return rows


def print_table(rows: list[dict[str, Any]]) -> bool:
    trading = [r for r in rows if not r["name"].startswith(("loop", "otelmetrics", "sdk"))]
    table = [
        (
            r["name"],
            r["net_ns"],
            f"{r['min_ns']:.0f}-{r['max_ns']:.0f}",
            f"{r['over_hot_path']:.2f}x",
            r.get("sdk_ns", ""),
            f"{r['sdk_over_ours']:.1f}x" if "sdk_over_ours" in r else "",
        )
        for r in rows
        if not r["name"].startswith("loop")
    ]
    headers = ["call", "net ns", "min-max ns", "/ HTTP hot path", "SDK same work ns", "SDK / ours"]
    print(markdown(headers, table))
    worst = max(trading, key=lambda r: r["net_ns"])
    ok = worst["net_ns"] <= 2000
    print(
        f"\ntarget: every trading call <= 2 us: slowest {worst['name']} "
        f"{worst['net_ns'] / 1e3:.2f} us -> {_common.verdict(ok)}"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="smoke run: 1/20 of the calls")
    parser.add_argument("--out", help="JSON results path (default bench/results/domain.json)")
    args = parser.parse_args()
    env_info = _common.environment()
    print(f"# domain.py — {_common.describe(env_info)}\n")
    env = build_env()
    repeats = 3 if args.quick else args.repeats
    rows = bench(env, repeats, 0.05 if args.quick else 1.0)
    print(f"## Trading calls (ns per call, median of {repeats} interleaved rounds)\n")
    ok = print_table(rows)
    env["_keep"][0].shutdown(1.0)
    env["_keep"][1].shutdown()
    out = _common.save(
        "domain",
        {"environment": env_info, "args": vars(args), "rows": rows, "le_2us": ok},
        args.out,
    )
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
