"""The ``otelmetrics`` command: ``otelmetrics demo`` runs the simulated trading service,
``otelmetrics instrument COMMAND ...`` runs a command with its apps instrumented (the
``otelmetrics-instrument`` launcher, :mod:`otelmetrics.launcher.command`)."""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from collections.abc import Sequence
from typing import Any

from otelmetrics.demo.options import DemoOptions, ScheduledScenario
from otelmetrics.demo.scenarios import SCENARIOS

__all__ = ["demo_options", "main"]

DEMO_HELP = """\
scenarios (each bounded; --at and --for apply to the --scenario before them):
""" + "\n".join(f"  {s.name:<18} {s.effect} ({s.duration:g} s)" for s in SCENARIOS.values())


class _Scenario(argparse.Action):
    """``--scenario NAME`` starts an entry; ``--at`` / ``--for`` complete the latest one."""

    def __call__(
        self, parser: argparse.ArgumentParser, ns: argparse.Namespace, value: Any, flag: Any = None
    ) -> None:
        entries: list[dict[str, Any]] = ns.scenarios
        if self.dest == "scenarios":
            entries.append({"name": value})
            return
        if not entries:
            parser.error(f"{flag} applies to a --scenario given before it")
        if self.dest == "at":
            if not value >= 0:
                parser.error(f"{flag} {value:g}: use a number of seconds >= 0")
            entries[-1]["at"] = value
        elif not value > 0:
            parser.error(f"{flag} {value:g}: use a positive number of seconds")
        else:
            entries[-1]["duration"] = value


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen command; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["instrument"]:
        from otelmetrics.launcher.command import main as instrument

        return instrument(args[1:], prog="otelmetrics instrument")
    options = demo_options(args)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    from otelmetrics.demo.service import run

    try:
        return run(options)
    except ValueError as exc:  # a scenario duration or an OTEL_*/OTELMETRICS_* value
        raise SystemExit(f"otelmetrics demo: {exc}") from None


def demo_options(argv: Sequence[str] | None = None) -> DemoOptions:
    """The demo options ``otelmetrics demo ...`` asks for (argparse exits on bad flags)."""
    parser = argparse.ArgumentParser(prog="otelmetrics", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo",
        help="run the simulated trading service",
        description="Run the trading demo: a Flask dashboard with Socket.IO and a FastAPI API "
        "with a websocket price feed, a simulated exchange feed, broker, circuit breaker and "
        "strategy engine, and a load generator, all instrumented with one otelmetrics handle.",
        epilog=DEMO_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _demo_arguments(demo)
    commands.add_parser(
        "instrument",
        help="run COMMAND with every Flask/FastAPI app it creates instrumented",
        add_help=False,
    )
    args = parser.parse_args(argv)
    return DemoOptions(
        host=args.host,
        dashboard_port=args.flask_port,
        api_port=args.api_port,
        seed=args.seed,
        duration=args.duration,
        scenarios=tuple(ScheduledScenario(**entry) for entry in args.scenarios),
        traffic=not args.no_traffic,
    )


def _demo_arguments(demo: argparse.ArgumentParser) -> None:
    add = demo.add_argument
    add("--host", default="127.0.0.1", help="bind address of both apps (default 127.0.0.1)")
    add(
        "--flask-port",
        "--port",
        type=_port,
        default=8050,
        help="dashboard (Flask) port; 0 picks a free one (default 8050)",
    )
    add("--api-port", type=_port, default=8051, help="API (FastAPI) port; 0: free (default 8051)")
    add("--seed", type=int, help="seed of the simulation (default: random, printed)")
    add("--duration", type=_positive, metavar="SECONDS", help="stop by itself after SECONDS")
    add("--no-traffic", action="store_true", help="no built-in load generator")
    demo.set_defaults(scenarios=[])
    add(
        "--scenario",
        dest="scenarios",
        action=_Scenario,
        choices=list(SCENARIOS),
        metavar="NAME",
        help="start scenario NAME (repeatable; see below)",
    )
    add("--at", dest="at", type=float, action=_Scenario, metavar="SECONDS", help="...at SECONDS")
    add(
        "--for",
        dest="scenario_duration",
        type=float,
        action=_Scenario,
        metavar="SECONDS",
        help="...for SECONDS instead of its default duration",
    )


def _positive(raw: str) -> float:
    value = float(raw)
    if not 0 < value <= threading.TIMEOUT_MAX:  # Event.wait overflows beyond it
        raise argparse.ArgumentTypeError(
            f"{raw}: use a positive number of seconds up to {threading.TIMEOUT_MAX:.0f}"
        )
    return value


def _port(raw: str) -> int:
    value = int(raw) if raw.lstrip("-").isdigit() else -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{raw}: use a port from 0 to 65535 (0: a free one)")
    return value
